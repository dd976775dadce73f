#!/usr/bin/python3
"""Proves, from test_forged.sh's capture, that no event names the forged pid and that forged and overrun losses are counted apart: prints their counts.

usage: forged_check.py CAPTURE FAKE_PID MARKER
"""
import json, sys
path, fake, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
about_fake = forged = overrun = biggest = stats_forged = 0
markers = set()
for line in open(path):
    d = json.loads(line)
    a = d["event"]["action"]
    h = d.get("hids", {})
    if a == "lost":
        biggest = max(biggest, h["lost"])
        if h["reason"] == "forged":
            forged += h["lost"]
        elif h["reason"] == "kernel_overrun" and "after" in markers:
            overrun += h["lost"]    # the storm's, not the forged jump's
        continue
    if a == "heartbeat":
        stats_forged = h["stats"].get("forged", 0)
        continue
    p = d.get("process", {})
    if p.get("pid") == fake or p.get("parent", {}).get("pid") == fake:
        about_fake += 1
    args = p.get("args") or []
    if a == "exec":
        markers.update(x[len(marker):] for x in args[1:] if x.startswith(marker))
print(about_fake, forged, stats_forged, overrun, biggest, ",".join(sorted(markers)) or "-")

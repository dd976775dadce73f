#!/usr/bin/python3
"""Proves, from test_bigargv.sh's capture, how huge argvs are reported (cut, count exact or a marked lower bound) and that the marker after them arrives: prints the counts.

usage: bigargv_check.py CAPTURE MARKER REAL_ARGS_COUNT
"""
import json, sys
path, marker, real = sys.argv[1], sys.argv[2], int(sys.argv[3])
huge = partial = lower = exact = gone = after = demotions = 0
for line in open(path):
    d = json.loads(line)
    a = d["event"]["action"]
    h = d.get("hids", {})
    if a == "heartbeat":
        demotions = h["stats"].get("rt_demotions", -1)
    if a != "exec":
        continue
    p = d.get("process", {})
    args = p.get("args") or []
    if len(args) >= 2 and args[1] == "hold" and args[0].endswith("bigargv"):
        huge += 1
        partial += bool(h.get("args_count_partial") and h.get("args_truncated"))
        lower += 2 <= p.get("args_count", 0) < real
        exact += p.get("args_count") == real and not h.get("args_count_partial")
    elif h.get("proc_gone") and p.get("name") == "bigargv":
        gone += 1
    if args == ["/bin/true", marker, "x y"]:
        after += 1
print(huge, partial, lower, exact, gone, after, demotions)

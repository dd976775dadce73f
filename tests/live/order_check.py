#!/usr/bin/python3
"""Proves, from test_order.sh's capture, that each spawned process has fork, exec and end in that order with its exact args: prints the counts.

One life per fork of ours, not per pid, since pids wrap on a busy host;
the last count says how many pids our own processes reused.

usage: order_check.py CAPTURE MARKER SPAWNER_PIDS
"""
import json, sys
path, marker, parents = sys.argv[1], sys.argv[2], {int(p) for p in sys.argv[3].split()}
# One entry per fork of ours, not per pid: on a busy host the pids wrap
# within a run and our processes reuse each other's pids.
lives, cur, lost = [], {}, 0
for line in open(path):
    d = json.loads(line)
    a = d["event"]["action"]
    if a == "lost":
        lost += 1
        continue
    if a not in ("fork", "exec", "end"):
        continue
    pid = d["process"]["pid"]
    if a == "fork" and d["process"].get("parent", {}).get("pid") in parents:
        cur[pid] = len(lives)    # one of ours: a new life of this pid starts
        lives.append((pid, []))
    if pid in cur:
        evs = lives[cur[pid]][1]
        if not evs or evs[-1][0] != "end":
            evs.append((a, d))
ordered = exact = gone = 0
for pid, evs in lives:
    acts = [a for a, _ in evs]
    if acts == ["fork", "exec", "end"]:
        ordered += 1
    else:
        print("pid", pid, acts, file=sys.stderr)
    for a, d in evs:
        if a != "exec":
            continue
        args = d["process"].get("args") or []
        if len(args) == 3 and args[0] == "/bin/true" and args[1].startswith(marker) and \
                args[2] == "x y":
            exact += 1
        elif d.get("hids", {}).get("proc_gone"):
            gone += 1
        else:
            print("pid", pid, "args", d["process"].get("args"), file=sys.stderr)
print(len(lives), ordered, exact, gone, lost, len(lives) - len(cur))

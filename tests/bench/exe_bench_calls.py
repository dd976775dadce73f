#!/usr/bin/python3
"""Helper of exe_bench.sh: counts the capture thread's /proc calls (from its strace) on the processes whose exec it wrote with argv, and prints one markdown row: calls per exec, by call and file.

usage: exe_bench_calls.py CONFIG_NAME STRACE_FILE AGENT_OUTPUT MARKER
"""
import collections, json, re, sys
name, st, out, mark = sys.argv[1:]
pids = set()
for l in open(out):
    if mark in l:
        d = json.loads(l)
        if d["event"]["action"] == "exec" and not d.get("hids", {}).get("proc_gone"):
            pids.add(d["process"]["pid"])
calls = collections.Counter()
for l in open(st):
    m = re.match(r'(\w+)\((?:\d+, )?"(?:/proc/)?(\d+)/(\w+)"', l)
    if m and int(m.group(2)) in pids:
        calls["%s %s" % (m.group(1), m.group(3))] += 1
n = max(len(pids), 1)
top = ", ".join("%s %.2f" % (k, v / n) for k, v in sorted(calls.items(), key=lambda kv: -kv[1]))
print("| %s | %d | %.2f | %s |" % (name, len(pids), sum(calls.values()) / n, top))

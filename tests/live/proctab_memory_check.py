#!/usr/bin/python3
"""Proves, from test_proctab_memory.sh's capture, that the process table stays within table_max_bytes, counts its budget evictions and flags cut paths: prints one ok/bad line per check.

usage: proctab_memory_check.py CAPTURE LAST_PID BUDGET_BYTES
"""
import json, sys
path, last, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
beats, ex = [], None
for l in open(path):
    d = json.loads(l)
    a = d["event"]["action"]
    if a == "heartbeat":
        beats.append(d["hids"]["stats"])
    elif a == "end" and d.get("process", {}).get("pid") == last:
        ex = d
s = beats[-1]
print("ok" if s["proctab_bytes"] <= budget else "bad", "table bytes", s["proctab_bytes"], "within the budget")
print("ok" if s["proctab_budget_evictions"] > 0 else "bad", "budget evictions counted:", s["proctab_budget_evictions"])
print("ok" if s["proctab_evictions"] >= s["proctab_budget_evictions"] else "bad", "evictions include them")
cut = ex.get("hids", {}).get("path_truncated", []) if ex else []
print("ok" if ex is not None else "bad", "the last sleeper's exit is reported")
print("ok" if "process.executable" in cut and "process.working_directory" in cut else "bad",
      "its cut paths are flagged:", cut)
print("ok" if ex and len(ex["process"].get("executable", "")) == 1024 else "bad",
      "its executable is cut to table_path_bytes")

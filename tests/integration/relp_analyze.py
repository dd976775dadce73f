#!/usr/bin/python3
"""Helper of the RELP and spool tests: analyzes a received file (loss, duplicates, order, sequence gaps, markers) and prints one JSON object; tests/lib/relp.sh's relp_analyze documents its keys.

usage: relp_analyze.py FILE [MARKER:FIRST:LAST ...]
"""
import json, re, sys
path, ranges = sys.argv[1], sys.argv[2:]
specs = []
for r in ranges:
    m, a, b = r.rsplit(":", 2)
    specs.append((m, int(a), int(b)))
res = {"lines": 0, "bad": 0, "ids": 0, "dup_lines": 0, "dup_ids": 0, "noid": 0,
       "runs": 0, "proc_gone_execs": 0, "order_violations": 0, "first_violation": None,
       "lost": {}, "lost_records": {}, "hb": {}, "markers": {}}
seen = {}
last_seq = {}
run_seqs = {}
marks = {m: {} for m, _, _ in specs}
pat = {m: re.compile(re.escape(m) + r"-(\d+)$") for m, _, _ in specs}
with open(path, "rb") as f:
    for raw in f:
        raw = raw.rstrip(b"\n")
        if not raw:
            continue
        res["lines"] += 1
        try:
            o = json.loads(raw)
            if not isinstance(o, dict):
                raise ValueError
        except Exception:
            res["bad"] += 1
            continue
        ev = o.get("event") or {}
        eid = ev.get("id")
        if eid is None:
            res["noid"] += 1
            continue
        if eid in seen:
            seen[eid] += 1
            res["dup_lines"] += 1
            continue
        seen[eid] = 1
        run = (o.get("agent") or {}).get("ephemeral_id")
        seq = ev.get("sequence")
        if isinstance(seq, int):
            run_seqs.setdefault(run, set()).add(seq)
            if run in last_seq and seq <= last_seq[run]:
                res["order_violations"] += 1
                if res["first_violation"] is None:
                    res["first_violation"] = "%s: sequence %d after %d" % (run, seq, last_seq[run])
            last_seq[run] = max(seq, last_seq.get(run, seq))
        h = o.get("hids") or {}
        act = ev.get("action")
        if act == "lost":
            r = h.get("reason", "?")
            res["lost"][r] = res["lost"].get(r, 0) + int(h.get("lost", 0) or 0)
            res["lost_records"][r] = res["lost_records"].get(r, 0) + 1
        elif act == "heartbeat":
            for k, v in (h.get("stats") or {}).items():
                if isinstance(v, bool):
                    v = int(v)
                if isinstance(v, (int, float)):
                    res["hb"][k] = max(res["hb"].get(k, v), v)
        elif act == "exec":
            args = (o.get("process") or {}).get("args") or []
            if h.get("proc_gone"):
                res["proc_gone_execs"] += 1
            if len(args) == 2:
                for m in marks:
                    mm = pat[m].match(args[1])
                    if mm:
                        i = int(mm.group(1))
                        marks[m][i] = marks[m].get(i, 0) + 1
res["ids"] = len(seen)
res["dup_ids"] = sum(1 for v in seen.values() if v > 1)
res["runs"] = len(last_seq)
res["run_detail"] = {}
res["gaps"] = 0
res["missing_seq"] = 0
res["seq_min_max"] = 0
for run, ss in run_seqs.items():
    lo, hi = min(ss), max(ss)
    g = hi - lo + 1 - len(ss)
    res["run_detail"][run] = {"first": lo, "last": hi, "count": len(ss), "gaps": g}
    res["gaps"] += g
    res["missing_seq"] += hi - len(ss)
    res["seq_min_max"] = max(res["seq_min_max"], lo)
for m, a, b in specs:
    got = marks[m]
    want = range(a, b + 1)
    missing = [i for i in want if i not in got]
    res["markers"][m] = {
        "expected": b - a + 1 if b >= a else 0,
        "found": sum(1 for i in want if i in got),
        "missing": len(missing),
        "missing_list": missing[:20],
        "multi": sum(1 for i in want if got.get(i, 0) > 1),
        "first_found": min(got) if got else None,
        "last_found": max(got) if got else None,
    }
print(json.dumps(res))

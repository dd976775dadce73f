#!/usr/bin/python3
"""Helper of forward.sh: scores one run, and prints the final table.

  forward_analyze.py score --mode stdout|forward --out FILE --err FILE
                           --pids DIR --target PATH --runid ID [--meta K=V ...]
      print one JSON object (the run's scores) on standard output. In
      forward mode FILE is rsyslog's, one "RECEIVED-TIME JSON" per line.
  forward_analyze.py table RESULTS.jsonl
      print the markdown table of medians, the details and the target
      check; exit 1 if the agent missed a target

The event counting and argv check are analyze.py's (score_agent), so both
benchmarks count the same way. Standard library only.
"""
import argparse
import calendar
import json
import math
import os
import re
import sys
import tempfile
from collections import defaultdict

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402

MODES = ("stdout", "forward")
STORM_ACTIONS = ("fork", "exec", "end")
LAT_P99_MS = 250.0
CPU_FACTOR = 1.5

TS_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def ts_ns(s):
    """RFC 3339 time to ns since the epoch (exact; no float rounding)."""
    m = TS_RE.match(s)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % s)
    y, mo, d, h, mi, sec = (int(x) for x in m.group(1, 2, 3, 4, 5, 6))
    frac = int((m.group(7) or "").ljust(9, "0"))
    t = calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0)) * 10**9 + frac
    z = m.group(8)
    if z != "Z":
        off = (int(z[1:3]) * 60 + int(z[4:6])) * 60 * 10**9
        t -= off if z[0] == "+" else -off
    return t


def pct(sorted_vals, p):
    """Nearest-rank percentile of a sorted list."""
    if not sorted_vals:
        return None
    k = max(0, math.ceil(p / 100.0 * len(sorted_vals)) - 1)
    return sorted_vals[k]


def strip_received(path, spawns, ndjson):
    """Splits rsyslog's lines into the agent's JSON (written to ndjson) and
    the storm events' latencies; returns a dict of figures."""
    lat = defaultdict(list)          # action -> [ms]
    first = set()
    bad_prefix = 0
    last_stats = None
    with open(path, "rb") as f, open(ndjson, "wb") as out:
        for raw in f:
            head, sep, body = raw.partition(b" ")
            try:
                rcv = ts_ns(head.decode())
            except (ValueError, UnicodeDecodeError):
                bad_prefix += 1
                continue
            out.write(body if body.endswith(b"\n") else body + b"\n")
            try:
                o = json.loads(body)
            except ValueError:
                continue
            act = o.get("event", {}).get("action")
            if act == "heartbeat" and "stats" in o.get("hids", {}):
                last_stats = o["hids"]["stats"]
                continue
            if act not in STORM_ACTIONS:
                continue
            pid = o.get("process", {}).get("pid")
            if pid not in spawns or (act, pid) in first:
                continue
            first.add((act, pid))
            try:
                lat[act].append((rcv - ts_ns(o["@timestamp"])) / 1e6)
            except (KeyError, ValueError):
                bad_prefix += 1
    allv = sorted(v for vs in lat.values() for v in vs)
    res = {
        "lat_n": len(allv),
        "lat_min": allv[0] if allv else None,
        "lat_p50": pct(allv, 50),
        "lat_p99": pct(allv, 99),
        "lat_max": allv[-1] if allv else None,
        "lat_p50_by_action": {a: pct(sorted(v), 50) for a, v in lat.items()},
        "lat_p99_by_action": {a: pct(sorted(v), 99) for a, v in lat.items()},
        "bad_prefix": bad_prefix,
    }
    st = last_stats or {}
    for k in ("events_sent", "events_dropped", "reconnects", "queue_bytes", "relp_errors"):
        res[k] = st.get(k)
    return res


def score(a):
    spawns = analyze.load_spawns(a.pids)
    extra = {}
    tmp = None
    if a.mode == "forward":
        fd, tmp = tempfile.mkstemp(prefix="received.", suffix=".ndjson",
                                   dir=os.path.dirname(os.path.abspath(a.out)))
        os.close(fd)
        extra = strip_received(a.out, spawns, tmp)
        a.out = tmp
    try:
        r = analyze.score_agent(a)
    finally:
        if tmp:
            os.unlink(tmp)
    r.update(extra)
    r["mode"] = a.mode
    r.update(analyze.parse_meta(a.meta))
    return r


def parse_threads(v):
    """{tid: (run_ns, policy, csw, wait_ns)} from a sample's thread list."""
    out = {}
    for item in str(v or "").split(","):
        f = item.split(":")
        if len(f) >= 5:
            out[int(f[0])] = (int(f[1]), f[2], int(f[3]), int(f[4]))
    return out


def run_wait(r, k0, k1, pid=None):
    """{name: (run s, wait s)} between two samples: time on a CPU and time
    runnable but waiting for one (schedstat), per agent thread (main,
    capture, others) or, without pid, summed over all threads."""
    t0, t1 = parse_threads(r.get(k0)), parse_threads(r.get(k1))
    res = defaultdict(lambda: [0.0, 0.0])
    for tid, (run, policy, _, wait) in t1.items():
        run0, _, _, wait0 = t0.get(tid, (0, "", 0, 0))
        if pid is None:
            name = "all"
        elif tid == pid:
            name = "main"
        elif policy in ("1", "2"):
            name = "capture"
        else:
            name = "other"
        res[name][0] += (run - run0) / 1e9
        res[name][1] += (wait - wait0) / 1e9
    return {k: tuple(v) for k, v in res.items()}


# ---------------------------------------------------------------- table

med = analyze.med
fmt = analyze.fmt


def table(path):
    runs = analyze.load_runs(path)
    if not runs:
        print("no results")
        return 1
    groups = defaultdict(list)
    for r in runs:
        groups[(r["spawners"], r["mode"])].append(r)
    spawner_counts = sorted({r["spawners"] for r in runs})
    reps = max(len(g) for g in groups.values())

    print("| mode | spawners | spawns | spawns/s | argv capture ratio (min) "
          "| fork/exec/exit delivered / expected (min) | lost | latency p50 / p99 / max ms "
          "| CPU s per 1000 spawns | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for s in spawner_counts:
        for mode in MODES:
            g = groups.get((s, mode))
            if not g:
                continue
            ratios = [r["exact"] / r["spawns"] for r in g]
            cpu = med([r["cpu_s"] / r["spawns"] * 1000 for r in g])
            summary[(s, mode)] = {"cpu": cpu, "runs": g}
            if mode == "forward":
                lat = "%s / %s / %s" % (fmt(med([r["lat_p50"] for r in g]), ".1f"),
                                        fmt(med([r["lat_p99"] for r in g]), ".1f"),
                                        fmt(med([r["lat_max"] for r in g]), ".1f"))
            else:
                lat = "n/a (no arrival time)"
            print("| %s | %d | %g | %.0f | %.2f %% (%.2f %%) | %g / %g (%g) | %g | %s | %.3f | %.1f |" % (
                mode, s, med([r["spawns"] for r in g]),
                med([r["spawns"] / r["wall_s"] for r in g]),
                100 * med(ratios), 100 * min(ratios),
                med([r["accounted"] for r in g]), med([r["expected"] for r in g]),
                min(r["accounted"] for r in g),
                med([r["lost"] for r in g]), lat, cpu,
                med([r["hwm_kb"] / 1024 for r in g])))
    print()
    print("Medians of %d run(s) per row; in parentheses the worst run. Latency: from the "
          "event's `@timestamp` (the kernel's time of the event) to rsyslog's "
          "`timegenerated` (when imtcp took the line off the connection, microseconds), over "
          "the storm's fork, exec and exit events. CPU: all the agent's threads, from just "
          "before the storm until the end of the settle time and the end marker's exit event in the output; rsyslog's own CPU is not "
          "included (see the details)." % reps)
    print()
    print("Forward / stdout CPU per spawn (medians):")
    for s in spawner_counts:
        a, b = summary.get((s, "forward")), summary.get((s, "stdout"))
        if not a or not b or not b["cpu"]:
            continue
        per = []
        for ra in a["runs"]:
            for rb in b["runs"]:
                if ra["rep"] == rb["rep"] and rb["cpu_s"] > 0:
                    per.append(ra["cpu_s"] / rb["cpu_s"])
        print("- %d spawners: %.2f (per repetition, storms run back to back: %s)" % (
            s, a["cpu"] / b["cpu"], ", ".join("%.2f" % x for x in per)))
    print()
    print("Details per run:")
    for s in spawner_counts:
        for mode in MODES:
            for r in sorted(groups.get((s, mode), []), key=lambda r: r["rep"]):
                head = ("- %s, %d spawners, run %d: %d spawns in %.2f s, load %s; exact argv %d; "
                        "missing fork %d, exec %d, exit %d; lost %d (overruns %s, queue_drops %s); "
                        "CPU %.3f s (ticks %.2f s), end marker out %.2f s after the settle" % (
                            mode, s, r["rep"], r["spawns"], r["wall_s"], r.get("load1", "?"),
                            r["exact"], r["spawns"] - r["fork_ok"], r["spawns"] - r["exec_ok"],
                            r["spawns"] - r["exit_ok"], r["lost"], r["overruns"],
                            r["queue_drops"], r["cpu_s"], r["cpu_ticks_s"], r.get("drain_s", 0)))
                if r.get("other_listeners"):
                    head += "; %d other connector listener(s) were running" % r["other_listeners"]
                print(head)
                rw = run_wait(r, "threads0", "threads1", r.get("pid"))
                waits = ["%s %.2f s / %.2f s" % (k, rw[k][0], rw[k][1])
                         for k in ("main", "capture", "other")
                         if k in rw and max(rw[k]) >= 0.005]
                if mode == "forward":
                    rs = run_wait(r, "rthreads0", "rthreads1").get("all")
                    if rs:
                        waits.append("rsyslogd %.2f s / %.2f s" % rs)
                print("    on a CPU / runnable but waiting for one: %s" % ", ".join(waits))
                if mode == "forward":
                    by = r.get("lat_p50_by_action", {})
                    by99 = r.get("lat_p99_by_action", {})
                    print("    latency ms over %d events: min %s, p50 %s, p99 %s, max %s; p50/p99 by "
                          "action: %s; final heartbeat: sent %s, dropped %s, reconnects %s; "
                          "rsyslog CPU %s s; lines without a time prefix %d" % (
                              r["lat_n"], fmt(r["lat_min"], ".1f"), fmt(r["lat_p50"], ".1f"),
                              fmt(r["lat_p99"], ".1f"), fmt(r["lat_max"], ".1f"),
                              ", ".join("%s %s/%s" % (k, fmt(by[k], ".1f"), fmt(by99.get(k), ".1f"))
                                        for k in STORM_ACTIONS if k in by),
                              r.get("events_sent"), r.get("events_dropped"), r.get("reconnects"),
                              r.get("collector_cpu_s", "?"), r.get("bad_prefix", 0)))
                if not r.get("had_final_heartbeat"):
                    print("    no final heartbeat in the output")
                if r.get("log_warning_count"):
                    print("    agent log: %d line(s) above info level, first: %s" % (
                        r["log_warning_count"], json.dumps(r["log_warnings"])))
                if r.get("wrong_examples"):
                    print("    examples of non-exact argv: %s" % json.dumps(r["wrong_examples"]))
    print()
    print("CPU by thread (medians, s per 1000 spawns; main = the event loop, which "
          "enriches, encodes and, when forwarding, batches and writes TLS; capture = the "
          "thread that reads the connector and /proc):")
    for s in spawner_counts:
        for mode in MODES:
            g = groups.get((s, mode))
            if not g:
                continue
            per = defaultdict(list)
            csw = defaultdict(list)
            for r in g:
                for name, (sec, cs) in analyze.thread_cpu(r).items():
                    per[name].append(sec / r["spawns"] * 1000)
                    csw[name].append(cs / r["spawns"])
            parts = ["%s %.3f s (%.1f context switches per spawn)" % (k, med(v), med(csw[k]))
                     for k, v in sorted(per.items(), key=lambda kv: -med(kv[1]))
                     if med(v) >= 0.0005 or med(csw[k]) >= 0.05]
            wait = med([run_wait(r, "threads0", "threads1", r.get("pid")).get("main", (0, 0))[1]
                        / r["spawns"] * 1000 for r in g])
            print("- %s, %d spawners: %s; main thread runnable but waiting for a CPU %.3f s" % (
                mode, s, ", ".join(parts), wait))
    print()
    print("Targets of issue 3 (forward mode; delivery and latency in every run):")
    ok_all = True

    def check(name, ok, detail):
        nonlocal ok_all
        ok_all = ok_all and ok
        print("- [%s] %s: %s" % ("PASS" if ok else "FAIL", name, detail))

    for s in spawner_counts:
        fw = groups.get((s, "forward"), [])
        if not fw:
            continue
        check("delivered = expected, %d spawners" % s,
              all(r["accounted"] == r["expected"] for r in fw),
              "per run %s" % ", ".join("%d/%d" % (r["accounted"], r["expected"])
                                       for r in sorted(fw, key=lambda r: r["rep"])))
        p99 = [r["lat_p99"] for r in fw]
        check("p99 latency <= %g ms, %d spawners" % (LAT_P99_MS, s),
              all(v is not None and v <= LAT_P99_MS for v in p99),
              "per run %s ms" % ", ".join(fmt(v, ".1f") for v in p99))
        a, b = summary.get((s, "forward")), summary.get((s, "stdout"))
        if a and b and b["cpu"]:
            check("CPU per spawn <= %g x stdout mode, %d spawners" % (CPU_FACTOR, s),
                  a["cpu"] <= CPU_FACTOR * b["cpu"],
                  "%.3f vs %.3f s per 1000 spawns (%.2f x, medians)" % (
                      a["cpu"], b["cpu"], a["cpu"] / b["cpu"]))
    return 0 if ok_all else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("score")
    q.add_argument("--mode", choices=MODES, required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--err")
    q.add_argument("--pids", required=True)
    q.add_argument("--target", required=True)
    q.add_argument("--runid", required=True)
    q.add_argument("--meta", action="append")
    q = sub.add_parser("table")
    q.add_argument("results")
    a = p.parse_args()
    if a.cmd == "table":
        return table(a.results)
    print(json.dumps(score(a), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Helper of bench.sh: scores one run, and prints the final table.

  analyze.py agent    --out FILE --err FILE --pids DIR --target PATH --runid ID [--meta K=V ...]
  analyze.py forkstat --out FILE --err FILE --pids DIR --target PATH --runid ID [--meta K=V ...]
  analyze.py drain|exec|none --out FILE --err FILE --pids DIR --target PATH --runid ID [...]
      print one JSON object (the run's scores) on standard output (drain
      and exec: bare_listener.c's two modes; none: the storm alone)
  analyze.py profile --spawns N --hz HZ --times0 T --times1 T --main-tid TID
             --strace FILE --inclusive FILE --self FILE --perf FILE|none --outputs F...
      print profile.sh's per-stage report (callgrind, strace, thread times)
  analyze.py table RESULTS.jsonl
      print the markdown table of medians, the CPU ratios, the details
      and the target check; exit 1 if the agent missed a target

Standard library only; bench.sh runs it with Debian's /usr/bin/python3.
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys
from collections import Counter, defaultdict

AGENT = "hids-agent"
FORKSTAT = "forkstat"
DRAIN = "bare listener, drain only"
EXECF = "bare listener, exec only + cmdline"
NONE = "no monitor"
TOOLS = (AGENT, FORKSTAT, EXECF, DRAIN, NONE)
SUMMARY_RE = re.compile(r"bare_listener: events (\d+) exec (\d+) fork (\d+) exit (\d+) "
                        r"other (\d+) overruns (\d+) filter (\w+) fifo (\w+)")


def load_spawns(pids_dir):
    """Returns {pid: [(spawner_id, index), ...]} from the spawners' pid lists."""
    spawns = defaultdict(list)
    for path in sorted(glob.glob(os.path.join(pids_dir, "pids.*"))):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    spawns[int(parts[0])].append((parts[1], int(parts[2])))
    return spawns


def expected_argv(target, runid, sid, i):
    return [target, "hidsbench-%s-%s-%d" % (runid, sid, i), "x"]


def parse_meta(items):
    meta = {}
    for kv in items or []:
        k, _, v = kv.partition("=")
        try:
            meta[k] = int(v)
        except ValueError:
            try:
                meta[k] = float(v)
            except ValueError:
                meta[k] = v
    return meta


def score_agent(a):
    spawns = load_spawns(a.pids)
    n_spawns = sum(len(v) for v in spawns.values())
    want = {}
    for pid, lst in spawns.items():
        want[pid] = [expected_argv(a.target, a.runid, sid, i) for sid, i in lst]
    seen = {"fork": Counter(), "exec": Counter(), "end": Counter()}
    exact = Counter()
    wrong = Counter()
    wrong_examples = []
    wrong_index = []
    exec_gone = 0
    lost_records = 0
    last_stats = None
    bad_lines = 0
    with open(a.out, "rb") as f:
        for raw in f:
            if not raw.startswith(b"{"):
                raw = raw.partition(b" ")[2]    # rsyslog's received file: "TIME LINE"
            try:
                o = json.loads(raw)
            except ValueError:
                bad_lines += 1
                continue
            ev = o.get("event", {})
            act = ev.get("action")
            h = o.get("hids", {})
            if act == "lost":
                lost_records += int(h.get("lost", 0))
                if "stats" in h:
                    last_stats = h["stats"]
                continue
            if act == "heartbeat":
                if "stats" in h:
                    last_stats = h["stats"]
                continue
            if act not in seen:
                continue
            pid = o.get("process", {}).get("pid")
            if pid not in spawns:
                continue
            seen[act][pid] += 1
            if act == "exec":
                args = o.get("process", {}).get("args")
                if args in want[pid]:
                    exact[pid] += 1
                else:
                    wrong[pid] += 1
                    wrong_index.extend(i for _, i in spawns[pid])
                    if h.get("proc_gone"):
                        exec_gone += 1
                    if len(wrong_examples) < 3:
                        wrong_examples.append({"pid": pid, "args": args,
                                               "proc_gone": bool(h.get("proc_gone"))})
    mult = {pid: len(lst) for pid, lst in spawns.items()}
    ok = {act: sum(min(c[p], mult[p]) for p in c) for act, c in seen.items()}
    n_exact = sum(min(exact[p], mult[p]) for p in exact)
    rt_demotions = 0
    log_warnings = []
    if a.err and os.path.exists(a.err):
        with open(a.err, errors="replace") as f:
            for line in f:
                if "running at normal priority" in line:
                    rt_demotions += 1
                if ": info: " not in line and line.strip():
                    log_warnings.append(line.strip())
    st = last_stats or {}
    r = {
        "tool": AGENT,
        "spawns": n_spawns,
        "exact": n_exact,
        "fork_ok": ok["fork"], "exec_ok": ok["exec"], "exit_ok": ok["end"],
        "accounted": ok["fork"] + ok["exec"] + ok["end"],
        "expected": 3 * n_spawns,
        "exec_wrong": sum(wrong.values()),
        "exec_wrong_proc_gone": exec_gone,
        "wrong_examples": wrong_examples,
        "wrong_index": sorted(wrong_index),
        "lost_records": lost_records,
        "lost_heartbeat": st.get("events_lost"),
        "lost": max(lost_records, int(st.get("events_lost") or 0)),
        "overruns": st.get("overruns"),
        "queue_drops": st.get("queue_drops"),
        "proc_gone_total": st.get("proc_gone"),
        "argv_captured_total": st.get("argv_captured"),
        "events_seen": st.get("events_seen"),
        "events_emitted": st.get("events_emitted"),
        "rt_demotions": rt_demotions,
        "log_warnings": log_warnings[:5],
        "log_warning_count": len(log_warnings),
        "bad_lines": bad_lines,
        "had_final_heartbeat": last_stats is not None,
    }
    return r


EXEC_RE = re.compile(r"^\S+ exec +(\d+) (.*)$")


def score_forkstat(a):
    spawns = load_spawns(a.pids)
    n_spawns = sum(len(v) for v in spawns.values())
    want = {}
    for pid, lst in spawns.items():
        want[pid] = [" ".join(expected_argv(a.target, a.runid, sid, i)) for sid, i in lst]
    execs = Counter()
    exact = Counter()
    kinds = Counter()
    wrong_examples = []
    nobufs = 0
    with open(a.out, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if " nobufs " in line:
                nobufs += 1
                continue
            m = EXEC_RE.match(line)
            if not m:
                continue
            pid = int(m.group(1))
            if pid not in spawns:
                continue
            # Columns are space-padded; the command line starts with the
            # target's absolute path. forkstat may leave one trailing space.
            cmd = m.group(2).strip(" ")
            execs[pid] += 1
            if cmd in want[pid]:
                exact[pid] += 1
                continue
            if cmd == "<unknown>":
                kinds["unknown"] += 1
            elif " " not in cmd:
                kinds["comm_only"] += 1     # cmdline was empty: fell back to comm
            else:
                kinds["other"] += 1
            if len(wrong_examples) < 3:
                wrong_examples.append({"pid": pid, "cmd": cmd})
    mult = {pid: len(lst) for pid, lst in spawns.items()}
    exec_ok = sum(min(c, mult[p]) for p, c in execs.items())
    n_exact = sum(min(c, mult[p]) for p, c in exact.items())
    return {
        "tool": FORKSTAT,
        "spawns": n_spawns,
        "exact": n_exact,
        "exec_ok": exec_ok,
        "accounted": exec_ok,
        "expected": n_spawns,
        "exec_wrong": sum(kinds.values()),
        "exec_wrong_unknown": kinds["unknown"],
        "exec_wrong_comm_only": kinds["comm_only"],
        "exec_wrong_other": kinds["other"],
        "wrong_examples": wrong_examples,
        "nobufs": nobufs,
        "lost": nobufs,
    }


def score_bare(a):
    """Scores a bare_listener run (drain, exec) or the storm alone (none)."""
    spawns = load_spawns(a.pids)
    n_spawns = sum(len(v) for v in spawns.values())
    tool = {"drain": DRAIN, "exec": EXECF, "none": NONE}[a.cmd]
    r = {"tool": tool, "spawns": n_spawns, "exact": None, "accounted": None,
         "expected": None, "lost": None, "ran": a.cmd == "none"}
    if a.cmd == "none":
        return r
    summ = None
    if a.err and os.path.exists(a.err):
        with open(a.err, errors="replace") as f:
            for line in f:
                m = SUMMARY_RE.search(line)
                if m:
                    summ = m
    if summ:
        ev, ex, fo, xi, ot, ov = (int(summ.group(i)) for i in range(1, 7))
        r.update(ran=True, events_read=ev, execs_read=ex, forks_read=fo, exits_read=xi,
                 others_read=ot, overruns=ov, lost=ov, filter=summ.group(7) == "yes",
                 fifo=summ.group(8) == "yes")
    if a.cmd == "exec":
        want = {}
        for pid, lst in spawns.items():
            want[pid] = [" ".join(expected_argv(a.target, a.runid, sid, i)) for sid, i in lst]
        execs, exact = Counter(), Counter()
        with open(a.out, errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) != 3 or parts[0] != "exec" or not parts[1].isdigit():
                    continue
                pid = int(parts[1])
                if pid not in spawns:
                    continue
                execs[pid] += 1
                if parts[2] in want[pid]:
                    exact[pid] += 1
        mult = {pid: len(lst) for pid, lst in spawns.items()}
        r["exact"] = sum(min(c, mult[p]) for p, c in exact.items())
        r["accounted"] = sum(min(c, mult[p]) for p, c in execs.items())
        r["expected"] = n_spawns
    return r


# ---------------------------------------------------------------- table

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


BUSY = {"hogs": "while 2 CPU hogs run", "disk": "while a disk writer runs",
        "tls": "forwarding over TLS", "relp": "forwarding over RELP with a spool"}
MODES = ("alone", "concurrent") + tuple(BUSY)


def label(tool, mode):
    if mode == "concurrent" and tool in (AGENT, FORKSTAT):
        other = FORKSTAT if tool == AGENT else AGENT
        return "%s (with %s running)" % (tool, other)
    if mode in BUSY:
        return "%s, %s" % (tool, BUSY[mode])
    return tool


def thread_cpu(r):
    """Returns {name: (cpu seconds, context switches)} per thread between the samples."""
    def parse(v):
        out = {}
        for item in str(v or "").split(","):
            f = item.split(":")
            if len(f) >= 2:
                out[int(f[0])] = (int(f[1]), f[2] if len(f) > 2 else "",
                                  int(f[3]) if len(f) > 3 else 0)
        return out
    t0, t1 = parse(r.get("threads0")), parse(r.get("threads1"))
    res = {}
    n = 0
    for tid in sorted(t1):
        ns, policy, cs = t1[tid]
        ns0, _, cs0 = t0.get(tid, (0, "", 0))
        if tid == r.get("pid"):
            name = "main"
        elif policy in ("1", "2"):
            name = "capture (SCHED_FIFO)"
        else:
            n += 1
            name = "other%d" % n
        old = res.get(name, (0, 0))
        res[name] = (old[0] + (ns - ns0) / 1e9, old[1] + cs - cs0)
    return res


def load_runs(path):
    """The results file: one JSON object per non-empty line."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def table(path):
    runs = load_runs(path)
    if not runs:
        print("no results")
        return 1
    groups = defaultdict(list)
    for r in runs:
        groups[(r["mode"], r["spawners"], r["tool"])].append(r)
    spawner_counts = sorted({r["spawners"] for r in runs})
    modes = [m for m in MODES if any(r["mode"] == m for r in runs)]
    reps = max(len(g) for g in groups.values())

    print("| tool | spawners | spawns | spawns/s | rate kept vs no monitor "
          "| argv capture ratio (min) "
          "| fork/exec/exit accounted / expected | lost | CPU s per 1000 spawns "
          "| agent CPU as a multiple | peak RSS MB | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for mode in modes:
        for s in spawner_counts:
            for tool in TOOLS:
                g = groups.get((mode, s, tool))
                if not g:
                    continue
                spawns = med([r["spawns"] for r in g])
                rate = med([r["spawns"] / r["wall_s"] for r in g])
                cpu = None if tool == NONE else med([r["cpu_s"] / r["spawns"] * 1000 for r in g])
                summary[(mode, s, tool)] = {"cpu": cpu, "rate": rate, "runs": g,
                                            "ratios": [r["exact"] / r["spawns"] for r in g
                                                       if r.get("exact") is not None]}
    for mode in modes:
        for s in spawner_counts:
            base = summary.get((mode if mode in ("hogs", "disk") else "alone", s, NONE))
            agent = summary.get((mode, s, AGENT))
            for tool in TOOLS:
                sm = summary.get((mode, s, tool))
                if not sm:
                    continue
                g = sm["runs"]
                ratios = sm["ratios"]
                cap = ("%.2f %% (%.2f %%)" % (100 * med(ratios), 100 * min(ratios))
                       if ratios else "-")
                kept = "%.2f" % (sm["rate"] / base["rate"]) if base and base["rate"] else "n/a"
                rss = "-" if tool == NONE else "%.1f" % med([r["hwm_kb"] / 1024 for r in g])
                if tool == AGENT:
                    lost = fmt(med([r["lost"] for r in g]), "g")
                    acc_s = "%g / %g" % (med([r["accounted"] for r in g]),
                                         med([r["expected"] for r in g]))
                elif tool == FORKSTAT:
                    nb = med([r["nobufs"] for r in g])
                    lost = "%g overruns (count unknown)" % nb if nb else "0 overruns"
                    acc_s = "exec only: %g / %g" % (med([r["accounted"] for r in g]),
                                                    med([r["expected"] for r in g]))
                elif tool == EXECF:
                    lost = "%g overruns" % med([r.get("overruns") for r in g])
                    acc_s = "exec only: %g / %g" % (med([r["accounted"] for r in g]),
                                                    med([r["expected"] for r in g]))
                elif tool == DRAIN:
                    lost = "%g overruns" % med([r.get("overruns") for r in g])
                    acc_s = "read %g events (whole host)" % med([r.get("events_read") for r in g])
                else:
                    lost = acc_s = "-"
                mult = "-"
                if tool != AGENT and tool != NONE and agent and agent["cpu"] and sm["cpu"]:
                    mult = "%.2f×" % (agent["cpu"] / sm["cpu"])
                mark = " (†)" if any(r.get("etc_config") for r in g) else ""
                print("| %s | %d | %g | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    label(tool, mode) + mark, s, med([r["spawns"] for r in g]), sm["rate"],
                    kept, cap, acc_s, lost, fmt(sm["cpu"], ".3f"), mult, rss,
                    fmt(med([r.get("load1") for r in g]), ".2f")))
    print()
    print("Medians of %d run(s) per row; capture ratio in parentheses: the worst run. "
          "\"rate kept\": the row's spawns/s over the storm's with no monitor (same "
          "spawner count, and the same busy load for the CPU hogs and the disk writer); "
          "\"agent CPU as a multiple\": the agent's CPU per spawn (same "
          "mode and spawner count) over the row's; load: 1-minute load average after "
          "the storm." % reps)
    if any(r.get("etc_config") for r in runs):
        print("(†) /etc/hids-agent/hids-agent.conf existed during some of these runs, so the "
              "agent did not run with built-in defaults there.")
    print()
    print("Agent CPU / forkstat CPU (per spawn, medians):")
    for mode in modes:
        for s in spawner_counts:
            a = summary.get((mode, s, AGENT))
            f = summary.get((mode, s, FORKSTAT))
            if not a or not f or not f["cpu"]:
                continue
            extra = ""
            if mode == "concurrent":
                per = []
                for ra in a["runs"]:
                    for rf in f["runs"]:
                        if ra["rep"] == rf["rep"] and rf["cpu_s"] > 0:
                            per.append(ra["cpu_s"] / rf["cpu_s"])
                if per:
                    extra = " (per storm: %s)" % ", ".join("%.2f" % x for x in per)
            print("- %d spawners, %s: %.2f%s" % (
                s, "same storm, both running" if mode == "concurrent" else
                "separate storms" + (" " + BUSY[mode] if mode in BUSY else ""),
                a["cpu"] / f["cpu"], extra))
    for mode in ("tls", "relp"):
        for s in spawner_counts:
            a = summary.get((mode, s, AGENT))
            o = summary.get(("alone", s, AGENT))
            f = summary.get(("alone", s, FORKSTAT))
            if a and a["cpu"]:
                print("- %d spawners, %s: %s forkstat's, %s the agent's with --stdout" % (
                    s, BUSY[mode], "%.2f×" % (a["cpu"] / f["cpu"]) if f and f["cpu"] else "n/a",
                    "%.2f×" % (a["cpu"] / o["cpu"]) if o and o["cpu"] else "n/a"))
    print()
    print("Details per run:")
    for mode in modes:
        for s in spawner_counts:
            for tool in TOOLS:
                for r in sorted(groups.get((mode, s, tool), []), key=lambda r: r["rep"]):
                    head = "- %s, %d spawners, run %d: %d spawns in %.2f s, exact argv %s" % (
                        label(tool, mode), s, r["rep"], r["spawns"], r["wall_s"],
                        fmt(r.get("exact"), "d"))
                    if r.get("other_listeners"):
                        head += " (%d other connector listener(s) were running)" % r["other_listeners"]
                    if r.get("etc_config"):
                        head += " (/etc/hids-agent/hids-agent.conf was present)"
                    if tool == NONE:
                        print("- %s, %d spawners, run %d: %d spawns in %.2f s" % (
                            label(tool, mode), s, r["rep"], r["spawns"], r["wall_s"]))
                    elif tool in (DRAIN, EXECF):
                        if not r.get("ran"):
                            print(head + "; NO SUMMARY from bare_listener")
                        else:
                            print(head + "; read events %d (exec %d, fork %d, exit %d, other "
                                  "%d), overruns %d, kernel filter %s, SCHED_FIFO %s; CPU %.3f s "
                                  "(ticks %.2f s)" % (
                                      r["events_read"], r["execs_read"], r["forks_read"],
                                      r["exits_read"], r["others_read"], r["overruns"],
                                      "yes" if r["filter"] else "no",
                                      "yes" if r["fifo"] else "no", r["cpu_s"], r["cpu_ticks_s"]))
                    elif tool == AGENT:
                        print(head + "; missing fork %d, exec %d, exit %d; exec with other argv %d "
                              "(proc_gone %d); lost records %d, heartbeat events_lost %s, "
                              "overruns %s, queue_drops %s; whole run: proc_gone %s, "
                              "argv_captured %s; SCHED_FIFO demotions %d; CPU %.3f s "
                              "(ticks %.2f s)" % (
                                  r["spawns"] - r["fork_ok"], r["spawns"] - r["exec_ok"],
                                  r["spawns"] - r["exit_ok"], r["exec_wrong"],
                                  r["exec_wrong_proc_gone"], r["lost_records"],
                                  r["lost_heartbeat"], r["overruns"], r["queue_drops"],
                                  r["proc_gone_total"], r["argv_captured_total"],
                                  r["rt_demotions"], r["cpu_s"], r["cpu_ticks_s"]))
                    else:
                        print(head + "; missing exec %d; exec with other command line %d "
                              "(<unknown> %d, comm only %d, other %d); nobufs %d; "
                              "CPU %.3f s (ticks %.2f s)" % (
                                  r["spawns"] - r["exec_ok"], r["exec_wrong"],
                                  r["exec_wrong_unknown"], r["exec_wrong_comm_only"],
                                  r["exec_wrong_other"], r["nobufs"], r["cpu_s"],
                                  r["cpu_ticks_s"]))
                    if r.get("log_warning_count"):
                        print("    agent log: %d line(s) above info level, first: %s" % (
                            r["log_warning_count"], json.dumps(r["log_warnings"])))
                    if r.get("wrong_index"):
                        wi = r["wrong_index"]
                        print("    non-exact argv at spawn number (within its spawner, from 0): %s%s" % (
                            ", ".join(str(i) for i in wi[:30]), " ..." if len(wi) > 30 else ""))
                    if r.get("wrong_examples"):
                        print("    examples of non-exact: %s" % json.dumps(r["wrong_examples"]))
    print()
    print("CPU by thread (medians, s per 1000 spawns; hids-agent: main = the event loop, "
          "which enriches and encodes, capture = the thread that reads the connector "
          "and /proc; forkstat has one thread):")
    for mode, s, tool in [(m, n, t) for m in modes for n in spawner_counts
                          for t in (AGENT, FORKSTAT)]:
        g = groups.get((mode, s, tool))
        if not g or tool not in (AGENT, FORKSTAT):
            continue
        per = defaultdict(list)
        csw = defaultdict(list)
        for r in g:
            for name, (sec, cs) in thread_cpu(r).items():
                per[name].append(sec / r["spawns"] * 1000)
                csw[name].append(cs / r["spawns"])
        parts = ["%s %.3f s (%.1f context switches per spawn)" % (k, med(v), med(csw[k]))
                 for k, v in sorted(per.items(), key=lambda kv: -med(kv[1]))
                 if med(v) >= 0.0005 or med(csw[k]) >= 0.05]     # idle threads left out
        print("- %s, %d spawners: %s" % (label(tool, mode), s, ", ".join(parts)))
    print()
    print("Targets (hids-agent, every run):")
    ok_all = True

    def check(name, ok, detail):
        nonlocal ok_all
        ok_all = ok_all and ok
        print("- [%s] %s: %s" % ("PASS" if ok else "FAIL", name, detail))

    for s in spawner_counts:
        ag = [r for r in runs if r["tool"] == AGENT and r["spawners"] == s]
        if not ag:
            continue
        worst = min(r["exact"] / r["spawns"] for r in ag)
        check("argv capture >= 99.99 %% with %d spawners" % s, worst >= 0.9999,
              "worst run %.2f %%" % (100 * worst))
        lost = max(r["lost"] for r in ag)
        missing = max(r["expected"] - r["accounted"] for r in ag)
        check("0 events lost with %d spawners" % s, lost == 0 and missing == 0,
              "most reported lost %d, most fork/exec/exit missing %d" % (lost, missing))
        for mode in modes:
            a = summary.get((mode, s, AGENT))
            f = summary.get((mode, s, FORKSTAT))
            if a and f and f["cpu"]:
                check("CPU per spawn <= 1.3x forkstat's, %d spawners, %s" % (
                    s, {"concurrent": "same storm", "alone": "separate storms"}.get(
                        mode, "separate storms " + BUSY.get(mode, mode))),
                    a["cpu"] <= 1.3 * f["cpu"],
                    "%.3f vs %.3f s per 1000 spawns (%.2f×)" % (
                        a["cpu"], f["cpu"], a["cpu"] / f["cpu"]))
        for mode in ("alone", "hogs", "disk"):
            where = "" if mode == "alone" else ", " + BUSY[mode]
            a = summary.get((mode, s, AGENT))
            e = summary.get((mode, s, EXECF))
            if a and e and e["cpu"]:
                check("CPU per spawn <= 4x the exec-only bare listener's, %d spawners%s" % (
                    s, where), a["cpu"] <= 4 * e["cpu"],
                    "%.3f vs %.3f s per 1000 spawns (%.2f×)" % (
                        a["cpu"], e["cpu"], a["cpu"] / e["cpu"]))
            f = summary.get((mode, s, FORKSTAT))
            if a and f:
                check("spawn rate kept with the agent >= with forkstat, %d spawners%s" % (
                    s, where), a["rate"] >= f["rate"],
                    "%.0f vs %.0f spawns/s" % (a["rate"], f["rate"]))
        for tool in (DRAIN, EXECF):
            for r in groups.get(("alone", s, tool), []):
                if not r.get("ran"):
                    check("%s ran, %d spawners, run %d" % (tool, s, r["rep"]), False,
                          "no summary line from bare_listener")
    ag = [r for r in runs if r["tool"] == AGENT]
    if ag:
        peak = max(r["hwm_kb"] for r in ag) / 1024
        check("peak RSS <= 16 MB", peak <= 16, "highest %.1f MB" % peak)
    return 0 if ok_all else 1


# Stages of the agent's work, each the inclusive cost of these functions (none
# of which calls another of its stage, nor one of another stage, in the
# code as profiled; a function missing from the profile was inlined).
STAGES = [
    ("capture", "connector recv (wake-ups, recvmsg)", ["nlsource_recv"]),
    ("capture", "decode", ["decode_next"]),
    ("capture", "/proc cmdline", ["procfs_read_cmdline"]),
    ("capture", "/proc environ", ["procfs_read_environ"]),
    ("capture", "/proc exe, cwd (readlink)", ["procfs_read_link"]),
    ("capture", "/proc exe stat, file capabilities", ["procfs_stat_exe", "procfs_exe_fcaps"]),
    ("capture", "/proc status, stat, cgroup, ids (read)", ["procfs_read_file"]),
    ("capture", "/proc parsing", ["procfs_parse_status", "procfs_parse_stat",
                                  "procfs_parse_cgroup"]),
    ("capture", "merge (two sockets)", ["merge_next", "merge_hold_exec", "merge_hold_other"]),
    ("capture", "queue push", ["capture_push"]),
    ("main", "queue take", ["capture_take_all"]),
    ("main", "enrichment (process table, parent, leaders)", ["enrich_record"]),
    ("main", "JSON encode", ["encode_event"]),
    ("main", "write (stdout)", ["output_line", "output_flush"]),
]
TOTALS = [("capture", "capture_main"), ("main", "main"), ("other", "hasher_main")]
CG_RE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(?:\S*:)?([A-Za-z_][\w.]*)(?:'\d+)?\s")


def cg_costs(path):
    """Returns {function: Ir} from callgrind_annotate output (largest per name)."""
    out = {}
    total = None
    with open(path, errors="replace") as f:
        for line in f:
            if total is None and "PROGRAM TOTALS" in line:
                total = int(line.split()[0].replace(",", ""))
                continue
            m = CG_RE.match(line)
            if m:
                v = int(m.group(1).replace(",", ""))
                out[m.group(2)] = max(v, out.get(m.group(2), 0))
    return out, total


def count_execs(path):
    """Returns (exec events, of them with hids.proc_gone) in an agent output."""
    execs = gone = 0
    with open(path, "rb") as f:
        for raw in f:
            if b'"action":"exec"' in raw:
                execs += 1
                gone += b'"proc_gone":true' in raw
    return execs, gone


def profile(a):
    n = a.spawns
    cg_execs = max(1, count_execs(a.outputs[-1])[0])
    inc, total = cg_costs(a.inclusive)
    self_cost, _ = cg_costs(a.self)

    def threads(v):
        r = {}
        for item in v.split(","):
            f = item.split(":")
            if len(f) >= 5:
                r[int(f[0])] = (int(f[1]), int(f[2]), f[3], int(f[4]))
        return r
    t0, t1 = threads(a.times0), threads(a.times1)
    ticks = {"capture": [0, 0], "main": [0, 0], "other": [0, 0]}
    cpu = {"capture": 0.0, "main": 0.0, "other": 0.0}
    for tid, (u, s_, pol, ns) in t1.items():
        u0, s0, _, ns0 = t0.get(tid, (0, 0, "", 0))
        name = "main" if tid == a.main_tid else "capture" if pol in ("1", "2") else "other"
        ticks[name][0] += u - u0
        ticks[name][1] += s_ - s0
        cpu[name] += (ns - ns0) / n / 1e3
    user, system = {}, {}
    for k in cpu:
        t = sum(ticks[k])
        user[k] = cpu[k] * ticks[k][0] / t if t else 0.0
        system[k] = cpu[k] - user[k]
    # Share of each stage in its thread's user instructions, times that
    # thread's user time per spawn.
    tot = {k: inc.get(fn) for k, fn in TOTALS}
    print("### Per stage (callgrind, user-space instructions; µs estimated from the plain storm)")
    print()
    print("Instructions per exec event the agent wrote under callgrind (%d, the storm's and "
          "the host's; many with hids.proc_gone, since valgrind slows the agent, see below). "
          "The µs column: the stage's share of its thread's "
          "instructions times the thread's user µs per spawn in the plain storm." % cg_execs)
    print()
    print("| thread | stage | functions | instructions per exec event | share of the thread | est. user µs per spawn |")
    print("|---|---|---|---:|---:|---:|")
    for thr, name, fns in STAGES:
        found = [fn for fn in fns if fn in inc]
        ir = sum(inc[fn] for fn in found)
        if not found:
            print("| %s | %s | %s | inlined or not called | | |" % (thr, name, ", ".join(fns)))
            continue
        share = ir / tot[thr] if tot.get(thr) else None
        print("| %s | %s | %s | %.0f | %s | %s |" % (
            thr, name, ", ".join(found), ir / cg_execs,
            "%.1f %%" % (100 * share) if share is not None else "n/a",
            "%.2f" % (share * user[thr]) if share is not None else "n/a"))
    for thr, fn in TOTALS:
        if tot.get(thr):
            print("| %s | **whole thread** | %s | %.0f | 100 %% | %.2f |" % (
                thr if thr != "other" else "hasher", fn, tot[thr] / cg_execs, user[thr]))
    if total:
        print("| all | **whole process** | | %.0f | | |" % (total / cg_execs))
    print()
    print("### CPU time per spawn by thread (plain storm: schedstat, split by the "
          "utime/stime ticks at %d Hz)" % a.hz)
    print()
    print("| thread | CPU µs per spawn | user µs | system µs | user/system ticks |")
    print("|---|---:|---:|---:|---:|")
    for k in ("capture", "main", "other"):
        print("| %s | %.1f | %.1f | %.1f | %d / %d |" % (k, cpu[k], user[k], system[k],
                                                     ticks[k][0], ticks[k][1]))
    print("| all | %.1f | %.1f | %.1f | |" % (sum(cpu.values()), sum(user.values()),
                                             sum(system.values())))
    print()
    if a.perf != "none" and os.path.exists(a.perf):
        print("perf stat (plain storm): ")
        with open(a.perf) as f:
            for line in f:
                fl = line.strip().split(",")
                if len(fl) > 2 and fl[0].replace(".", "").isdigit():
                    print("- %s per spawn: %.0f" % (fl[2], float(fl[0]) / n))
        print()
    else:
        print("perf: `perf stat -e instructions true` counts nothing here (no hardware "
              "counters in this VM), so no perf figures.")
        print()
    print("### System calls per spawn (strace -c -f, all threads)")
    print()
    print("| system call | calls per spawn | errors per spawn |")
    print("|---|---:|---:|")
    rows = []
    with open(a.strace, errors="replace") as f:
        for line in f:
            fl = line.split()
            if len(fl) >= 5 and fl[0].replace(".", "").isdigit() and fl[-1] != "total":
                calls = int(fl[3])
                errs = int(fl[4]) if len(fl) == 6 else 0
                rows.append((calls, errs, fl[-1]))
    for calls, errs, name in sorted(rows, reverse=True):
        if calls / n >= 0.01:
            print("| %s | %.2f | %.2f |" % (name, calls / n, errs / n))
    print("| **all** | %.2f | |" % (sum(r[0] for r in rows) / n))
    print()
    print("Exec events with their argv / with hids.proc_gone, per storm (plain, strace, "
          "callgrind; the slower agent under strace and valgrind misses more):")
    for path in a.outputs:
        execs, gone = count_execs(path)
        print("- %s: %d exec events, %d proc_gone" % (os.path.basename(os.path.dirname(path)),
                                                     execs, gone))
    print()
    print("Top functions by own instructions (callgrind, per exec event):")
    skip = {"clone", "start_thread", "main", "hasher_main", "capture_main"}
    top = [kv for kv in sorted(self_cost.items(), key=lambda kv: -kv[1]) if kv[0] not in skip]
    for fn, v in top[:20]:
        print("- %s: %.0f" % (fn, v / cg_execs))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("agent", "forkstat", "drain", "exec", "none"):
        q = sub.add_parser(name)
        q.add_argument("--out", required=True)
        q.add_argument("--err")
        q.add_argument("--pids", required=True)
        q.add_argument("--target", required=True)
        q.add_argument("--runid", required=True)
        q.add_argument("--meta", action="append")
    q = sub.add_parser("table")
    q.add_argument("results")
    q = sub.add_parser("profile")
    q.add_argument("--spawns", type=int, required=True)
    q.add_argument("--hz", type=int, required=True)
    q.add_argument("--times0", required=True)
    q.add_argument("--times1", required=True)
    q.add_argument("--main-tid", type=int, required=True)
    q.add_argument("--strace", required=True)
    q.add_argument("--inclusive", required=True)
    q.add_argument("--self", required=True)
    q.add_argument("--perf", required=True)
    q.add_argument("--outputs", nargs="+", required=True)
    a = p.parse_args()
    if a.cmd == "table":
        return table(a.results)
    if a.cmd == "profile":
        return profile(a)
    if a.cmd == "agent":
        r = score_agent(a)
    elif a.cmd == "forkstat":
        r = score_forkstat(a)
    else:
        r = score_bare(a)
    r.update(parse_meta(a.meta))
    print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

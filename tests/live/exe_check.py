#!/usr/bin/python3
"""Proves, from test_exe.sh's capture, what hids.exe and process.hash say for a setuid probe, a replaced binary, a memfd, a binary run twice (the cache) and one with file capabilities: prints one line per finding.

usage: exe_check.py CAPTURE MARK LIVE_UID VICTIM_SHA MEMFD_SHA TWICE_SHA
"""
import json, sys
path, mark, uid, victim_sha, memfd_sha, twice_sha = sys.argv[1:]
by_pid, execs, hits = {}, {}, -1
for line in open(path):
    d = json.loads(line)
    a = d["event"]["action"]
    if a == "heartbeat":
        hits = d["hids"]["stats"]["hash_cache_hits"]
        continue
    p = d.get("process", {})
    args = p.get("args") or []
    for tag in ("setuid", "victim", "memfd", "twice1", "twice2", "capped"):
        if mark + "-" + tag in args and a == "exec":
            execs[tag] = d
            by_pid[p["pid"]] = tag
    if a in ("uid", "uid_change") and by_pid.get(p.get("pid")) == "setuid":
        execs["uid_change"] = d
    if a in ("exit", "end") and p.get("pid") in by_pid:
        execs[by_pid[p["pid"]] + "-exit"] = d

def sha(tag):
    d = execs.get(tag, {})
    return d.get("process", {}).get("hash", {}).get("sha256")

def exe(tag):
    return execs.get(tag, {}).get("hids", {}).get("exe", {})

s = execs.get("setuid", {})
print("setuid-flag", exe("setuid").get("setuid") is True and exe("setuid").get("uid") == "0"
      and exe("setuid").get("mode") == "4755")
print("setuid-ids", s.get("process", {}).get("user", {}).get("id") == "0"
      and s.get("process", {}).get("real_user", {}).get("id") == uid)
u = execs.get("uid_change", {})
print("uid-change", u.get("hids", {}).get("uid") == {"real": 0, "effective": 0}
      and u.get("process", {}).get("real_user", {}).get("id") == "0")
# What ran, though the path was replaced: the exec's hash, or the exit's if it came late.
print("victim", (sha("victim") or sha("victim-exit")) == victim_sha
      and sha("victim-exit") == victim_sha)
print("memfd", (sha("memfd") or sha("memfd-exit")) == memfd_sha
      and exe("memfd").get("memfd") is True and exe("memfd").get("deleted") is True)
print("twice", sha("twice2") == twice_sha and (sha("twice1") or sha("twice1-exit")) == twice_sha)
print("hits", hits > 0)
caps = exe("capped").get("capabilities", {})
print("capped", sorted(caps.get("permitted", [])) == ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
      and caps.get("effective") is True)

#!/usr/bin/python3
"""Proves that a capture of an agent run with tests/live/test_hostos.sh's os-release files has host.os.* and host.architecture on every line, from the file and uname, escaped, and the second file's values after the SIGHUP.

usage: hostos_check.py CAPTURE MARKER MACHINE RELEASE VERSION
"""

import json
import sys

path, marker, machine, release, version = sys.argv[1:6]
docs = [json.loads(l) for l in open(path, "rb")]
fail = []
def want(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fail.append(what)
before = [d for d in docs if d["host"]["os"].get("version") == "7.1"]
after = [d for d in docs if d["host"]["os"].get("full") == "Fixture 8"]
want(all(d["host"]["os"]["type"] == "linux" for d in docs), "every line has host.os.type linux")
want(all(d["host"].get("architecture") == machine for d in docs), "every line has host.architecture " + machine)
want(all(d["host"]["os"].get("kernel") == release + " " + version for d in docs),
     "every line has host.os.kernel: uname release and version")
o = before[0]["host"]["os"] if before else {}
want(o.get("name") == "Fixture Linux" and o.get("platform") == "fixture" and o.get("family") == "debian",
     "name, platform (ID) and family (ID_LIKE's first word) from the file: %r" % o)
want(o.get("full") == "Fixture \x1b[2J\\xff 7", "PRETTY_NAME's invalid byte escaped: %r" % o.get("full"))
want(all("host.os.full" in d.get("hids", {}).get("escaped", []) for d in before),
     "hids.escaped lists host.os.full on every line before the reload")
want(any(d["event"]["action"] == "heartbeat" for d in before), "heartbeats carry host.os")
want(any(d["event"]["action"] == "exec" and marker in d.get("process", {}).get("args", []) for d in before),
     "the test's exec carries host.os")
want(len(after) > 0 and any(d["event"]["action"] == "heartbeat" for d in after),
     "after SIGHUP the new file's values are on the heartbeats")
a = after[0]["host"]["os"] if after else {}
want(a.get("version") == "8 (next)" and "family" in a and a["family"] == "fixture",
     "VERSION stands in for a missing VERSION_ID; no ID_LIKE: family is ID: %r" % a)
want(all("escaped" not in d.get("hids", {}) or "host.os.full" not in d["hids"]["escaped"] for d in after),
     "nothing escaped after the reload")
idx = [i for i, d in enumerate(docs) if d["host"]["os"].get("full") == "Fixture 8"]
want(bool(idx) and all(docs[i]["host"]["os"].get("full") == "Fixture 8" for i in range(idx[0], len(docs))),
     "every line after the first new one has the new values")
sys.exit(1 if fail else 0)

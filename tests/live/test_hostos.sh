#!/bin/bash
# Proves that host.os.* and host.architecture come from the os-release file and uname on every line (heartbeats and process events), that hostile bytes in os-release are escaped and listed in hids.escaped, and that SIGHUP reads the file again. The agent runs in a private mount namespace with a test file bound over /etc/os-release, so the host's own file is never touched.
# Needs root (unshare, mount) and the real kernel connector.
set -u
bin=${1:?usage: test_hostos.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema=${2:?}
schema_check=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"
agent_tmp_init
py=/usr/bin/python3

printf 'NAME="Fixture Linux"\nID=fixture\nID_LIKE="debian ubuntu"\nVERSION_ID=7.1\nPRETTY_NAME="Fixture \033[2J\xff 7"\n' >"$tmp/os-release"
printf '[agent]\nheartbeat_interval = 1\n' >"$tmp/a.conf"
unshare -m --propagation private sh -c 'mount --bind "$1" /etc/os-release && exec "$2" --stdout -c "$3"' \
    sh "$tmp/os-release" "$bin" "$tmp/a.conf" >"$tmp/a.out" 2>"$tmp/a.err" &
agent=$!
agent_wait_ready "$tmp/a.err" || { bad "the agent starts"; summary; exit 1; }
/bin/true "hidshostos-$$"
sleep 1.5

# Read the file again on SIGHUP: rewritten in place, so the bind mount shows it.
printf 'NAME="Fixture Linux"\nID=fixture\nVERSION="8 (next)"\nPRETTY_NAME="Fixture 8"\n' >"$tmp/os-release"
kill -HUP "$agent"
for _ in $(seq 50); do
	grep -q '"full":"Fixture 8"' "$tmp/a.out" && break
	sleep 0.1
done
sleep 1.2
kill -TERM "$agent"
wait "$agent"
check "the agent exits 0" test $? -eq 0
agent=

$py - "$tmp/a.out" "hidshostos-$$" "$(uname -m)" "$(uname -r)" "$(uname -v)" >"$tmp/report" <<'PY'
import json, sys
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
PY
rc=$?
cat "$tmp/report"
check "host.os from os-release and uname, escaped, and read again on SIGHUP" test "$rc" -eq 0
check "the reload is logged" grep -q 'configuration reloaded' "$tmp/a.err"
check "every line is valid against the schema" "$py" "$schema_check" "$schema" "$tmp/a.out"
summary

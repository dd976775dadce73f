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

$py "$here/hostos_check.py" "$tmp/a.out" "hidshostos-$$" "$(uname -m)" "$(uname -r)" "$(uname -v)" >"$tmp/report"
rc=$?
cat "$tmp/report"
check "host.os from os-release and uname, escaped, and read again on SIGHUP" test "$rc" -eq 0
check "the reload is logged" grep -q 'configuration reloaded' "$tmp/a.err"
check "every line is valid against the schema" "$py" "$schema_check" "$schema" "$tmp/a.out"
summary

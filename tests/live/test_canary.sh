#!/bin/bash
# Proves that the canary hides only its own fork and exit: a payload that
# takes the canary's pid (ns_last_pid) as soon as the pid is free has its
# fork, exec and exit reported, the canary's pid stays taken (its zombie)
# while the agent matches it, and the canary's own events stay unreported.
# Needs root and the real kernel connector.
set -u
bin=${1:?usage: test_canary.sh AGENT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
agent=
trap '[ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null && wait "$agent"; rm -rf "$tmp"' EXIT
. "$here/../lib/tap.sh"

if [ ! -w /proc/sys/kernel/ns_last_pid ]; then
	skipped "a payload under the canary's pid" "no writable ns_last_pid (CONFIG_CHECKPOINT_RESTORE, root)"
	summary
	exit
fi

# 1 s is the shortest canary_interval the config accepts (0 turns it off).
printf '[agent]\ncanary_interval = 1\nheartbeat_interval = 0\n' >"$tmp/agent.conf"
"$bin" --stdout -v -c "$tmp/agent.conf" >"$tmp/out" 2>"$tmp/err" &
agent=$!
apid=$agent
for _ in $(seq 100); do grep -q ready "$tmp/err" && break; sleep 0.1; done
check "the agent starts" grep -q ready "$tmp/err" || { cat "$tmp/err"; summary; exit; }

marker=hids-canary-reuse-$$
python3 "$here/canary_reuse.py" "$agent" "$marker" 20 >"$tmp/reuse.json"
check "a payload got the canary's pid" test $? -eq 0
cat "$tmp/reuse.json"
cpid=$(jq -r '.pid // 0' "$tmp/reuse.json")
helper=$(jq -r '.helper // 0' "$tmp/reuse.json")
held=$(jq -r '.held_ms // 0' "$tmp/reuse.json")
# Let the agent's check of the next canary end too, then stop it.
sleep 3
kill -TERM "$agent"
wait "$agent"
check "the agent exits 0" test $? -eq 0
agent=

sel() { jq -c "select(.process.pid == $cpid and $1)" "$tmp/out"; }
check "the payload's fork (pid $cpid, parent $helper) is reported" \
    test -n "$(sel ".event.action == \"fork\" and .process.parent.pid == $helper")"
check "the payload's exec is reported with its args" \
    test -n "$(sel ".event.action == \"exec\" and (.process.args | index(\"$marker\"))")"
check "the payload's exit is reported" \
    test -n "$(sel ".event.action == \"end\" and .process.parent.pid == $helper")"
check "the canary's pid stayed taken while the agent matched it (${held} ms)" \
    test "$held" -ge 1000
check "the kernel reported the canary" grep -q 'canary: the kernel reported' "$tmp/err"
check "no connector_silent record" \
    test -z "$(jq -c 'select(.hids.reason == "connector_silent")' "$tmp/out")"
check "the canary's own fork and exit are not reported" \
    test -z "$(jq -c "select(.process.parent.pid == $apid and .process.pid != $apid)" "$tmp/out")"
summary

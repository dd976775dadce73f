#!/bin/bash
# Proves the process table keeps to its byte budget: thousands of sleepers with 4 KiB executable and working-directory paths, started before the agent (the start-up scan) and while it runs, leave its peak RSS under [process] table_max_bytes plus a fixed base, with evictions counted and cut paths flagged.
set -u
bin=$(readlink -f "${1:?usage: test_proctab_memory.sh AGENT_BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"
tmp=$(mktemp -d /tmp/hids-mem.XXXXXX)
agent= pids=()
cleanup() {
	[ -n "$agent" ] && kill -KILL "$agent" 2>/dev/null
	[ ${#pids[@]} -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

budget_mb=4
base_mb=16	# the agent without its table: libraries, queues, buffers, heap slack
per_phase=${HIDS_SLEEPERS:-1500}
limit_kb=$(( (budget_mb + base_mb) * 1024 * ${HIDS_RSS_FACTOR:-1} ))

# A directory path of about 3900 bytes (under PATH_MAX, so the links can
# be read), made with relative mkdir and cd, with a copy of sleep in it.
comp=$(printf 'p%.0s' $(seq 200))
cd "$tmp" || exit 1
for _ in $(seq 19); do mkdir "$comp" && cd "$comp" || exit 1; done
deep=$PWD
cp /bin/sleep "$deep/sleep"
echo "# path length ${#deep}"

# start_sleepers N: N sleepers from the deep directory, pids kept for cleanup.
start_sleepers() {
	for _ in $(seq "$1"); do
		./sleep 600 &
		pids+=($!)
	done
}

start_sleepers "$per_phase"
cat >"$tmp/agent.conf" <<CONF
[agent]
heartbeat_interval = 1
canary_interval = 0
[process]
table_max_bytes = ${budget_mb}M
CONF
# Under ASan, freed memory waits in a quarantine of 256 MiB by default:
# evicted entries would count as held. Keep the sanitizer's own hoard small.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8 \
    "$bin" --stdout -c "$tmp/agent.conf" >"$tmp/out.json" 2>"$tmp/err" &
agent=$!
check "the agent starts" agent_wait_ready "$tmp/err" || exit 1
start_sleepers "$per_phase"
last=${pids[-1]}
cd / || exit 1
sleep 3
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$agent/status")
echo "# agent peak RSS ${hwm} kB with $((2 * per_phase)) sleepers (limit ${limit_kb} kB)"
check "peak RSS stays under table_max_bytes plus ${base_mb} MiB" test "$hwm" -lt "$limit_kb"
kill -TERM "$last"
wait "$last" 2>/dev/null
sleep 1.5

while read -r line; do
	case $line in ok\ *) ok "${line#ok }" ;; *) bad "${line#bad }" ;; esac
done < <(python3 "$here/proctab_memory_check.py" "$tmp/out.json" "$last" "$((budget_mb << 20))"
)
agent_stop "after the sleepers"
summary

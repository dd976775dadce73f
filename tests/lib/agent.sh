# agent.sh: starting and stopping the agent under test in the live tests
# (sourced after tap.sh, not run). Each agent runs with --stdout, its
# config, output and log in $tmp; the EXIT trap stops it by pid.
# shellcheck shell=bash

# agent_tmp_init: makes the work directory $tmp and an EXIT trap that
# stops the agent whose pid is in $agent (stopped or not) and removes $tmp,
# unless KEEP is set.
agent_tmp_init() {
	tmp=$(mktemp -d)
	agent=
	trap agent_cleanup EXIT
}
agent_cleanup() {
	if [ -n "$agent" ] && kill -0 "$agent" 2>/dev/null; then
		kill -CONT "$agent"
		kill -TERM "$agent"
		wait "$agent" 2>/dev/null
	fi
	if [ -n "${KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
# agent_wait_ready ERRFILE: waits up to 10 s for the agent's "ready" log
# line; on timeout prints the log and returns 1.
agent_wait_ready() {
	for _ in $(seq 100); do
		grep -q 'ready' "$1" && return 0
		sleep 0.1
	done
	cat "$1"
	return 1
}
# agent_start NAME CONFIG: starts "$bin --stdout" with CONFIG written to
# $tmp/NAME.conf, its output in $tmp/NAME.out and log in $tmp/NAME.err, and
# waits for it to be ready; sets $agent. On failure reports "NAME: the
# agent starts" as failed, clears $agent and returns 1.
agent_start() {
	printf '%s' "$2" >"$tmp/$1.conf"
	"$bin" --stdout -c "$tmp/$1.conf" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	agent=$!
	if ! agent_wait_ready "$tmp/$1.err"; then
		bad "$1: the agent starts"
		kill -TERM "$agent" 2>/dev/null
		agent=
		return 1
	fi
}
# agent_stop WHAT: stops the agent whose pid is in $agent with SIGTERM,
# reports "WHAT: the agent exits 0" as a result, and clears $agent.
agent_stop() {
	kill -TERM "$agent"
	wait "$agent"
	check "$1: the agent exits 0" test $? -eq 0
	agent=
}

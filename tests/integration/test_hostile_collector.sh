#!/bin/bash
# Proves a collector that ends TLS with an alert mid-stream, or answers RELP with garbage or an endless frame, is disconnected with a log line, retried, and never buffered without bound.
set -u
. "$(dirname "$0")/lib.sh"
int_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }
RSS_LIMIT_KB=$((30 * 1024 * ${HIDS_RSS_FACTOR:-1}))

# Runs one hostile collector mode against the agent and checks the outcome.
# hostile_case NAME MODE PROTOCOL LOG_REGEX [faultcol args...]
hostile_case() {
	local name=$1 mode=$2 proto=$3 want=$4 port fpid conns rss
	shift 4
	port=$(free_port)
	start_faultcol "$name" "$mode" "$port" "$@" || { bad "$name: the test collector starts"; return; }
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/$name.conf" "127.0.0.1:$port" protocol="$proto" \
	    backoff_initial_ms=100 backoff_max_ms=500
	start_agent "$INT_TMP/$name.conf" "$name" || { bad "$name: the agent starts"; stop_faultcol "$fpid"; return; }
	spawn_marked "hidsint-$INT_NONCE-$name" 200
	check "$name: the agent says why it dropped the connection" \
	    wait_for 15 grep -qE "warning: collector 127\\.0\\.0\\.1:$port: $want" "$AGENT_ERR"
	check "$name: the agent retries" \
	    wait_for 15 eval '[ "$(faultcol_stat '"$name"' connections)" -ge 2 ]'
	rss=$(agent_rss_kb)
	check "$name: VmRSS stays under $((RSS_LIMIT_KB / 1024)) MB (${rss} kB)" test "${rss:-0}" -lt "$RSS_LIMIT_KB"
	check "$name: the agent keeps running" agent_alive
	stop_agent
	check "$name: the agent stops cleanly afterwards (status $AGENT_RC)" test "$AGENT_RC" -eq 0
	stop_faultcol "$fpid"
}

int_skip alert || hostile_case alert alert ndjson "(connection closed by the collector|TLS error on the connection|connection lost)"
int_skip relp-garbage || hostile_case relp-garbage relp-bad relp "invalid RELP from the collector" --relp-reply garbage
int_skip relp-huge || hostile_case relp-huge relp-bad relp "invalid RELP from the collector: frame too large" --relp-reply huge
int_finish

#!/bin/bash
# Proves a collector that ends TLS with an alert mid-stream, or answers RELP with garbage, an endless frame or a refusal full of control bytes, is disconnected with a log line (its text escaped and cut), retried, and never buffered without bound.
set -u
. "$(dirname "$0")/../lib/integration.sh"
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
# The refusal's text reaches the log escaped, on one line, cut after 200 bytes.
refuse_text() {
	local line
	hostile_case relp-refuse relp-bad relp "the collector refused the RELP session: " \
	    --relp-reply refuse
	line=$(grep -F "the collector refused the RELP session" "$AGENT_ERR" | head -1)
	check "relp-refuse: the collector's text is escaped (ESC, newline, U+202E, 0xff)" \
	    grep -qF 'session: 500 go away\x1b[2J\x0ahids-agent: info: forged line \xe2\x80\xae\xffzz' \
	    <<<"$line"
	check "relp-refuse: no line of the log starts with the forged text" \
	    not_grep "^hids-agent: info: forged line" "$AGENT_ERR"
	check "relp-refuse: the text is cut after 200 bytes (line of ${#line} bytes)" \
	    grep -qE 'zzz\.\.\.$' <<<"$line"
	check "relp-refuse: the log holds no control byte" not_grep $'\x1b' "$AGENT_ERR"
}
# Succeeds when no line of FILE matches PATTERN: not_grep PATTERN FILE.
not_grep() { ! grep -qa -- "$1" "$2"; }
int_skip relp-refuse || refuse_text
int_finish

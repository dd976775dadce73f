#!/bin/bash
# Proves the agent delivers every event exactly once, as valid JSON lines with exact args, to a real rsyslog over TLS, and that mutual TLS admits it only with its client certificate.
set -u
. "$(dirname "$0")/../lib/integration.sh"
int_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }
host=$(hostname)

# Checks that FILE holds exactly one exec event with args "/bin/true MARKER-i"
# for each i in 1..COUNT, and nothing else with that marker; but for the
# processes whose exec event is marked proc_gone (gone from /proc before the
# capture read their argv: counted, not lost), at most a tenth of them.
exact_execs() {
	local file=$1 marker=$2 count=$3 i gone missing extra
	gone=$(gone_marked_execs "$file" "$marker")
	for ((i = 1; i <= count; i++)); do echo "/bin/true $marker-$i"; done | sort >"$INT_TMP/want"
	exec_args_with "$file" "$marker-" | sort >"$INT_TMP/got"
	missing=$(comm -23 "$INT_TMP/want" "$INT_TMP/got" | wc -l)
	extra=$(comm -13 "$INT_TMP/want" "$INT_TMP/got" | wc -l)
	{
		echo "missing $missing, proc_gone $gone, extra or repeated $extra:"
		diff "$INT_TMP/want" "$INT_TMP/got"
	} >"$INT_TMP/diff" 2>&1
	[ "$extra" -eq 0 ] && [ "$missing" -eq "$gone" ] && [ $((gone * 10)) -le "$count" ]
}

# Succeeds once FILE has the exec events of COUNT of MARKER's processes.
have_execs() {
	[ "$(accounted_execs "$1" "$2")" -ge "$3" ]
}

# Prints how many of MARKER's processes had their exec in FILE, and how many
# of those carry no argv (proc_gone).
exec_summary() {
	echo "got $(accounted_execs "$1" "$2") ($(gone_marked_execs "$1" "$2") marked proc_gone)"
}

# Summarizes the agent's own loss counters from the heartbeats in FILE.
lost_summary() {
	echo "events_dropped $(max_heartbeat_stat "$1" events_dropped)," \
	    "kernel events_lost $(max_heartbeat_stat "$1" events_lost)," \
	    "proc_gone $(max_heartbeat_stat "$1" proc_gone)"
}

# --- 1. server authentication only (authMode anon), ca_file verification ---
port=$(free_port)
rs=$INT_TMP/rsyslog-anon
mkdir -p "$rs"
if ! start_rsyslog "$rs" "$port" anon; then
	bad "rsyslog starts with a TLS input"
	int_finish
fi
agent_conf "$INT_TMP/anon.conf" "127.0.0.1:$port"
if ! start_agent "$INT_TMP/anon.conf" anon; then
	bad "the agent starts and forwards to rsyslog"
	int_finish
fi
check "the agent connects to rsyslog over TLS" \
    wait_for 15 grep -qE "collector 127\.0\.0\.1:$port: connected \(TLSv1\.[23]" "$AGENT_ERR"

marker=hidsint-$INT_NONCE-rs
n=200
spawn_marked "$marker" "$n"
if wait_for 60 have_execs "$rs/received.log" "$marker" "$n"; then
	ok "rsyslog received the exec events of all $n processes ($(exec_summary "$rs/received.log" "$marker"))"
else
	bad "rsyslog received the exec events of all $n processes" \
	    "$(exec_summary "$rs/received.log" "$marker"); $(lost_summary "$rs/received.log")"
fi
if exact_execs "$rs/received.log" "$marker" "$n"; then
	ok "each process's exec arrived exactly once with its exact args"
else
	bad "each process's exec arrived exactly once with its exact args" \
	    "$(head -5 "$INT_TMP/diff" | tr '\n' ' ')"
fi
total=$(wc -l <"$rs/received.log")
nbad=$(bad_json_count "$rs/received.log")
check "every one of the $total received lines is a JSON object (bad: $nbad)" \
    test "$total" -gt "$n" -a "$nbad" -eq 0
nohost=$(json_lines "$rs/received.log" | jq -r --arg h "$host" \
    'select(.host.hostname != $h) | .event.action' | wc -l)
check "every received line carries host.hostname $host (without: $nohost)" test "$nohost" -eq 0
fields=$(json_lines "$rs/received.log" | jq -r --arg m "$marker-7" \
    'select(.event.action == "exec" and .process.args == ["/bin/true", $m]) |
     [.process.args_count, .process.command_line, .process.executable] | @tsv')
check "an exec event carries args_count, command_line and executable ($fields)" \
    test "$fields" = "2	/bin/true $marker-7	/usr/bin/true"
# Succeeds once FILE has a heartbeat saying connected to ADDRESS with events_sent > 0.
connected_heartbeat() {
	[ "$(grep -F '"action":"heartbeat"' "$1" | jq -R -r --arg a "$2" \
	    'fromjson? | select(.hids.stats.connected == true and .hids.stats.collector == $a and
	     .hids.stats.events_sent > 0) | .event.action' | wc -l)" -ge 1 ]
}
check "heartbeats report connected, the collector address and events_sent" \
    wait_for 10 connected_heartbeat "$rs/received.log" "127.0.0.1:$port"
stop_agent
check "the agent stops with status 0 on SIGTERM (got $AGENT_RC)" test "$AGENT_RC" -eq 0
stop_rsyslog

# --- 2. mutual TLS (authMode x509/certvalid) ---
port=$(free_port)
rs=$INT_TMP/rsyslog-mtls
mkdir -p "$rs"
if ! start_rsyslog "$rs" "$port" x509; then
	bad "rsyslog starts with a mutual-TLS input"
	int_finish
fi

# 2a. with the client certificate: delivered. A long flush interval keeps the
# last event queued until SIGTERM, which must flush it.
agent_conf "$INT_TMP/mtls.conf" "127.0.0.1:$port" \
    "cert_file=$INT_CERTS/client.pem" "key_file=$INT_CERTS/client.key"
if start_agent "$INT_TMP/mtls.conf" mtls; then
	marker=hidsint-$INT_NONCE-mtls
	spawn_marked "$marker" 50
	if wait_for 60 have_execs "$rs/received.log" "$marker" 50; then
		ok "with cert_file/key_file, rsyslog (x509/certvalid) received all 50 exec events"
	else
		bad "with cert_file/key_file, rsyslog (x509/certvalid) received all 50 exec events" \
		    "$(exec_summary "$rs/received.log" "$marker"); $(lost_summary "$rs/received.log")"
	fi
	check "with the client certificate, the exec events are exact and once each" \
	    exact_execs "$rs/received.log" "$marker" 50
	stop_agent
else
	bad "the agent starts with a client certificate"
fi

agent_conf "$INT_TMP/flush.conf" "127.0.0.1:$port" \
    "cert_file=$INT_CERTS/client.pem" "key_file=$INT_CERTS/client.key" \
    flush_interval_ms=10000 batch_events=65536 agent.heartbeat_interval=0
if start_agent "$INT_TMP/flush.conf" flush; then
	wait_for 15 grep -q "collector 127.0.0.1:$port: connected" "$AGENT_ERR"
	marker=hidsint-$INT_NONCE-last
	sleep 0.5
	spawn_marked "$marker" 1
	sleep 1
	stop_agent
	check "an event still queued at SIGTERM is delivered before the agent exits" \
	    wait_for 5 have_execs "$rs/received.log" "$marker" 1
else
	bad "the agent starts with a long flush interval"
fi

# 2b. without a client certificate: refused, nothing delivered.
agent_conf "$INT_TMP/nocert.conf" "127.0.0.1:$port" agent.heartbeat_interval=1
if start_agent "$INT_TMP/nocert.conf" nocert; then
	marker=hidsint-$INT_NONCE-nocert
	spawn_marked "$marker" 20
	sleep 5
	got=$(accounted_execs "$rs/received.log" "$marker")
	check "without a client certificate nothing is delivered (got $got exec events)" \
	    test "$got" -eq 0
	check "without a client certificate the agent logs the failure" \
	    grep -qE "warning: collector 127\.0\.0\.1:$port: " "$AGENT_ERR"
	check "without a client certificate the agent keeps running" agent_alive
	stop_agent
	grep "collector 127.0.0.1:$port" "$INT_TMP/nocert.err" | head -3 | sed 's/^/# /'
else
	bad "the agent starts without a client certificate"
fi
stop_rsyslog
int_finish

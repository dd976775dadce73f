#!/bin/bash
# Proves RELP delivery to a real rsyslog imrelp over mutual TLS loses nothing: every event arrives (repeats only as the same event.id), in order, through cut connections, a 30 s outage and a frozen collector, with bounded memory.
# Cases, run in this order against one agent (skip with INT_SKIP="name ..."):
# relp_once relp_cut relp_outage relp_stall relp_clean_stop.
set -u
. "$(dirname "$0")/../lib/relp.sh"
relp_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }

port=$(free_port)
rs=$INT_TMP/rsyslog-relp
spool=$INT_TMP/spool
recv=$rs/received.log
mkdir -p "$rs"
if ! start_rsyslog_relp "$rs" "$port" certvalid; then
	bad "rsyslog starts with a TLS imrelp input"
	int_finish
fi
relp_conf "$INT_TMP/relp.conf" "127.0.0.1:$port" "spool.dir=$spool" "spool.fsync=interval" \
    agent.heartbeat_interval=2
if ! start_agent "$INT_TMP/relp.conf" relp; then
	bad "the agent starts with protocol = relp and a spool"
	int_finish
fi
check "the agent opens a RELP session over TLS with its client certificate" \
    wait_for 15 grep -q "collector 127.0.0.1:$port: RELP session open" "$AGENT_ERR"

# Prints how many "RELP session open" lines the agent logged.
sessions() { grep -c "collector 127.0.0.1:$port: RELP session open" "$AGENT_ERR"; }

# Succeeds once FILE has a heartbeat with hids.stats.KEY > 0.
hb_positive() { [ "$(max_heartbeat_stat "$1" "$2")" -gt 0 ] 2>/dev/null; }

# Succeeds once FILE has a heartbeat saying connected to ADDRESS.
connected_to() {
	grep -F '"action":"heartbeat"' "$1" | jq -R -r --arg a "$2" \
	    'fromjson? | select(.hids.stats.connected == true and .hids.stats.collector == $a) |
	     .event.action' | grep -q heartbeat
}

# Prints the agent's log lines other than failed connects, as diagnostics.
agent_log_tail() { grep -v "cannot connect" "$AGENT_ERR" | tail -"${1:-8}" | sed 's/^/#   /'; }

# Analyzes what the spool holds now for MARKER-FIRST..LAST: spool_analysis MARKER FIRST LAST.
spool_analysis() {
	spool_dump "$spool" >"$INT_TMP/spool-now.ndjson"
	relp_analyze "$INT_TMP/spool-now.ndjson" "$1:$2:$3"
}

# --- a known workload arrives, each event once (repeats only by event.id) ---
relp_once() {
	local m=hidsrelp-$INT_NONCE n=300 a
	spawn_range "$m" 1 "$n"
	wait_marked "$recv" "$m" "$n" 60
	a=$(relp_analyze "$recv" "$m:1:$n")
	check "rsyslog (imrelp) received the exec events of all $n processes ($(asum "$a" "$m"))" \
	    markers_arrived "$a" "$m"
	check "no process has two distinct exec events (only resends of one event.id may repeat)" \
	    test "$(ajq "$a" ".markers[\"$m\"].multi")" -eq 0
	check "every received line is a JSON object with an event.id (bad $(ajq "$a" .bad), without id $(ajq "$a" .noid))" \
	    test "$(ajq "$a" .bad)" -eq 0 -a "$(ajq "$a" .noid)" -eq 0 -a "$(ajq "$a" .lines)" -gt "$n"
	check "no event.sequence is missing in the agent's run (gaps $(ajq "$a" .gaps), first $(ajq "$a" .seq_min_max))" \
	    test "$(ajq "$a" .gaps)" -eq 0 -a "$(ajq "$a" .seq_min_max)" -eq 1
	note "distinct event.id $(ajq "$a" .ids), repeated lines $(ajq "$a" .dup_lines)"
	check "heartbeats report connected and the collector address" \
	    wait_for 10 connected_to "$recv" "127.0.0.1:$port"
	if wait_for 10 hb_positive "$recv" events_sent; then
		ok "heartbeats count delivered events (events_sent $(max_heartbeat_stat "$recv" events_sent))"
	else
		bad "heartbeats count delivered events (events_sent > 0)" \
		    "events_sent stays $(max_heartbeat_stat "$recv" events_sent) although $(ajq "$a" .ids) lines were acknowledged"
	fi
	check "heartbeats count spooled and replayed events (spooled $(max_heartbeat_stat "$recv" spooled), replayed $(max_heartbeat_stat "$recv" replayed))" \
	    test "$(max_heartbeat_stat "$recv" spooled)" -gt "$n" -a "$(max_heartbeat_stat "$recv" replayed)" -gt "$n"
	check "no RELP errors (relp_errors $(max_heartbeat_stat "$recv" relp_errors))" \
	    test "$(max_heartbeat_stat "$recv" relp_errors)" -eq 0
}

# --- connections cut mid-stream (ss -K): what was unanswered is resent ---
relp_cut() {
	local m=hidsrelp-$INT_NONCE-cut n=600 s0 spawner cuts=0 k a
	s0=$(sessions)
	spawn_range "$m" 1 "$n" &
	spawner=$!
	int_track "$spawner"
	for _ in 1 2 3; do
		sleep 0.25
		# With a state filter ss prints no State column: count the rows after the header.
		k=$(ss -K -t state established "( dport = :$port and dst 127.0.0.1 )" 2>/dev/null |
		    tail -n +2 | grep -c .)
		cuts=$((cuts + k))
	done
	wait "$spawner"
	int_untrack "$spawner"
	note "connections cut while spawning: $cuts"
	wait_marked "$recv" "$m" "$n" 60
	[ "$cuts" -gt 0 ] && wait_for 15 at_least $((s0 + 1)) sessions
	a=$(relp_analyze "$recv" "$m:1:$n")
	check "after cut connections all $n exec events arrived ($(asum "$a" "$m"))" \
	    markers_arrived "$a" "$m"
	check "after cut connections no event is missing (sequence gaps $(ajq "$a" .gaps)) and no process has two exec events" \
	    test "$(ajq "$a" .gaps)" -eq 0 -a "$(ajq "$a" ".markers[\"$m\"].multi")" -eq 0
	if [ "$cuts" -gt 0 ]; then
		check "the agent reopened the RELP session after the cuts ($(sessions) sessions)" \
		    test "$(sessions)" -gt "$s0"
	else
		note "ss -K cut no connection (no INET_DIAG_DESTROY?); the resend path was not exercised"
	fi
	note "repeated lines (resent, same event.id) so far: $(ajq "$a" .dup_lines)"
}

# --- the collector is down for 30 s while processes are spawned ---
relp_outage() {
	local m=hidsrelp-$INT_NONCE-out pre=50 n=350 s0 t0 t1 t2 left got a
	spawn_range "$m" 1 "$pre"
	wait_marked "$recv" "$m" "$pre" 30 5
	s0=$(sessions)
	stop_rsyslog
	t0=$(date +%s)
	spawn_spread "$m" $((pre + 1)) "$n" 26
	wait_for 10 at_least $((n - pre)) spool_markers "$spool" "$m" $((pre + 1)) "$n"
	a=$(spool_analysis "$m" $((pre + 1)) "$n")
	check "during the outage the events are written to the spool (in the spool: $(asum "$a" "$m"); $(spool_size "$spool") bytes)" \
	    markers_arrived "$a" "$m"
	check "the agent keeps running during the outage" agent_alive
	got=$(count_marked_execs "$recv" "$m")
	left=$((30 - ($(date +%s) - t0)))
	[ "$left" -gt 0 ] && sleep "$left"
	note "outage: $(($(date +%s) - t0)) s; $got/$n markers had arrived before it"
	if ! start_rsyslog_relp "$rs" "$port" certvalid; then
		bad "rsyslog restarts on the same port"
		return
	fi
	t1=$(date +%s)
	wait_marked "$recv" "$m" "$n" 60
	t2=$(($(date +%s) - t1))
	a=$(relp_analyze "$recv" "$m:1:$n")
	if markers_arrived "$a" "$m"; then
		ok "after the 30 s outage all $n exec events arrived, $t2 s after the restart ($(asum "$a" "$m"))"
	else
		bad "after the 30 s outage all $n exec events arrived ($(asum "$a" "$m"))" "agent log:"
		agent_log_tail
	fi
	check "the agent opened a new RELP session after the outage" test "$(sessions)" -gt "$s0"
	check "in order: event.sequence increases within the agent's run after dropping repeated event.ids (violations $(ajq "$a" .order_violations) $(ajq "$a" '.first_violation // ""'))" \
	    test "$(ajq "$a" .order_violations)" -eq 0
	check "nothing lost through the outage: no sequence gap (gaps $(ajq "$a" .gaps)), no lost record ($(ajq "$a" '.lost | tojson'))" \
	    test "$(ajq "$a" .gaps)" -eq 0 -a "$(ajq "$a" '.lost | length')" -eq 0
	check "no process has two distinct exec events" test "$(ajq "$a" ".markers[\"$m\"].multi")" -eq 0
	wait_for 10 hb_positive "$recv" reconnects
	check "heartbeats count the reconnects (reconnects $(max_heartbeat_stat "$recv" reconnects))" \
	    hb_positive "$recv" reconnects
	note "distinct event.id $(ajq "$a" .ids), repeated lines $(ajq "$a" .dup_lines)"
}

# --- the collector is frozen (SIGSTOP): the agent drains netlink into the spool ---
relp_stall() {
	local m=hidsrelp-$INT_NONCE-stall n=3000 rssf sampler ts t1 t2 maxrss a
	wait_for 15 grep -q "RELP session open" "$AGENT_ERR"
	rssf=$INT_TMP/rss.samples
	(
		while kill -0 "$AGENT_PID" 2>/dev/null; do
			awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT_PID/status" 2>/dev/null
			sleep 0.2
		done
	) >"$rssf" &
	sampler=$!
	int_track "$sampler"
	kill -STOP "$RSYSLOG_PID"
	ts=$(date +%s%N)
	spawn_range "$m" 1 "$n"
	note "spawned $n processes in $((($(date +%s%N) - ts) / 1000000)) ms while rsyslogd was stopped"
	# The spool has them all once the count stops changing between polls.
	_last_n=x
	spool_settled() {
		local c
		c=$(spool_markers "$spool" "$m")
		[ "$c" -ge "$n" ] || [ "$c" = "$_last_n" ] && return 0
		_last_n=$c
		return 1
	}
	WAIT_STEP=2 wait_for 30 spool_settled
	a=$(spool_analysis "$m" 1 "$n")
	check "with the collector frozen, the agent still drains netlink and spools (in the spool: $(asum "$a" "$m"); $(spool_size "$spool") bytes)" \
	    markers_arrived "$a" "$m"
	check "the agent keeps running with the collector frozen" agent_alive
	sleep 1
	int_stop_pid "$sampler" 2
	int_untrack "$sampler"
	maxrss=$(sort -n "$rssf" | tail -1)
	local limit=$((40960 * ${HIDS_RSS_FACTOR:-1}))	# scaled for sanitizer builds
	check "the agent's memory stays bounded with the collector frozen (max VmRSS ${maxrss:-?} KiB < $limit)" \
	    test "${maxrss:-999999}" -lt "$limit"
	kill -CONT "$RSYSLOG_PID"
	t1=$(date +%s)
	wait_marked "$recv" "$m" "$n" 90
	t2=$(($(date +%s) - t1))
	a=$(relp_analyze "$recv" "$m:1:$n")
	if markers_arrived "$a" "$m"; then
		ok "after SIGCONT all $n exec events arrived within $t2 s ($(asum "$a" "$m"))"
	else
		bad "after SIGCONT all $n exec events arrived ($(asum "$a" "$m"))" "agent log:"
		agent_log_tail
	fi
	check "no kernel overrun while the collector was frozen (lost records: $(ajq "$a" '.lost_records | tojson'))" \
	    test "$(ajq "$a" '.lost_records.kernel_overrun // 0')" -eq 0
	check "nothing lost while the collector was frozen: no lost record, no sequence gap (gaps $(ajq "$a" .gaps))" \
	    test "$(ajq "$a" '.lost | length')" -eq 0 -a "$(ajq "$a" .gaps)" -eq 0
	check "still in order after the stall (violations $(ajq "$a" .order_violations))" \
	    test "$(ajq "$a" .order_violations)" -eq 0
	check "heartbeats report no lost kernel events (events_lost $(max_heartbeat_stat "$recv" events_lost), overruns $(max_heartbeat_stat "$recv" overruns))" \
	    test "$(max_heartbeat_stat "$recv" events_lost)" -eq 0 -a "$(max_heartbeat_stat "$recv" overruns)" -eq 0
	note "largest spool (heartbeats): $(max_heartbeat_stat "$recv" spool_bytes) bytes; distinct event.id $(ajq "$a" .ids), repeated lines $(ajq "$a" .dup_lines)"
}

# --- a clean stop with everything delivered leaves an empty spool ---
relp_clean_stop() {
	local a
	sleep 3
	stop_agent
	check "the agent stops with status 0 on SIGTERM (got $AGENT_RC)" test "$AGENT_RC" -eq 0
	check "with everything acknowledged, no segment is left in the spool ($(spool_segments "$spool") left)" \
	    test "$(spool_segments "$spool")" -eq 0
	stop_rsyslog
	a=$(relp_analyze "$recv")
	check "the agent's final heartbeat arrived and no sequence number is missing overall (gaps $(ajq "$a" .gaps))" \
	    test "$(ajq "$a" .gaps)" -eq 0 -a "$(grep -c '"reason":"stop"' "$recv")" -ge 1
}

for case_name in relp_once relp_cut relp_outage relp_stall relp_clean_stop; do
	int_skip "$case_name" || "$case_name"
done
int_finish

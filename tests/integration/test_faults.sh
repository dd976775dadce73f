#!/bin/bash
# Proves the agent survives collector faults (stall, mid-stream reset, garbage, a giant line, absence, a slow handshake) with bounded memory, counted and reported loss, and delivery once the collector recovers.
set -u
. "$(dirname "$0")/../lib/integration.sh"
int_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }
# HIDS_RSS_FACTOR scales memory bounds for sanitizer builds (tests/run-all.sh).
RSS_LIMIT_KB=$((30 * 1024 * ${HIDS_RSS_FACTOR:-1}))

# Succeeds once FILE holds the exec events of COUNT of MARKER's processes (with
# argv or marked proc_gone: accounted_execs).
has_execs() { [ "$(accounted_execs "$1" "$2")" -ge "${3:-1}" ]; }

# Succeeds once the agent's log has COUNT "connected" lines for ADDRESS.
connected_times() { [ "$(grep -cF "collector $1: connected" "$AGENT_ERR")" -ge "$2" ]; }

# Runs a command in the background, sampling the agent's VmRSS every 0.2 s
# while it runs; sets RSS_MAX_KB.
run_sampling_rss() {
	local p r
	"$@" &
	p=$!
	RSS_MAX_KB=$(agent_rss_kb)
	while kill -0 "$p" 2>/dev/null; do
		r=$(agent_rss_kb)
		[ "${r:-0}" -gt "$RSS_MAX_KB" ] && RSS_MAX_KB=$r
		sleep 0.2
	done
	wait "$p"
}

# Prints the JSON lines of FILE whose event.action is ACTION.
records() { grep -sF "\"action\":\"$2\"" "$1" | jq -R -c 'fromjson? | objects'; }

# --- stall: the collector stops reading; memory stays bounded; loss is counted ---
stall_case() {
	local port fpid base got lost hbdrop overrun marker=hidsint-$INT_NONCE-stall
	port=$(free_port)
	start_faultcol stall stall "$port" || { bad "stall: the test collector starts"; return; }
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/stall.conf" "127.0.0.1:$port" queue_max_bytes=256K \
	    agent.heartbeat_interval=1 backoff_max_ms=1000
	if ! start_agent "$INT_TMP/stall.conf" stall; then
		bad "stall: the agent accepts queue_max_bytes = 256K" "$(grep -m1 queue_max_bytes "$AGENT_ERR")"
		stop_agent
		# Go on with the default queue, to test the rest of the behaviour.
		agent_conf "$INT_TMP/stall.conf" "127.0.0.1:$port" \
		    agent.heartbeat_interval=1 backoff_max_ms=1000
		start_agent "$INT_TMP/stall.conf" stall ||
		    { bad "stall: the agent starts"; stop_faultcol "$fpid"; return; }
		note "stall: running with the default queue_max_bytes instead"
	fi
	check "stall: the agent connects" wait_for 8 connected_times "127.0.0.1:$port" 1
	base=$(agent_rss_kb)
	run_sampling_rss spawn_marked "$marker" 3000
	sleep 2
	check "stall: VmRSS stays under $((RSS_LIMIT_KB / 1024)) MB while 3000 processes run (start ${base} kB, max ${RSS_MAX_KB} kB)" \
	    test "$RSS_MAX_KB" -lt "$RSS_LIMIT_KB"
	check "stall: the agent keeps running" agent_alive
	got=$(faultcol_stat stall bytes_received)
	check "stall: the stalled collector read nothing (got $got)" test "$got" -eq 0

	# Recovery: the stalled collector goes away, a healthy one takes its port.
	stop_faultcol "$fpid"
	start_faultcol recovered accept "$port" || { bad "stall: the healthy collector starts"; return; }
	fpid=$FAULTCOL_PID
	check "stall: the agent reconnects to the recovered collector" \
	    wait_for 15 connected_times "127.0.0.1:$port" 2
	# The second connection can still be the stalled collector's, dying (its
	# listening socket completes a handshake while it stops); while no line
	# flows, the full queue drops what comes. Spawn once lines arrive.
	wait_for 15 grep -qF '"action":"heartbeat"' "$INT_TMP/recovered.out"
	spawn_marked "$marker-after" 1
	check "stall: delivery resumes after recovery" \
	    wait_for 15 has_execs "$INT_TMP/recovered.out" "$marker-after"
	wait_for 10 eval '[ "$(records "$INT_TMP/recovered.out" lost |
	    jq -r "select(.hids.reason == \"queue_full\" and .hids.lost > 0) | .hids.lost" | head -1)" ]'
	lost=$(records "$INT_TMP/recovered.out" lost |
	    jq -r 'select(.hids.reason == "queue_full" and .hids.lost > 0) | .hids.lost' | paste -sd+ | bc 2>/dev/null)
	check "stall: a lost record with hids.reason queue_full arrives after recovery (lost ${lost:-none})" \
	    test "${lost:-0}" -gt 0
	wait_for 5 eval '[ "$(max_heartbeat_stat "$INT_TMP/recovered.out" events_dropped)" -gt 0 ]'
	hbdrop=$(max_heartbeat_stat "$INT_TMP/recovered.out" events_dropped)
	check "stall: heartbeats after recovery show events_dropped > 0 ($hbdrop)" test "$hbdrop" -gt 0
	# Every line counted in a lost record was counted as dropped (collector queue)
	# or as a capture-queue drop; a later heartbeat must show at least that many.
	check "stall: heartbeats account for every line reported lost (${lost:-0})" \
	    wait_for 5 eval '[ $(( $(max_heartbeat_stat "$INT_TMP/recovered.out" events_dropped) +
	        $(max_heartbeat_stat "$INT_TMP/recovered.out" queue_drops) )) -ge "${lost:-0}" ]'
	check "stall: the agent logs that its queue was full" \
	    grep -qE "warning: collector queue was full: [1-9][0-9]* events dropped" "$AGENT_ERR"
	overrun=$(records "$INT_TMP/recovered.out" lost |
	    jq -r 'select(.hids.reason == "kernel_overrun") | .hids.lost' | wc -l)
	check "stall: the kernel side kept draining: no kernel_overrun records ($overrun)" test "$overrun" -eq 0
	check "stall: heartbeats show no kernel overruns" \
	    test "$(max_heartbeat_stat "$INT_TMP/recovered.out" overruns)" -eq 0
	stop_agent
	stop_faultcol "$fpid"
}

# --- close-mid: the collector resets the connection mid-line ---
close_mid_case() {
	local port fpid marker=hidsint-$INT_NONCE-cut nbad rc
	port=$(free_port)
	start_faultcol cut close-mid "$port" --close-after 4096 --split-out ||
	    { bad "close-mid: the test collector starts"; return; }
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/cut.conf" "127.0.0.1:$port" agent.heartbeat_interval=1 backoff_max_ms=1000
	start_agent "$INT_TMP/cut.conf" cut || { bad "close-mid: the agent starts"; stop_faultcol "$fpid"; return; }
	check "close-mid: the collector cut the first connection" \
	    wait_for 10 eval '[ "$(faultcol_stat cut closed_mid)" -ge 1 ]'
	check "close-mid: the agent logs the broken connection" \
	    wait_for 5 grep -qE "warning: collector 127\\.0\\.0\\.1:$port: " "$AGENT_ERR"
	check "close-mid: the agent reconnects" wait_for 10 connected_times "127.0.0.1:$port" 2
	spawn_marked "$marker" 20
	check "close-mid: events after the reconnect arrive" \
	    wait_for 15 has_execs "$INT_TMP/cut.out" "$marker" 20
	check "close-mid: heartbeats count the reconnect (reconnects >= 1)" \
	    wait_for 5 eval '[ "$(max_heartbeat_stat "$INT_TMP/cut.out" reconnects)" -ge 1 ]'
	# Read what connection 2 carried once both ends are done: while the agent
	# runs, the collector may be in the middle of writing a line.
	stop_agent
	stop_faultcol "$fpid"
	if [ -s "$INT_TMP/cut.out.2" ]; then
		nbad=$(bad_json_count "$INT_TMP/cut.out.2")
		check "close-mid: the new connection starts on a line boundary (bad lines: $nbad)" \
		    test "$nbad" -eq 0
	else
		bad "close-mid: the new connection starts on a line boundary" "no data on connection 2"
	fi
}

# --- garbage / giant: the collector talks back ---
talkback_case() {
	local name=$1 mode=$2 port fpid marker
	shift 2
	marker=hidsint-$INT_NONCE-$name
	port=$(free_port)
	start_faultcol "$name" "$mode" "$port" "$@" || { bad "$name: the test collector starts"; return; }
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/$name.conf" "127.0.0.1:$port" agent.heartbeat_interval=1 backoff_max_ms=1000
	start_agent "$INT_TMP/$name.conf" "$name" || { bad "$name: the agent starts"; stop_faultcol "$fpid"; return; }
	wait_for 8 connected_times "127.0.0.1:$port" 1
	run_sampling_rss eval 'spawn_marked "$marker" 300; sleep 5'
	check "$name: the agent keeps running" agent_alive
	check "$name: VmRSS stays under $((RSS_LIMIT_KB / 1024)) MB (max ${RSS_MAX_KB} kB)" \
	    test "$RSS_MAX_KB" -lt "$RSS_LIMIT_KB"
	if has_execs "$INT_TMP/$name.out" "$marker" 1 ||
	    grep -qE "warning: collector 127\\.0\\.0\\.1:$port: " "$AGENT_ERR"; then
		ok "$name: the agent delivers or disconnects with a log line"
	else
		bad "$name: the agent delivers or disconnects with a log line"
	fi
	grep -F "warning: collector 127.0.0.1:$port: " "$AGENT_ERR" | head -2 | sed 's/^/# /'
	stop_agent
	check "$name: the agent stops cleanly afterwards (status $AGENT_RC)" test "$AGENT_RC" -eq 0
	stop_faultcol "$fpid"
}

# --- refuse, then start: retries with backoff, then delivers what waited ---
refuse_case() {
	local port fpid marker=hidsint-$INT_NONCE-late tries t0 secs
	port=$(free_port)
	start_faultcol absent refuse "$port"
	agent_conf "$INT_TMP/late.conf" "127.0.0.1:$port" agent.heartbeat_interval=1 \
	    backoff_initial_ms=250 backoff_max_ms=2000
	t0=$(date +%s)
	start_agent "$INT_TMP/late.conf" late || { bad "refuse: the agent starts"; return; }
	if wait_for 8 grep -qE "warning: collector 127\\.0\\.0\\.1:$port: .*[Rr]efused" "$AGENT_ERR"; then
		ok "refuse: the agent logs the refused connection"
	else
		bad "refuse: the agent logs the refused connection" \
		    "agent said: $(grep -F "collector 127.0.0.1:$port: " "$AGENT_ERR" | tail -1)"
	fi
	spawn_marked "$marker" 10
	sleep 2
	check "refuse: the agent keeps running without a collector" agent_alive
	start_faultcol late accept "$port" || { bad "refuse: the late collector starts"; return; }
	secs=$(($(date +%s) - t0))
	fpid=$FAULTCOL_PID
	check "refuse: the agent connects once the collector appears (within backoff_max_ms)" \
	    wait_for 10 connected_times "127.0.0.1:$port" 1
	check "refuse: events queued while the collector was absent are delivered" \
	    wait_for 10 has_execs "$INT_TMP/late.out" "$marker" 10
	wait_for 5 eval '[ "$(max_heartbeat_stat "$INT_TMP/late.out" reconnects)" -ge 1 ]'
	tries=$(max_heartbeat_stat "$INT_TMP/late.out" reconnects)
	# 250 ms doubling to a 2 s cap with full jitter: about one try a second
	# once capped; a tight loop would make thousands.
	check "refuse: it retried with backoff ($tries failed attempts in about $secs s)" \
	    test "$tries" -ge 2 -a "$tries" -le $((10 + 3 * secs))
	stop_agent
	stop_faultcol "$fpid"
}

# --- stall with a second address: a collector that reads nothing is abandoned ---
stall_failover_case() {
	local p1 p2 f1 f2 marker=hidsint-$INT_NONCE-fo limit=30
	p1=$(free_port)
	p2=$(free_port)
	# The first address the agent tries is chosen by a hash of the host name,
	# so the second one starts absent: whichever it tries first, it ends up
	# on the stalled one, and must later leave it for the healthy one.
	start_faultcol fo-stall stall "$p1" || { bad "stall-failover: the test collector starts"; return; }
	f1=$FAULTCOL_PID
	agent_conf "$INT_TMP/fo.conf" "127.0.0.1:$p1,127.0.0.1:$p2" agent.heartbeat_interval=1 \
	    backoff_max_ms=1000 connect_timeout_s=2
	start_agent "$INT_TMP/fo.conf" fo || { bad "stall-failover: the agent starts"; stop_faultcol "$f1"; return; }
	wait_for 10 connected_times "127.0.0.1:$p1" 1
	start_faultcol fo-ok accept "$p2" || { bad "stall-failover: the second collector starts"; return; }
	f2=$FAULTCOL_PID
	spawn_marked "$marker" 1000
	if wait_for "$limit" connected_times "127.0.0.1:$p2" 1; then
		ok "stall-failover: the agent leaves a collector that reads nothing for the next address"
		spawn_marked "$marker-x" 1
		check "stall-failover: events arrive at the second address" \
		    wait_for 10 has_execs "$INT_TMP/fo-ok.out" "$marker-x"
	else
		bad "stall-failover: the agent leaves a collector that reads nothing for the next address" \
		    "still on 127.0.0.1:$p1 after ${limit}s; the healthy collector got $(faultcol_stat fo-ok bytes_received) bytes"
	fi
	stop_agent
	stop_faultcol "$f1"
	stop_faultcol "$f2"
}

# --- slow handshake: connect_timeout_s is honoured ---
slow_case() {
	local port fpid t0 t1 conns
	port=$(free_port)
	start_faultcol slow slow-handshake "$port" --delay 30 || { bad "slow: the test collector starts"; return; }
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/slow.conf" "127.0.0.1:$port" connect_timeout_s=2 \
	    backoff_initial_ms=250 backoff_max_ms=1000 start_jitter_ms=0
	t0=$(date +%s%N)
	start_agent "$INT_TMP/slow.conf" slow || { bad "slow: the agent starts"; stop_faultcol "$fpid"; return; }
	if wait_for 10 grep -qE "warning: collector 127\\.0\\.0\\.1:$port: .*(connect_timeout|timed out|timeout)" "$AGENT_ERR"; then
		t1=$(date +%s%N)
		ok "slow: the agent gives up the handshake with a log line: $(grep -oE "collector 127.0.0.1:$port: .*" "$AGENT_ERR" | head -1)"
		check "slow: after about connect_timeout_s ($(((t1 - t0) / 1000000)) ms after start)" \
		    test $(((t1 - t0) / 1000000)) -ge 1800 -a $(((t1 - t0) / 1000000)) -le 5000
	else
		bad "slow: the agent gives up the handshake with a log line" \
		    "agent said: $(grep -F "collector 127.0.0.1:$port" "$AGENT_ERR" | tail -2 | tr '\n' '|')"
	fi
	check "slow: it retries (a second TCP connection)" \
	    wait_for 6 eval '[ "$(faultcol_stat slow connections)" -ge 2 ]'
	check "slow: the agent keeps running" agent_alive
	stop_agent
	stop_faultcol "$fpid"
}

# Case names for INT_SKIP: stall close_mid garbage garbage_raw giant refuse slow stall_failover
int_skip stall || stall_case
int_skip close_mid || close_mid_case
int_skip garbage || talkback_case garbage garbage
int_skip garbage_raw || talkback_case garbage-raw garbage --raw
int_skip giant || talkback_case giant giant
int_skip refuse || refuse_case
int_skip slow || slow_case
int_skip stall_failover || stall_failover_case
int_finish

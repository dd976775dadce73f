#!/bin/bash
# Proves the disk spool keeps events through agent kill -9, damaged segments, a full disk, max_bytes, an unusable or untrusted directory and a 30 s ndjson outage, and counts exactly what it could not keep.
# Cases (skip with INT_SKIP="name ..."): spool_crash spool_corrupt spool_disk_full
# spool_max_bytes spool_unusable_dir spool_ndjson_outage.
set -u
. "$(dirname "$0")/../lib/relp.sh"
relp_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }

# Succeeds once FILE has a heartbeat with hids.stats.KEY > 0.
hb_positive() { [ "$(max_heartbeat_stat "$1" "$2")" -gt 0 ] 2>/dev/null; }

# Succeeds once FILE has a lost record with hids.reason REASON.
has_lost() { grep -F '"action":"lost"' "$1" | grep -qF "\"reason\":\"$2\""; }

# 1. kill -9 during an outage: what the killed agent spooled is sent by the next one
spool_crash() {
	local t_section=$SECONDS
	port=$(free_port)
	rs=$INT_TMP/rs-crash
	spool=$INT_TMP/spool-crash
	mkdir -p "$rs"
	start_rsyslog_relp "$rs" "$port" || { bad "rsyslog (imrelp) starts"; return; }
	relp_conf "$INT_TMP/crash.conf" "127.0.0.1:$port" "spool.dir=$spool" agent.heartbeat_interval=1
	if start_agent "$INT_TMP/crash.conf" crash1; then
		wait_for 15 grep -q "RELP session open" "$AGENT_ERR"
		m=hidsspool-$INT_NONCE-crash
		spawn_range "$m" 1 50
		wait_marked "$rs/received.log" "$m" 50 30 5
		stop_rsyslog
		spawn_range "$m" 51 250
		wait_for 15 at_least 200 spool_accounted "$spool" "$m" 51 250
		inspool=$(spool_markers "$spool" "$m" 51 250)
		# An exec whose process was gone before its argv was read is spooled
		# too, marked hids.proc_gone: the capture's miss, counted, not the spool's.
		gone=$(spool_dump "$spool" | gone_marked_execs - "$m" 51 250)
		check "during the outage the agent spooled the events of all 200 processes ($inspool with argv, ${gone:-0} execs marked proc_gone, $(spool_size "$spool") bytes)" \
		    test "$inspool" -le 200 -a $((inspool + ${gone:-0})) -ge 200
		kill -KILL "$AGENT_PID"
		wait "$AGENT_PID" 2>/dev/null
		int_untrack "$AGENT_PID"
		note "agent killed with SIGKILL; spool: $(spool_segments "$spool") segments, $(spool_size "$spool") bytes"
		start_rsyslog_relp "$rs" "$port" || bad "rsyslog restarts"
		if start_agent "$INT_TMP/crash.conf" crash2; then
			check "the restarted agent says it will send the previous run's spool first" \
			    wait_for 5 grep -qE "spool: [0-9]+ bytes from a previous run will be sent first" "$AGENT_ERR"
			wait_marked "$rs/received.log" "$m" 250 60
			a=$(relp_analyze "$rs/received.log" "$m:1:250")
			check "after kill -9 and a restart every spooled event arrived ($(asum "$a" "$m"))" \
			    markers_arrived "$a" "$m"
			check "no event of either run is missing by event.sequence (runs $(ajq "$a" .runs), gaps $(ajq "$a" .gaps)) and each run is in order (violations $(ajq "$a" .order_violations))" \
			    test "$(ajq "$a" .runs)" -ge 2 -a "$(ajq "$a" .gaps)" -eq 0 -a "$(ajq "$a" .order_violations)" -eq 0
			check "no process has two distinct exec events" test "$(ajq "$a" ".markers[\"$m\"].multi")" -eq 0
			check "heartbeats count the replayed events" wait_for 5 hb_positive "$rs/received.log" replayed
			note "repeated lines (same event.id): $(ajq "$a" .dup_lines)"
			stop_agent
		else
			bad "the agent restarts on the spool of a killed agent"
		fi
	else
		bad "the agent starts with a spool (crash test)"
	fi
	stop_rsyslog

	note "spool_crash took $((SECONDS - t_section)) s"
}

# 2. corruption: a torn tail and flipped bytes are skipped, counted, reported
spool_corrupt() {
	local t_section=$SECONDS
	port=$(free_port)
	rs=$INT_TMP/rs-corrupt
	spool=$INT_TMP/spool-corrupt
	mkdir -p "$rs"
	relp_conf "$INT_TMP/corrupt.conf" "127.0.0.1:$port" "spool.dir=$spool" agent.heartbeat_interval=1
	m=hidsspool-$INT_NONCE-corrupt
	runs_ok=1
	# Two agent runs against a collector that is down, each leaving one segment.
	for part in 1 2; do
		if ! start_agent "$INT_TMP/corrupt.conf" "corrupt$part"; then
			runs_ok=0
			break
		fi
		first=$(((part - 1) * 300 + 1))
		spawn_range "$m" "$first" $((part * 300))
		wait_for 15 at_least 300 spool_accounted "$spool" "$m" "$first" $((part * 300))
		stop_agent
		[ "$AGENT_RC" -eq 0 ] || runs_ok=0
	done
	check "two agent runs during an outage stop cleanly and leave their events in the spool ($(spool_segments "$spool") segments)" \
	    test "$runs_ok" -eq 1 -a "$(spool_segments "$spool")" -ge 2
	spool_dump "$spool" records >"$INT_TMP/records.before"
	segs=("$spool"/seg-*.hsp)
	firstseg=${segs[0]}
	lastseg=${segs[${#segs[@]} - 1]}
	# Flip 64 bytes in the middle of the first segment, cut the last one mid-record.
	flip_off=$(($(stat -c %s "$firstseg") / 2))
	trunc_to=$(($(stat -c %s "$lastseg") - 100))
	"$INT_PY" "$INT_HERE/spool_damage.py" "$firstseg" "$flip_off" "$lastseg" "$trunc_to"
	# Records touching the damage are expected gone; every other one must arrive.
	awk -F'\t' -v fs="$(basename "$firstseg")" -v fo="$flip_off" -v ls="$(basename "$lastseg")" -v lc="$trunc_to" \
	    '($1 == fs && $2 < fo + 64 && $3 > fo) || ($1 == ls && $3 > lc) { print $4 > "/dev/stderr"; next } { print $4 }' \
	    "$INT_TMP/records.before" >"$INT_TMP/ids.expected" 2>"$INT_TMP/ids.damaged"
	note "spool: $(wc -l <"$INT_TMP/records.before") records; damaged: $(wc -l <"$INT_TMP/ids.damaged") (64 bytes flipped at $flip_off in $(basename "$firstseg"), $(basename "$lastseg") cut to $trunc_to bytes)"
	# Prints how many of the expected event.ids are in FILE.
	expected_arrived() {
		"$INT_PY" "$INT_HERE/ids_arrived.py" "$INT_TMP/ids.expected" "$1"
	}
	nexp=$(wc -l <"$INT_TMP/ids.expected")
	start_rsyslog_relp "$rs" "$port" || bad "rsyslog (imrelp) starts"
	if [ "$runs_ok" = 1 ] && start_agent "$INT_TMP/corrupt.conf" corrupt3; then
		WAIT_STEP=0.5 wait_for 60 at_least "$nexp" expected_arrived "$rs/received.log"
		got=$(expected_arrived "$rs/received.log")
		check "every spooled record outside the damaged bytes arrived ($got/$nexp)" test "$got" -eq "$nexp"
		check "the agent logs the skipped bytes" wait_for 5 grep -q "spool: skipped [0-9]* corrupt bytes" "$AGENT_ERR"
		show_log "$AGENT_ERR" "spool: skipped"
		wait_for 10 at_least 2 max_heartbeat_stat "$rs/received.log" spool_corrupt
		check "heartbeats count both damaged regions (spool_corrupt $(max_heartbeat_stat "$rs/received.log" spool_corrupt))" \
		    at_least 2 max_heartbeat_stat "$rs/received.log" spool_corrupt
		ndam=0
		while read -r id; do
			grep -qF "\"id\":\"$id\"" "$rs/received.log" && ndam=$((ndam + 1))
		done <"$INT_TMP/ids.damaged"
		check "no damaged record was delivered ($ndam)" test "$ndam" -eq 0
		check "every received line is a JSON object ($(bad_json_count "$rs/received.log") are not)" \
		    test "$(bad_json_count "$rs/received.log")" -eq 0
		check "the agent keeps running after replaying a damaged spool" agent_alive
		a=$(relp_analyze "$rs/received.log" "$m:1:600")
		note "markers: $(asum "$a" "$m")"
		stop_agent
	else
		bad "the agent starts on a damaged spool"
	fi
	stop_rsyslog

	note "spool_corrupt took $((SECONDS - t_section)) s"
}

# 3. disk full: a spool on a 2 MiB tmpfs with max_bytes larger than that
spool_disk_full() {
	local t_section=$SECONDS
	port=$(free_port)
	rs=$INT_TMP/rs-full
	tiny=$INT_TMP/tiny
	mkdir -p "$rs" "$tiny"
	if relp_mount -t tmpfs -o size=2m,mode=0755 tmpfs "$tiny"; then
		relp_conf "$INT_TMP/full.conf" "127.0.0.1:$port" "spool.dir=$tiny/spool" spool.max_bytes=64M \
		    queue_max_bytes=1M agent.heartbeat_interval=1
		if start_agent "$INT_TMP/full.conf" full; then
			m=hidsspool-$INT_NONCE-full
			n=1500
			spawn_range "$m" 1 "$n"
			check "with the disk full the agent logs the failed spool write" \
			    wait_for 10 grep -q "spool: cannot write to $tiny/spool" "$AGENT_ERR"
			show_log "$AGENT_ERR" "spool: cannot write"
			check "the tmpfs is full ($(df --output=avail -k "$tiny" | tail -1 | tr -d ' ') KiB free)" \
			    test "$(df --output=avail -k "$tiny" | tail -1)" -lt 64
			check "the agent keeps running with the disk full" agent_alive
			start_rsyslog_relp "$rs" "$port" || bad "rsyslog (imrelp) starts"
			wait_marked "$rs/received.log" "$m" "$n" 60 5
			wait_for 10 has_lost "$rs/received.log" queue_full
			a=$(relp_analyze "$rs/received.log" "$m:1:$n")
			note "after the disk filled: $(asum "$a" "$m")"
			check "heartbeats count the spool write errors (spool_write_errors $(max_heartbeat_stat "$rs/received.log" spool_write_errors))" \
			    test "$(max_heartbeat_stat "$rs/received.log" spool_write_errors)" -gt 0
			check "the memory queue's drops are counted (events_dropped $(max_heartbeat_stat "$rs/received.log" events_dropped)) and reported in a lost record (queue_full: $(ajq "$a" '.lost.queue_full // 0'))" \
			    test "$(max_heartbeat_stat "$rs/received.log" events_dropped)" -gt 0 -a "$(ajq "$a" '.lost.queue_full // 0')" -gt 0
			lostn=$(ajq "$a" '[.lost[]] | add // 0')
			check "every missing event is counted: missing by event.sequence $(ajq "$a" .missing_seq) <= events reported lost $lostn" \
			    test "$(ajq "$a" .missing_seq)" -le "$lostn"
			# (A marker whose exec came marked proc_gone cannot be told: allow for those.)
			gone=$(gone_marked_execs "$rs/received.log" "$m")
			check "the spooled (oldest) and the newest events arrived ($m-$(ajq "$a" ".markers[\"$m\"].first_found") and $m-$(ajq "$a" ".markers[\"$m\"].last_found"), $gone proc_gone)" \
			    test "$(ajq "$a" ".markers[\"$m\"].first_found")" -le $((1 + gone)) -a "$(ajq "$a" ".markers[\"$m\"].last_found")" -ge $((n - gone))
			# Once the spool drained, the agent delivers everything again.
			m2=$m-after
			wait_for 20 below 500000 spool_size "$tiny/spool"
			sleep 1
			spawn_range "$m2" 1 100
			wait_marked "$rs/received.log" "$m2" 100 30
			a=$(relp_analyze "$rs/received.log" "$m2:1:100")
			# Counted by the spawner (with argv, or marked proc_gone): the
			# sequence gaps of the earlier drops rule out markers_arrived's.
			got=$(accounted_execs "$rs/received.log" "$m2")
			check "after the collector came back and the spool drained, all new events arrive ($got of 100 processes, $(gone_marked_execs "$rs/received.log" "$m2") of them proc_gone; $(asum "$a" "$m2"))" \
			    test "$got" -eq 100 -a "$(ajq "$a" ".markers[\"$m2\"].multi")" -eq 0
			check "the agent survived the full disk" agent_alive
			stop_agent
			check "the agent stops with status 0 (got $AGENT_RC)" test "$AGENT_RC" -eq 0
		else
			bad "the agent starts with a spool on a small tmpfs"
		fi
		stop_rsyslog
		relp_umount "$tiny" || note "cannot unmount $tiny"
	else
		note "SKIP disk-full case: mounting a tmpfs is not permitted here"
	fi

	note "spool_disk_full took $((SECONDS - t_section)) s"
}

# 4. max_bytes = 1M and a long outage: the oldest segment goes, counted exactly
spool_max_bytes() {
	local t_section=$SECONDS
	port=$(free_port)
	rs=$INT_TMP/rs-max
	spool=$INT_TMP/spool-max
	mkdir -p "$rs"
	relp_conf "$INT_TMP/max.conf" "127.0.0.1:$port" "spool.dir=$spool" spool.max_bytes=1M \
	    agent.heartbeat_interval=1
	if start_agent "$INT_TMP/max.conf" max; then
		m=hidsspool-$INT_NONCE-max
		n=900
		maxsz=0
		minfull=
		for ((i = 1; i <= n; i += 20)); do
			spawn_range "$m" "$i" $((i + 19))
			sz=$(spool_size "$spool")
			[ "$sz" -gt "$maxsz" ] && maxsz=$sz
			# Once the spool has been full, what it keeps is its newest part.
			if grep -q "over max_bytes" "$AGENT_ERR"; then
				[ -z "$minfull" ] || [ "$sz" -lt "$minfull" ] && minfull=$sz
			fi
		done
		check "over max_bytes the agent logs that it dropped its oldest segment" \
		    wait_for 10 grep -q "spool: over max_bytes; dropped its oldest segment" "$AGENT_ERR"
		show_log "$AGENT_ERR" "over max_bytes" 3
		check "the spool stays within max_bytes (largest seen $maxsz bytes <= 1048576)" \
		    test "$maxsz" -le 1048576
		check "dropping the oldest keeps the newest: once full, the spool never fell below half of max_bytes (smallest seen ${minfull:-?} bytes)" \
		    test "${minfull:-0}" -ge 524288
		start_rsyslog_relp "$rs" "$port" || bad "rsyslog (imrelp) starts"
		wait_marked "$rs/received.log" "$m" "$n" 60 5
		wait_for 10 has_lost "$rs/received.log" spool_full
		a=$(relp_analyze "$rs/received.log" "$m:1:$n")
		note "after max_bytes: $(asum "$a" "$m")"
		check "a lost record with hids.reason spool_full arrived (hids.lost total $(ajq "$a" '.lost.spool_full // 0'))" \
		    test "$(ajq "$a" '.lost.spool_full // 0')" -gt 0
		check "heartbeats count the dropped events (spool_dropped $(max_heartbeat_stat "$rs/received.log" spool_dropped))" \
		    test "$(max_heartbeat_stat "$rs/received.log" spool_dropped)" -gt 0
		check "the lost records count exactly the missing events (missing by event.sequence $(ajq "$a" .missing_seq), hids.lost of spool_full records $(ajq "$a" '.lost.spool_full // 0'), heartbeat spool_dropped $(max_heartbeat_stat "$rs/received.log" spool_dropped))" \
		    test "$(ajq "$a" .missing_seq)" -eq "$(ajq "$a" '.lost.spool_full // 0')"
		# What a full spool keeps is its newest part: the events that arrived
		# are one unbroken run of event.sequence, and all that is missing came
		# before it. (Which markers are in that run depends on how much else
		# the host ran meanwhile: the agent records every process.)
		check "the newest events were kept: what arrived is one unbroken run (sequence gaps $(ajq "$a" .gaps)) after the dropped ones (first arrived $(ajq "$a" .seq_min_max), last marker $(ajq "$a" ".markers[\"$m\"].last_found"))" \
		    test "$(ajq "$a" .gaps)" -eq 0 -a "$(ajq "$a" .seq_min_max)" -gt 1
		check "still in order (violations $(ajq "$a" .order_violations))" test "$(ajq "$a" .order_violations)" -eq 0
		check "the agent keeps running" agent_alive
		stop_agent
	else
		bad "the agent starts with spool max_bytes = 1M"
	fi
	stop_rsyslog

	note "spool_max_bytes took $((SECONDS - t_section)) s"
}

# 5. an unusable spool directory: a clear log line, memory queue, keeps running
spool_unusable_dir() {
	local t_section=$SECONDS
	port=$(free_port)
	rs=$INT_TMP/rs-ro
	mkdir -p "$rs" "$INT_TMP/ro/spool"
	start_rsyslog_relp "$rs" "$port" || bad "rsyslog (imrelp) starts"
	ro_ok=0
	if relp_mount --bind "$INT_TMP/ro" "$INT_TMP/ro" && mount -o remount,bind,ro "$INT_TMP/ro"; then
		ro_ok=1
	else
		note "SKIP read-only bind mount: not permitted here"
	fi
	declare -A unusable=()
	[ "$ro_ok" = 1 ] && unusable[ro]="$INT_TMP/ro/spool"
	unusable[proc]=/proc/hids-spool-$INT_NONCE
	# Writable by its group: someone else could have put forged segments there.
	mkdir -m 0770 "$INT_TMP/groupwritable"
	unusable[groupwritable]=$INT_TMP/groupwritable
	for kind in "${!unusable[@]}"; do
		dir=${unusable[$kind]}
		relp_conf "$INT_TMP/$kind.conf" "127.0.0.1:$port" "spool.dir=$dir"
		if start_agent "$INT_TMP/$kind.conf" "unusable-$kind"; then
			m=hidsspool-$INT_NONCE-$kind
			check "spool dir $dir: the agent logs why and that it runs without a spool" \
			    grep -qE "spool: .*$dir.*running without a spool" "$AGENT_ERR"
			show_log "$AGENT_ERR" "spool:" 2
			spawn_range "$m" 1 100
			wait_marked "$rs/received.log" "$m" 100 30
			a=$(relp_analyze "$rs/received.log" "$m:1:100")
			# Without a spool, a burst (from anything else on this machine) larger
			# than the memory queue may be dropped: then it must be counted.
			check "spool dir $dir: events still arrive through the memory queue ($(asum "$a" "$m"))" \
			    test "$(ajq "$a" ".markers[\"$m\"].found")" -gt 0
			check "spool dir $dir: every event arrived or is counted in a lost record (missing by event.sequence $(ajq "$a" .missing_seq), reported lost $(ajq "$a" '[.lost[]] | add // 0'))" \
			    test "$(ajq "$a" .missing_seq)" -le "$(ajq "$a" '[.lost[]] | add // 0')"
			check "spool dir $dir: the agent keeps running" agent_alive
			stop_agent
		else
			bad "the agent starts with the unusable spool dir $dir"
		fi
	done
	[ "$ro_ok" = 1 ] && relp_umount "$INT_TMP/ro"
	stop_rsyslog

	note "spool_unusable_dir took $((SECONDS - t_section)) s"
}

# 6. ndjson with a spool through a 30 s outage
spool_ndjson_outage() {
	local t_section=$SECONDS
	port=$(free_port)
	rs=$INT_TMP/rs-ndjson
	spool=$INT_TMP/spool-ndjson
	mkdir -p "$rs"
	if start_rsyslog "$rs" "$port" anon; then
		relp_conf "$INT_TMP/ndjson.conf" "127.0.0.1:$port" protocol=ndjson "spool.dir=$spool" \
		    agent.heartbeat_interval=2
		if start_agent "$INT_TMP/ndjson.conf" ndjson; then
			wait_for 15 grep -q "collector 127.0.0.1:$port: connected" "$AGENT_ERR"
			m=hidsspool-$INT_NONCE-nd
			pre=200
			n=500
			# The collector goes away while the first processes are being spawned.
			spawn_range "$m" 1 "$pre" &
			spawner=$!
			int_track "$spawner"
			sleep 0.15
			stop_rsyslog
			t0=$(date +%s)
			wait "$spawner"
			int_untrack "$spawner"
			spawn_spread "$m" $((pre + 1)) "$n" 25
			left=$((30 - ($(date +%s) - t0)))
			[ "$left" -gt 0 ] && sleep "$left"
			note "ndjson outage: $(($(date +%s) - t0)) s"
			mv "$rs/received.log" "$rs/received.before"
			if start_rsyslog "$rs" "$port" anon; then
				# Done when every outage process arrived, or the last one did
				# (order is kept, so a proc_gone exec does not stall the wait).
				nd_done() {
					at_least $((n - pre)) count_marked_range "$m" $((pre + 1)) "$n" \
					    "$rs/received.before" "$rs/received.log" ||
					    at_least 1 count_marked_range "$m" "$n" "$n" "$rs/received.log"
				}
				WAIT_STEP=0.3 wait_for 60 nd_done
				sleep 1
				cat "$rs/received.before" "$rs/received.log" >"$rs/all.log"
				a=$(relp_analyze "$rs/all.log" "$m:1:$n")
				# relp_analyze keys markers by name: analyze the two ranges apart.
				a1=$(relp_analyze "$rs/all.log" "$m:1:$pre")
				a2=$(relp_analyze "$rs/all.log" "$m:$((pre + 1)):$n")
				if markers_arrived "$a2" "$m" anygaps; then
					ok "ndjson: every event spawned during the 30 s outage arrived ($(asum "$a2" "$m"))"
				else
					bad "ndjson: every event spawned during the 30 s outage arrived ($(asum "$a2" "$m"))" \
					    "spool now $(spool_size "$spool") bytes; agent log:"
					grep -v "cannot connect" "$AGENT_ERR" | tail -8 | sed 's/^/#   /'
				fi
				check "ndjson: in order after dropping repeated event.ids (violations $(ajq "$a" .order_violations))" \
				    test "$(ajq "$a" .order_violations)" -eq 0
				note "ndjson: lost in flight when the collector went away: $(ajq "$a1" ".markers[\"$m\"].missing") of $pre markers spawned around the cut; $(ajq "$a" .gaps) events missing by event.sequence; $(ajq "$a" .dup_lines) lines repeated"
				check "ndjson: no line is broken ($(ajq "$a" .bad) not JSON)" test "$(ajq "$a" .bad)" -eq 0
				check "ndjson: the agent reconnected" test "$(grep -c "collector 127.0.0.1:$port: connected" "$AGENT_ERR")" -ge 2
			else
				bad "rsyslog (imtcp) restarts"
			fi
			stop_agent
		else
			bad "the agent starts with protocol = ndjson and a spool"
		fi
		stop_rsyslog
	else
		bad "rsyslog starts with a TLS imtcp input"
	fi
	note "spool_ndjson_outage took $((SECONDS - t_section)) s"
}

for case_name in spool_crash spool_corrupt spool_disk_full spool_max_bytes spool_unusable_dir spool_ndjson_outage; do
	int_skip "$case_name" || "$case_name"
done
int_finish

# Helpers for the RELP and spool tests (test_relp.sh, test_spool.sh, and
# tests/bench/outage.sh): a private rsyslog with a TLS imrelp input that can
# be stopped, frozen and restarted on the same port and file, agent configs
# with a [spool] section, markers found in spool segments, and one analysis
# of a received file (duplicates by event.id, missing markers, order per
# agent run, lost records, heartbeat counters).
#
# A script does:
#   . "$(dirname "$0")/../lib/relp.sh"
#   relp_init "$@"           # int_init plus a trap that also thaws frozen
#                            # daemons and unmounts what relp_mount mounted
#
# Everything listens on 127.0.0.1 only; daemons are stopped by PID.

. "$(dirname "${BASH_SOURCE[0]}")/integration.sh"

RELP_MOUNTS=()

# Thaws every tracked daemon (a SIGSTOPped rsyslogd would ignore SIGTERM),
# stops them, and unmounts what the test mounted, innermost first.
relp_cleanup() {
	local pid i
	for pid in "${INT_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null
	done
	# The agent may hold files in a mount: stop the daemons first.
	for pid in "${INT_PIDS[@]}"; do
		int_stop_pid "$pid" 5
	done
	INT_PIDS=()
	for ((i = ${#RELP_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${RELP_MOUNTS[$i]}" 2>/dev/null || umount -l "${RELP_MOUNTS[$i]}" 2>/dev/null
	done
	RELP_MOUNTS=()
	int_cleanup
}

# int_init, then a cleanup trap that knows about frozen daemons and mounts.
relp_init() {
	int_init "$@"
	trap relp_cleanup EXIT
	[ -x /usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so ] || ls /usr/lib/*/rsyslog/imrelp.so \
	    >/dev/null 2>&1 || { echo "missing rsyslog-relp (imrelp.so)" >&2; exit 2; }
}

# Mounts and records it for cleanup: relp_mount ARGS... MOUNTPOINT.
relp_mount() {
	mount "$@" || return 1
	RELP_MOUNTS+=("${!#}")
}

# Unmounts one mount made by relp_mount: relp_umount MOUNTPOINT.
relp_umount() {
	local keep=() m
	umount "$1" || return 1
	for m in "${RELP_MOUNTS[@]}"; do [ "$m" != "$1" ] && keep+=("$m"); done
	RELP_MOUNTS=("${keep[@]}")
}

# Starts a private rsyslogd with a TLS imrelp input on 127.0.0.1:PORT that
# appends every message verbatim to DIR/received.log (kept across restarts,
# so stop and start again with the same DIR and PORT for an outage).
# MODE: certvalid (clients need a certificate from the test CA; the default)
# or anon. Sets RSYSLOG_PID (stop it with stop_rsyslog).
# start_rsyslog_relp DIR PORT [MODE]
start_rsyslog_relp() {
	local dir=$1 port=$2 mode=${3:-certvalid} certs=$INT_CERTS i
	mkdir -p "$dir/work"
	[ -e "$dir/received.log" ] || : >"$dir/received.log"
	cat >"$dir/rsyslog.conf" <<-EOF
	global(workDirectory="$dir/work" maxMessageSize="64k")
	module(load="imrelp" tls.tlslib="openssl")
	template(name="hids_raw" type="string" string="%rawmsg%\\n")
	ruleset(name="hids_in") {
	    action(type="omfile" file="$dir/received.log" template="hids_raw")
	}
	input(type="imrelp" port="$port" address="127.0.0.1" ruleset="hids_in"
	    maxDataSize="64k" tls="on" tls.authMode="$mode"
	    tls.caCert="$certs/ca.pem" tls.myCert="$certs/server.pem"
	    tls.myPrivKey="$certs/server.key")
	EOF
	rsyslog_config_ok "$dir" || return 1
	rm -f "$dir/rsyslog.pid"
	rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" >>"$dir/rsyslog.out" 2>&1 &
	RSYSLOG_PID=$!
	int_track "$RSYSLOG_PID"
	# The port may still be held for a moment after a restart.
	for ((i = 0; i < 100; i++)); do
		port_open "$port" && return 0
		kill -0 "$RSYSLOG_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "rsyslog (imrelp) did not listen on $port:" >&2
	cat "$dir/rsyslog.out" >&2
	return 1
}

# Writes an agent config: relp_conf FILE ADDRESS [KEY=VALUE ...]. Like
# agent_conf (lib.sh), with protocol=relp and the test client certificate
# by default; spool.KEY=VALUE goes to [spool], events.KEY=VALUE to [events],
# capture.KEY=VALUE to [capture].
relp_conf() {
	local file=$1 addr=$2 kv
	shift 2
	local opts=("protocol=relp" "cert_file=$INT_CERTS/client.pem"
	    "key_file=$INT_CERTS/client.key" "start_jitter_ms=200")
	local -a spool=() events=() capture=()
	for kv in "$@"; do
		case $kv in
		spool.*) spool+=("${kv#spool.}") ;;
		events.*) events+=("${kv#events.}") ;;
		capture.*) capture+=("${kv#capture.}") ;;
		*) opts+=("$kv") ;;
		esac
	done
	agent_conf "$file" "$addr" "${opts[@]}"
	_relp_section "$file" spool "${spool[@]}"
	_relp_section "$file" events "${events[@]}"
	_relp_section "$file" capture "${capture[@]}"
}

# Appends "[NAME]" and KEY = VALUE lines to FILE: _relp_section FILE NAME KV...
_relp_section() {
	local file=$1 name=$2 kv
	shift 2
	[ $# -gt 0 ] || return 0
	echo "[$name]" >>"$file"
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}" >>"$file"; done
}

# Prints how many distinct markers MARKER-i (FIRST <= i <= LAST when given)
# appear in the spool segments of DIR (records hold the JSON lines verbatim,
# so grep finds them): spool_markers DIR MARKER [FIRST LAST].
spool_markers() {
	cat "$1"/seg-*.hsp 2>/dev/null | grep -aoE "\"$2-[0-9]+\"" | sort -u |
	    awk -F- -v a="${3:-0}" -v b="${4:-999999999}" \
	    '{ i = $NF; sub(/"$/, "", i); i += 0; if (i >= a && i <= b) n++ } END { print n + 0 }'
}

# Prints how many of MARKER-i (FIRST <= i <= LAST) have their exec event in
# the spool of DIR, with argv or marked proc_gone: spool_accounted DIR MARKER FIRST LAST.
spool_accounted() {
	echo $(($(spool_markers "$@") + $(spool_dump "$1" | gone_marked_execs - "$2" "$3" "$4")))
}

# Parses the spool segments of DIR (oldest first) the way the format is
# documented: records [magic "HSR1" u32 LE][len u32 LE][crc32 u32 LE][payload],
# resyncing on the next magic after a bad header or CRC. Prints, with MODE
# lines (default), every valid payload as one line; with MODE records, one
# TSV row per valid record: segment file, offset, end offset, event.id.
# spool_dump DIR [lines|records]
spool_dump() {
	"$INT_PY" "$INT_HERE/spool_dump.py" "$1" "${2:-lines}"
}

# Prints the total size in bytes of the spool segments in DIR.
spool_size() {
	local n
	n=$(find "$1" -maxdepth 1 -name 'seg-*.hsp' -printf '%s\n' 2>/dev/null |
	    awk '{ s += $1 } END { print s + 0 }')
	echo "${n:-0}"
}

# Prints the number of spool segments in DIR.
spool_segments() { find "$1" -maxdepth 1 -name 'seg-*.hsp' 2>/dev/null | wc -l; }

# Succeeds once FILE has COUNT distinct exec events of /bin/true MARKER-i.
have_marked() { [ "$(count_marked_execs "$1" "$2")" -ge "$3" ]; }

# Prints how many of MARKER-i, FIRST <= i <= LAST, have an exec event
# "/bin/true MARKER-i" in FILEs (read together, e.g. the files of a
# collector before and after its restart): count_marked_range MARKER FIRST LAST FILE...
count_marked_range() {
	local m=$1 a=$2 b=$3
	shift 3
	cat "$@" 2>/dev/null | grep -F '"action":"exec"' |
	    grep -oE "\"args\":\[\"/bin/true\",\"$m-[0-9]+\"\]" | sort -u |
	    awk -v a="$a" -v b="$b" '{ i = $0; sub(/.*-/, "", i); i += 0; if (i >= a && i <= b) n++ }
	        END { print n + 0 }'
}

# Waits until FILE has the exec events of COUNT of MARKER's processes (with
# argv or marked proc_gone: accounted_execs), or TIMEOUT seconds pass, or the
# count has not moved for STABLE seconds (default 10). The caller asserts on
# what arrived: wait_marked FILE MARKER COUNT TIMEOUT [STABLE].
wait_marked() {
	local file=$1 marker=$2 count=$3 end last=-1 n since
	end=$(($(date +%s) + $4))
	since=$(date +%s)
	while :; do
		n=$(accounted_execs "$file" "$marker")
		[ "$n" -ge "$count" ] && return 0
		if [ "$n" != "$last" ]; then
			last=$n
			since=$(date +%s)
		elif [ $(($(date +%s) - since)) -ge "${5:-10}" ]; then
			return 1
		fi
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.3
	done
}

# Analyzes a received file and prints one JSON object:
#   relp_analyze FILE [MARKER:FIRST:LAST ...]
# lines, bad (not JSON objects), ids (distinct event.id), dup_lines (lines
# whose event.id was seen before), dup_ids (ids seen more than once),
# noid (lines without event.id), runs (distinct agent.ephemeral_id),
# proc_gone_execs (exec events whose process was gone from /proc before its
# argv was read: delivered, but not attributable to a marker),
# order_violations (after dropping repeated ids, event.sequence not
# increasing within one agent.ephemeral_id, in file order), first_violation,
# gaps (event.sequence numbers missing inside the received range of each
# run: each is an event lost), seq_min_max (the largest first sequence of
# any run: 1 when every run's first event arrived), missing_seq (events
# missing from the start of each run to its last received one: gaps plus
# what was lost before the first received event), run_detail (per run:
# first, last, count, gaps),
# lost (sum of hids.lost by hids.reason), lost_records (count by reason),
# hb (the largest value of every hids.stats key over heartbeats),
# and per marker range: found, missing (count), missing_list (first 20),
# multi (markers with more than one distinct exec event: real duplicates,
# not resends), first_found/last_found.
relp_analyze() {
	local file=$1
	shift
	"$INT_PY" "$INT_HERE/relp_analyze.py" "$file" "$@"
}

# Succeeds when every marker of MARKER arrived in the analysis JSON, or the
# few whose exec event cannot be attributed (hids.proc_gone: the process was
# gone before its argv was read, on a loaded machine) are covered by
# proc_gone exec events and no event.sequence is missing at all (with
# ANYGAPS, for ndjson, where lines in flight at a cut may be lost, gaps are
# not considered): markers_arrived JSON MARKER [ANYGAPS].
markers_arrived() {
	local miss pg gaps
	miss=$(jq -r --arg m "$2" '.markers[$m].missing' <<<"$1")
	pg=$(jq -r '.proc_gone_execs' <<<"$1")
	gaps=$(jq -r '.gaps' <<<"$1")
	[ -n "${3:-}" ] && gaps=0
	[ "$miss" -eq 0 ] && return 0
	if [ "$miss" -le "$pg" ] && [ "$gaps" -eq 0 ]; then
		note "$miss exec events of $2 carry no argv (hids.proc_gone: $pg such events); none is missing by event.sequence"
		return 0
	fi
	return 1
}

# Succeeds when the number CMD prints is at least N: at_least N CMD...
# (for wait_for, which must run the command anew on every poll).
at_least() {
	local n=$1 v
	shift
	v=$("$@")
	[ "${v:-0}" -ge "$n" ] 2>/dev/null
}

# Succeeds when the number CMD prints is below N: below N CMD...
below() {
	local n=$1 v
	shift
	v=$("$@")
	[ "${v:-0}" -lt "$n" ] 2>/dev/null
}

# Reads one value from an analysis: ajq JSON FILTER (prints it).
ajq() { jq -r "$2" <<<"$1"; }

# Spawns COUNT processes /bin/true MARKER-i for i in FIRST..LAST, spread
# over SECONDS seconds, from a recorded spawner (see spawn_range):
# spawn_spread MARKER FIRST LAST SECONDS.
spawn_spread() {
	local marker=$1 first=$2 last=$3 secs=$4 i n step
	n=$((last - first + 1))
	[ "$n" -gt 0 ] || return 0
	step=$(awk -v s="$secs" -v n="$n" 'BEGIN { printf "%.4f", s / n }')
	(
		note_spawner "$marker" "$first" "$last"
		for ((i = first; i <= last; i++)); do
			/bin/true "$marker-$i"
			sleep "$step"
		done
	)
}


# Prints the agent's stderr lines matching a pattern, indented as diagnostics.
show_log() { grep -E -- "$2" "$1" 2>/dev/null | head -"${3:-5}" | sed 's/^/#   /'; }

# Prints a one-line summary of an analysis for a marker: asum JSON MARKER.
asum() {
	jq -r --arg m "$2" '"found \(.markers[$m].found)/\(.markers[$m].expected), missing \(.markers[$m].missing) \(.markers[$m].missing_list), lines \(.lines), dup_lines \(.dup_lines), bad \(.bad), order_violations \(.order_violations), sequence gaps \(.gaps), proc_gone execs \(.proc_gone_execs), lost \(.lost)"' <<<"$1"
}

# tests/lib/bench.sh: shell helpers shared by the benchmarks in tests/bench
# (bench.sh, forward.sh, profile.sh, filter_storm.sh; sourced, not run).
# shellcheck shell=bash disable=SC2034,SC2154  # globals shared with the caller
#
# The caller sets BENCH_NAME (the prefix of its log lines), AGENT, KEEP and
# CC, then calls bench_setup TEMPLATE (temporary directory and clean-up
# traps) and bench_build (the storm's helper programs). After that:
#   sample PID        CPU time, peak RSS and per-thread figures of PID
#   cn_listeners      number of process-connector listeners running
#   ours PID / ended PID / stop PID NAME / alive PID NAME ERRFILE
#   start_agent DIR [ARGS...]   the agent with output in DIR/agent.{out,err}
#   storm SPAWNERS SPAWNS DIR RUNID   one process storm; sets WALL_S
#   start_collector DIR tls|relp      a private rsyslogd (certificates in
#                     $tmp/tls, from deploy/make-certs.sh); sets RPID, PORT
#   wait_connected PID LOG / drain FILE RUNID / cpu_between S0 S1 FIELD
# Every child is recorded in the associative array `live`; the EXIT trap
# stops those still running (only while /proc shows them as our children)
# and removes the temporary directory unless KEEP=1.

. "$(dirname "${BASH_SOURCE[0]}")/net.sh"

# The benchmarks' C sources.
BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../bench" && pwd)

die() { echo "${BENCH_NAME:-bench}: $*" >&2; exit 1; }
log() { echo "${BENCH_NAME:-bench}: $*" >&2; }

# ---------------------------------------------------------------- cleanup
# Children started and not yet waited for. Bash may reap a finished child
# on its own at any time, which frees its pid for reuse, so a pid from this
# set is only signalled while /proc still shows it as our child (ours).
declare -A live=()

# Makes the temporary directory $tmp from mktemp TEMPLATE and installs the
# traps that clean up on exit, also on failure, Ctrl-C or SIGTERM.
bench_setup() {
	tmp=$(mktemp -d "$1")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${!live[@]}"; do
		if ours "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
	done
	for p in "${!live[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if ((KEEP)); then
		log "raw outputs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- build
# Compiles spawner.c, noop.c and bare_listener.c into $tmp; sets SPAWNER,
# NOOP, BARE and LINKAGE (static, or dynamic when static linking fails).
bench_build() {
	"$CC" -O2 -Wall -o "$tmp/spawner" "$BENCH_SRC/spawner.c" || die "cannot build spawner"
	"$CC" -O2 -Wall -o "$tmp/bare_listener" "$BENCH_SRC/bare_listener.c" || die "cannot build bare_listener"
	BARE="$tmp/bare_listener"
	LINKAGE=static
	if ! "$CC" -static -O2 -o "$tmp/noop" "$BENCH_SRC/noop.c" 2>"$tmp/noop.log"; then
		LINKAGE=dynamic
		log "warning: static linking failed ($(head -n1 "$tmp/noop.log")); using a dynamic no-op"
		"$CC" -O2 -o "$tmp/noop" "$BENCH_SRC/noop.c" || die "cannot build noop"
	fi
	NOOP="$tmp/noop"
	SPAWNER="$tmp/spawner"
}

# ---------------------------------------------------------------- helpers

# Prints "CPU_NS CPU_TICKS_NS VMHWM_KB TID:NS:POLICY:CSW:WAIT_NS,..." of
# process $1: CPU from the sum of its threads' /proc schedstat run times
# (ns), utime+stime from /proc/PID/stat as a cross-check, the peak RSS, and
# each thread's CPU time, scheduling policy (1 = SCHED_FIFO), context
# switches and time spent runnable but waiting for a CPU (schedstat's
# second field, ns).
sample() {
	local pid=$1 ns=0 t run wait rest ticks hz hwm per='' cs k v
	local -a f
	for t in /proc/"$pid"/task/*/schedstat; do
		read -r run wait _ <"$t" 2>/dev/null || continue
		ns=$((ns + run))
		t=${t%/schedstat}
		{ read -r rest <"$t/stat"; } 2>/dev/null || continue
		rest=${rest##*) }
		read -r -a f <<<"$rest"
		cs=0
		while read -r k v; do
			[[ $k == *ctxt_switches: ]] && cs=$((cs + v))
		done <"$t/status"
		per+="${per:+,}${t##*/}:$run:${f[38]}:$cs:$wait"	# field 41: scheduling policy
	done
	read -r rest <"/proc/$pid/stat"
	rest=${rest##*) }	# fields from 3 on; comm may hold spaces or ')'
	read -r -a f <<<"$rest"
	ticks=$((f[11] + f[12]))	# utime (14) + stime (15)
	hz=$(getconf CLK_TCK)
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	((ns > 0)) || ns=$((ticks * 1000000000 / hz))
	echo "$ns $((ticks * 1000000000 / hz)) $hwm ${per:-none}"
}

# Counts netlink sockets subscribed to the process-events connector
# (protocol 11, group bit CN_IDX_PROC): other listeners than the tool under
# test share the CPU and, by subscribing, can make the agent see a gap.
cn_listeners() {
	awk 'NR > 1 && $2 == 11 && $4 ~ /[13579bdfBDF]$/ { n++ } END { print n + 0 }' \
		/proc/net/netlink 2>/dev/null || echo 0
}

# Says whether process $1 is a running child of this script.
ours() {
	local st
	local -a f
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	read -r -a f <<<"$st"
	[[ ${f[1]} == "$$" && ${f[0]} != Z && ${f[0]} != X ]]
}

# Says whether process $1 has ended (gone, or a zombie). Bash reaps
# background children on its own and keeps their status for `wait`, so
# /proc/PID may vanish at any moment. (No $(<file) here: under set -e a
# failed $(<file) ends the script even with || after it.)
ended() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
	st=${st##*) }
	[[ ${st:0:1} == Z || ${st:0:1} == X ]]
}

# Sends SIGTERM to $1 and reaps it (SIGKILL after 15 s); warns unless it
# exits with status 0, naming it $2.
stop() {
	local pid=$1 name=$2 i rc=0
	if ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
	for ((i = 0; i < 150; i++)); do
		ended "$pid" && break
		sleep 0.1
	done
	if ours "$pid"; then
		log "warning: $name (pid $pid) ignored SIGTERM for 15 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	unset "live[$pid]"
	((rc == 0)) || log "warning: $name exited with status $rc after SIGTERM"
}

# Dies if tool $2 (pid $1, stderr in $3) is no longer running.
alive() {
	if ended "$1"; then
		tail -n 20 "$3" >&2
		die "$2 stopped during the storm"
	fi
}

# Starts $AGENT with the arguments after $1, standard output to
# $1/agent.out and standard error to $1/agent.err; sets APID once it logs
# "ready".
start_agent() {
	local dir=$1
	shift
	: >"$dir/agent.err"	# exists before the child opens it, for grep below
	"$AGENT" "$@" >"$dir/agent.out" 2>>"$dir/agent.err" &
	APID=$!
	live[$APID]=1
	wait_log "$APID" "$dir/agent.err" ': ready$' "log 'ready'"
}

# Waits up to 10 s until log $2 of the agent (pid $1) matches regex $3;
# dies, showing the log, when the agent exits first or the time is up ($4
# says what was awaited).
wait_log() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qs "$3" "$2" && return 0
		ended "$1" && { cat "$2" >&2; die "the agent exited before it did $4"; }
		sleep 0.05
	done
	cat "$2" >&2
	die "the agent did not $4 within 10 s"
}

# Runs one storm: $1 spawners share $2 spawns; pid lists go to $3/pids.ID.
# Sets WALL_S to the storm's wall time.
storm() {
	local nsp=$1 total=$2 dir=$3 runid=$4 i n t0 t1 p rc=0
	local -a pids=()
	t0=$(date +%s%N)
	for ((i = 1; i <= nsp; i++)); do
		n=$((total / nsp + (i <= total % nsp ? 1 : 0)))
		"$SPAWNER" "$i" "$n" "$NOOP" "$runid" >"$dir/pids.$i" 2>"$dir/spawner.$i.err" &
		pids+=("$!")
		live[$!]=1
	done
	for p in "${pids[@]}"; do
		wait "$p" || rc=$?
		unset "live[$p]"
	done
	t1=$(date +%s%N)
	((rc == 0)) || { cat "$dir"/spawner.*.err >&2; die "a spawner failed"; }
	WALL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
}

# ---------------------------------------------------------------- collector
# A private rsyslogd for the forwarding storms (forward.sh, bench.sh --busy).

# Says whether something listens on 127.0.0.1:$1 (or 0.0.0.0:$1).
listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'NR > 1 && $4 == "0A" && ($2 == "0100007F" p || $2 == "00000000" p) { f = 1 }
		END { exit !f }' /proc/net/tcp
}

# Writes the rsyslog config for directory $1, port $2 and protocol $3 (tls:
# ndjson over TLS to imtcp; relp: RELP over TLS to imrelp, both with server
# authentication only, certificates in $tmp/tls) to $1/rsyslog.conf.
collector_conf() {
	local dir=$1 port=$2 proto=$3
	mkdir -p "$dir/rsyslog.work"
	cat >"$dir/rsyslog.conf" <<-EOF
	# No imuxsock/imklog: this instance never touches /dev/log or the kernel log.
	global(workDirectory="$dir/rsyslog.work" maxMessageSize="64k")
	template(name="hids_rcv" type="string" string="%timegenerated:::date-rfc3339% %rawmsg%\\n")
	ruleset(name="hids_in") {
	    action(type="omfile" file="$dir/received.log" template="hids_rcv")
	}
	EOF
	if [[ $proto == relp ]]; then
		cat >>"$dir/rsyslog.conf" <<-EOF
		module(load="imrelp" tls.tlslib="openssl")
		input(type="imrelp" address="127.0.0.1" port="$port" ruleset="hids_in"
		    maxDataSize="64k" tls="on"
		    tls.caCert="$tmp/tls/ca.pem" tls.myCert="$tmp/tls/server.pem"
		    tls.myPrivKey="$tmp/tls/server.key")
		EOF
	else
		cat >>"$dir/rsyslog.conf" <<-EOF
		module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1"
		    streamDriver.authMode="anon" maxSessions="10")
		input(type="imtcp" address="127.0.0.1" port="$port" ruleset="hids_in"
		    streamDriver.caFile="$tmp/tls/ca.pem"
		    streamDriver.certFile="$tmp/tls/server.pem"
		    streamDriver.keyFile="$tmp/tls/server.key")
		EOF
	fi
}

# Starts a private rsyslogd for the run in $1 on a free port, protocol $2
# (tls | relp); sets RPID and PORT once it listens.
start_collector() {
	local dir=$1 i
	PORT=$(free_port)
	collector_conf "$dir" "$PORT" "$2"
	: >"$dir/received.log"
	rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" >"$dir/rsyslog.out" 2>&1 &
	RPID=$!
	live[$RPID]=1
	for ((i = 0; i < 200; i++)); do
		listening "$PORT" && return 0
		ended "$RPID" && { cat "$dir/rsyslog.out" >&2; die "rsyslogd exited during start-up"; }
		sleep 0.05
	done
	cat "$dir/rsyslog.out" >&2
	die "rsyslogd did not listen on 127.0.0.1:$PORT within 10 s"
}

# Waits until the agent (pid $1, log $2) has logged its TLS connection.
wait_connected() {
	wait_log "$1" "$2" ': connected (' "connect to the collector"
}

# Runs one more no-op, the end marker, and waits until file $1 holds its
# exit event (at most DRAIN_MAX_S): the agent handles events in the
# kernel's order and the spawners have reaped every child of the storm, so
# by then every event of the storm has been written (or delivered). Sets
# DRAIN_S to the seconds that took. (On a shared machine the output never
# stops growing, so its size cannot tell.)
drain() {
	local file=$1 runid=$2 t0 t1 mp
	t0=$(date +%s%N)
	"$NOOP" "hidsbench-$runid-end" x &
	mp=$!
	wait "$mp" || true
	# One grep, no pipe: under pipefail a SIGPIPE would read as "not found".
	while ! grep -qs "\"action\":\"end\".*\"process\":{\"pid\":$mp," "$file"; do
		if (($(date +%s%N) - t0 >= DRAIN_MAX_S * 1000000000)); then
			log "warning: the end marker's exit event is not in $file after $DRAIN_MAX_S s"
			break
		fi
		sleep 0.05
	done
	t1=$(date +%s%N)
	DRAIN_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

# Prints the CPU seconds between two samples ($1, $2) of `sample`.
cpu_between() {
	local -a a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	awk -v x="${a[$3]}" -v y="${b[$3]}" 'BEGIN { printf "%.6f", (y - x) / 1e9 }'
}

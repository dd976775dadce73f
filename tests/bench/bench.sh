#!/usr/bin/env bash
#
# bench.sh: process-storm benchmark of hids-agent against forkstat and a floor.
#
# Usage (as root, after building the agent):
#   tests/bench/bench.sh [-a AGENT] [-c CONFIG] [-n SPAWNS] [-s "2 4 8"] [-r REPEAT]
#                        [--no-concurrent] [--no-floor] [--busy "hogs disk tls relp"]
#                        [--settle S] [--wait-quiet S] [--keep] [--strict]
#
#   -a, --agent PATH     agent binary (default: build/hids-agent in the repo)
#   -c, --config FILE    run the agent with -c FILE (default: built-in settings)
#   -n, --spawns N       spawns per storm, split over the spawners (default 3000)
#   -s, --spawners LIST  parallel spawner counts to run (default "2 4 8")
#   -r, --repeat R       runs per configuration; the table shows medians (default 3)
#       --no-concurrent  skip the storms where both tools run at once
#       --no-floor       skip the storms with no monitor and the bare listeners
#       --busy LIST      busy-host storms to add (default "hogs disk tls relp";
#                        "" for none): hogs and disk run no monitor, the
#                        agent, forkstat and the exec-only bare listener
#                        while 2 CPU hogs / a disk writer run; tls and relp
#                        run the agent forwarding to a private rsyslogd
#       --settle S       seconds to wait after a storm before stopping (default 1)
#       --keep           keep the temporary directory with every raw output
#       --wait-quiet S   before each run, wait up to S seconds for other
#                        process-connector listeners to go away (default 0)
#       --strict         exit 1 if the agent misses a target (exit 0 otherwise)
#   -h, --help           print this help
#
# For each spawner count and each repetition it runs, one after the other:
#   1. hids-agent --stdout (default settings, or -c CONFIG) alone,
#   2. forkstat -e exec alone,
#   3. both at once (unless --no-concurrent),
#   4. no monitor at all, then tests/bench/bare_listener.c in its two modes,
#      "drain" (reads every event, nothing else) and "exec" (exec events
#      only through the 6.6 kernel filter, reads /proc/PID/cmdline at
#      SCHED_FIFO 1): the floor (unless --no-floor),
#   5. the busy-host storms of --busy: "hogs" (two `sh -c 'while :; do :;
#      done'` at normal priority), "disk" (a loop of dd writing 64 MB with
#      fsync to a file in the temporary directory, under /var/tmp), each
#      with no monitor, the agent, forkstat and the exec-only bare
#      listener; "tls" (the agent forwarding ndjson over TLS to a private
#      rsyslogd, as forward.sh does) and "relp" (RELP over TLS to rsyslog's
#      imrelp, with a [spool] dir), scored from what rsyslog received,
# each time starting the tool(s), waiting until ready, running one storm of
# N short-lived processes (tests/bench/spawner.c forking and exec'ing the
# static no-op tests/bench/noop.c with the unique argv
# [noop, hidsbench-RUN-SPAWNER-I, x]), waiting --settle seconds, sampling
# the tool's CPU time and VmHWM from /proc, and stopping it with SIGTERM.
# tests/bench/analyze.py then scores every run from the tools' outputs and
# prints a markdown table of medians, the agent's CPU as a multiple of
# forkstat's and of both floors, the spawn rate each monitor keeps against
# no monitor, per-run details and a PASS/FAIL check of the targets of issue
# 12. See tests/bench/README.md.
# The helpers it shares with forward.sh (build, storm, sampling, process
# handling) are in tests/lib/bench.sh.
#
# Needs: root, cc (static glibc for the no-op, else it falls back to a
# dynamic build and says so), forkstat, /usr/bin/python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

AGENT="$repo/build/hids-agent"
AGENT_CONF=
SPAWNS=3000
SPAWNERS="2 4 8"
REPEAT=3
CONCURRENT=1
FLOOR=1
BUSY="hogs disk tls relp"
DRAIN_MAX_S=30		# longest wait for the end marker of a forwarding storm
SETTLE=1
KEEP=0
STRICT=0
WAIT_QUIET=0
CC=${CC:-cc}
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

usage() { sed -n '3,27s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
BENCH_NAME=bench
# shellcheck source=tests/lib/bench.sh
. "$here/../lib/bench.sh"

while (($#)); do
	case $1 in
	-a|--agent) AGENT=$2; shift 2 ;;
	-c|--config) AGENT_CONF=$2; shift 2 ;;
	-n|--spawns) SPAWNS=$2; shift 2 ;;
	-s|--spawners) SPAWNERS=$2; shift 2 ;;
	-r|--repeat) REPEAT=$2; shift 2 ;;
	--no-concurrent) CONCURRENT=0; shift ;;
	--no-floor) FLOOR=0; shift ;;
	--busy) BUSY=$2; shift 2 ;;
	--settle) SETTLE=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--strict) STRICT=1; shift ;;
	--wait-quiet) WAIT_QUIET=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

[[ $SPAWNS =~ ^[0-9]+$ && $REPEAT =~ ^[0-9]+$ && $REPEAT -ge 1 ]] || die "bad -n or -r"
[[ $WAIT_QUIET =~ ^[0-9]+$ ]] || die "bad --wait-quiet"
for s in $SPAWNERS; do
	[[ $s =~ ^[0-9]+$ && $s -ge 1 && $s -le $SPAWNS ]] || die "bad spawner count '$s'"
done
((EUID == 0)) || die "must run as root (the connector needs CAP_NET_ADMIN)"
[[ -x $AGENT ]] || die "no agent binary at $AGENT (build it, or pass -a)"
command -v forkstat >/dev/null || die "forkstat is not installed (apt-get install forkstat)"
for b in $BUSY; do
	[[ $b == hogs || $b == disk || $b == tls || $b == relp ]] || die "bad --busy item '$b'"
done
if [[ $BUSY == *tls* || $BUSY == *relp* ]]; then
	command -v rsyslogd >/dev/null || die "rsyslogd is not installed (apt-get install rsyslog rsyslog-openssl rsyslog-relp)"
	command -v openssl >/dev/null || die "openssl is not installed"
fi
AGENT=$(realpath "$AGENT")
((SPAWNS >= 3000)) || log "note: $SPAWNS spawns per storm; the issue asks for at least 3000"

# ---------------------------------------------------------------- setup
# Under /var/tmp: /tmp may be a tmpfs, where the disk writer's fsync
# would not reach a disk.
bench_setup /var/tmp/hidsbench.XXXXXX
bench_build
RESULTS="$tmp/results.jsonl"
: >"$RESULTS"
if [[ $BUSY == *tls* || $BUSY == *relp* ]]; then
	"$repo/deploy/make-certs.sh" "$tmp/tls" >/dev/null || die "cannot make the certificates"
	for b in tls relp; do
		[[ $BUSY == *$b* ]] || continue
		collector_conf "$tmp/check-$b" 6514 "$b"
		rsyslogd -N1 -f "$tmp/check-$b/rsyslog.conf" >"$tmp/check-$b/log" 2>&1 || {
			cat "$tmp/check-$b/log" >&2
			die "rsyslog rejects the $b collector config (rsyslog-openssl, rsyslog-relp installed?)"
		}
	done
fi

# ---------------------------------------------------------------- helpers

# Starts forkstat -e exec with output in $1/forkstat.*; sets FPID once it
# blocks in recv on its connector socket (it has loaded its /proc cache and
# subscribed by then; its stdout is block-buffered, so no banner shows).
start_forkstat() {
	local dir=$1 i w
	forkstat -e exec >"$dir/forkstat.out" 2>"$dir/forkstat.err" &
	FPID=$!
	live[$FPID]=1
	for ((i = 0; i < 200; i++)); do
		w=$(cat "/proc/$FPID/wchan" 2>/dev/null || true)
		[[ $w == *skb_wait_for_more_packets* || $w == *netlink* ]] && { sleep 0.05; return 0; }
		ended "$FPID" && { cat "$dir/forkstat.err" >&2; die "forkstat exited during start-up"; }
		sleep 0.05
	done
	log "warning: cannot tell whether forkstat is ready (wchan '$w'); going on"
}

# Starts bare_listener in mode $2 (drain | exec) with output in
# $1/bare.*; sets BPID once it logs "ready".
start_bare() {
	local dir=$1 i
	: >"$dir/bare.err"
	"$BARE" "$2" >"$dir/bare.out" 2>>"$dir/bare.err" &
	BPID=$!
	live[$BPID]=1
	for ((i = 0; i < 200; i++)); do
		grep -qs ': ready$' "$dir/bare.err" && return 0
		ended "$BPID" && { cat "$dir/bare.err" >&2; die "bare_listener exited during start-up"; }
		sleep 0.05
	done
	die "bare_listener did not start within 10 s"
}

# Starts the background load of busy mode $1 (hogs | disk); its pids go to
# the array LOADP.
start_load() {
	local i
	LOADP=()
	case $1 in
	hogs)
		for i in 1 2; do
			sh -c 'while :; do :; done' &
			LOADP+=("$!")
			live[$!]=1
		done
		;;
	disk)
		sh -c 'while :; do dd if=/dev/zero of="$1" bs=1M count=64 conv=fsync status=none; done' \
			sh "$tmp/disk.fill" &
		LOADP+=("$!")
		live[$!]=1
		sleep 0.5	# the writer is under way
		;;
	esac
}

# Stops the background load started by start_load.
stop_load() {
	local p
	for p in "${LOADP[@]}"; do
		if ours "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
		wait "$p" 2>/dev/null || true
		unset "live[$p]"
	done
	LOADP=()
	rm -f "$tmp/disk.fill"
}

# Scores a tool's output and appends the JSON record to $RESULTS.
score() {
	local tool=$1 dir=$2 runid=$3 mode=$4 nsp=$5 rep=$6 s0=$7 s1=$8 # $9 pid
	local -a a b
	read -r -a a <<<"$s0"
	read -r -a b <<<"$s1"
	local cpu ticks
	cpu=$(awk -v x="${a[0]}" -v y="${b[0]}" 'BEGIN { printf "%.6f", (y - x) / 1e9 }')
	ticks=$(awk -v x="${a[1]}" -v y="${b[1]}" 'BEGIN { printf "%.6f", (y - x) / 1e9 }')
	local file=$tool out
	[[ $tool == drain || $tool == exec ]] && file=bare
	out=$dir/$file.out
	[[ $tool == agent && -e $dir/received.log ]] && out=$dir/received.log
	"$PYTHON" "$here/analyze.py" "$tool" --out "$out" --err "$dir/$file.err" \
		--pids "$dir" --target "$NOOP" --runid "$runid" \
		--meta mode="$mode" --meta spawners="$nsp" --meta rep="$rep" \
		--meta wall_s="$WALL_S" --meta cpu_s="$cpu" --meta cpu_ticks_s="$ticks" \
		--meta hwm_kb="${b[2]}" --meta pid="$9" --meta other_listeners="$OTHERS" \
		--meta etc_config="$CONF" --meta load1="$(cut -d' ' -f1 /proc/loadavg)" \
		--meta threads0="${a[3]}" --meta threads1="${b[3]}" >>"$RESULTS"
}

# One run: $1 = agent | forkstat | both | none | drain | exec, $2
# spawners, $3 repetition, $4 busy mode (hogs | disk | tls | relp; tls and
# relp only with agent).
run() {
	local what=$1 nsp=$2 rep=$3 busy=${4:-} dir runid sa0 sa1 sf0 sf1 sb0 sb1 mode=alone
	runid="$(date +%H%M%S)r${rep}s${nsp}${what:0:1}${busy:0:1}"
	dir="$tmp/$runid"
	mkdir -p "$dir"
	[[ $what == both ]] && mode=concurrent
	[[ -n $busy ]] && mode=$busy
	OTHERS=$(cn_listeners)
	if ((OTHERS > 0 && WAIT_QUIET > 0)); then
		local until=$((SECONDS + WAIT_QUIET))
		while ((OTHERS > 0 && SECONDS < until)); do
			sleep 0.5
			OTHERS=$(cn_listeners)
		done
	fi
	((OTHERS == 0)) || log "warning: $OTHERS other process-connector listener(s) running"
	CONF=0
	if [[ $what != forkstat && -z $AGENT_CONF && -e /etc/hids-agent/hids-agent.conf ]]; then
		CONF=1
		log "warning: /etc/hids-agent/hids-agent.conf exists; the agent reads it instead of built-in defaults"
	fi
	# forkstat first: a client's subscription is acknowledged to every
	# listener with a per-CPU sequence number of its own, which the agent
	# would see as a gap if it were already running.
	[[ $busy == hogs || $busy == disk ]] && start_load "$busy"
	[[ $what == forkstat || $what == both ]] && start_forkstat "$dir"
	local aout=$dir/agent.out
	if [[ $busy == tls || $busy == relp ]]; then
		start_collector "$dir" "$busy"
		{
			if [[ -n $AGENT_CONF ]]; then cat "$AGENT_CONF"; echo; fi
			echo "[collector]"
			echo "address = 127.0.0.1:$PORT"
			echo "ca_file = $tmp/tls/ca.pem"
			echo "server_name = localhost"
			echo "start_jitter_ms = 0"
			[[ $busy == relp ]] && printf 'protocol = relp\n[spool]\ndir = %s\n' "$dir/spool"
		} >"$dir/agent.conf"
		start_agent "$dir" -c "$dir/agent.conf"
		wait_connected "$APID" "$dir/agent.err"
		aout=$dir/received.log
	elif [[ $what == agent || $what == both ]]; then
		start_agent "$dir" --stdout ${AGENT_CONF:+-c "$AGENT_CONF"}
	fi
	[[ $what == drain || $what == exec ]] && start_bare "$dir" "$what"
	[[ -n ${APID:-} ]] && sa0=$(sample "$APID")
	[[ -n ${FPID:-} ]] && sf0=$(sample "$FPID")
	[[ -n ${BPID:-} ]] && sb0=$(sample "$BPID")
	storm "$nsp" "$SPAWNS" "$dir" "$runid"
	sleep "$SETTLE"
	[[ -n ${RPID:-} ]] && drain "$aout" "$runid"
	[[ -n ${APID:-} ]] && alive "$APID" hids-agent "$dir/agent.err"
	[[ -n ${FPID:-} ]] && alive "$FPID" forkstat "$dir/forkstat.err"
	[[ -n ${BPID:-} ]] && alive "$BPID" bare_listener "$dir/bare.err"
	[[ -n ${APID:-} ]] && sa1=$(sample "$APID")
	[[ -n ${FPID:-} ]] && sf1=$(sample "$FPID")
	[[ -n ${BPID:-} ]] && sb1=$(sample "$BPID")
	[[ -n ${APID:-} ]] && stop "$APID" hids-agent
	[[ -n ${FPID:-} ]] && stop "$FPID" forkstat
	[[ -n ${BPID:-} ]] && stop "$BPID" bare_listener
	[[ -n ${RPID:-} ]] && stop "$RPID" rsyslogd
	((${#LOADP[@]})) && stop_load
	[[ -n ${APID:-} ]] && score agent "$dir" "$runid" "$mode" "$nsp" "$rep" "$sa0" "$sa1" "$APID"
	[[ -n ${FPID:-} ]] && score forkstat "$dir" "$runid" "$mode" "$nsp" "$rep" "$sf0" "$sf1" "$FPID"
	[[ -n ${BPID:-} ]] && score "$what" "$dir" "$runid" "$mode" "$nsp" "$rep" "$sb0" "$sb1" "$BPID"
	if [[ $what == none ]]; then
		: >"$dir/none.out"
		score none "$dir" "$runid" "$mode" "$nsp" "$rep" "0 0 0 none" "0 0 0 none" 0
	fi
	log "$(printf '%-8s %d spawners run %d%s: %d spawns in %s s' "$what" "$nsp" "$rep" \
		"${busy:+ ($busy)}" "$SPAWNS" "$WALL_S")"
	APID='' FPID='' BPID='' RPID=''
	((KEEP)) || rm -rf "$dir"/*.out "$dir/received.log" "$dir/spool"
}

# ---------------------------------------------------------------- main
log "agent $AGENT ($("$AGENT" --version 2>/dev/null | head -n1)), $(forkstat -h 2>/dev/null | head -n1)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "$(nproc) CPUs, kernel $(uname -r), load average $LOAD0"
log "storms of $SPAWNS spawns of a $LINKAGE no-op; spawners: $SPAWNERS; $REPEAT run(s) each"
APID='' FPID='' BPID='' RPID=''
LOADP=()
for nsp in $SPAWNERS; do
	for ((rep = 1; rep <= REPEAT; rep++)); do
		((FLOOR)) && run none "$nsp" "$rep"
		run agent "$nsp" "$rep"
		run forkstat "$nsp" "$rep"
		((CONCURRENT)) && run both "$nsp" "$rep"
		if ((FLOOR)); then
			run drain "$nsp" "$rep"
			run exec "$nsp" "$rep"
		fi
		for b in $BUSY; do
			if [[ $b == hogs || $b == disk ]]; then
				for w in none agent forkstat exec; do
					run "$w" "$nsp" "$rep" "$b"
				done
			else
				run agent "$nsp" "$rep" "$b"
			fi
		done
	done
done

echo "## hids-agent vs forkstat and a bare listener: process storm on $(nproc) CPUs ($(uname -r))"
echo
echo "Storms of $SPAWNS fork+exec of a $LINKAGE no-op with a unique argv, waiting for each child;"
echo "hids-agent with ${AGENT_CONF:+-c $AGENT_CONF, otherwise }default settings (\`--stdout\`), forkstat as \`forkstat -e exec\`;"
echo "bare listener (tests/bench/bare_listener.c): drain = reads every event, exec = exec events only (6.6 filter), cmdline at SCHED_FIFO 1."
[[ -n $BUSY ]] && echo "Busy-host modes: hogs = two shell busy loops at normal priority; disk = dd writing 64 MB with fsync in a loop; tls = the agent forwarding ndjson over TLS to a private rsyslogd (memory queue); relp = RELP over TLS to imrelp with a [spool] dir (scored from what rsyslog received)."
echo "Load average at the start: $LOAD0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
rc=0
"$PYTHON" "$here/analyze.py" table "$RESULTS" || rc=$?
((rc == 0 || (rc == 1 && !STRICT))) || exit "$rc"

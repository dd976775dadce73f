#!/usr/bin/env bash
#
# profile.sh: where the agent's CPU goes under a process storm, per stage.
#
# Usage (as root, after building the agent; build it without inlining for
# a clean split, see tests/bench/README.md):
#   tests/bench/profile.sh [-a AGENT] [-n SPAWNS] [-s SPAWNERS] [--keep]
#
#   -a, --agent PATH     agent binary (default: build/hids-agent in the repo)
#   -n, --spawns N       spawns per storm (default 3000)
#   -s, --spawners N     parallel spawners (default 2)
#       --keep           keep the temporary directory (callgrind.out, strace)
#   -h, --help           print this help
#
# Three storms of bench.sh's kind (tests/lib/bench.sh), each with a fresh
# `hids-agent --stdout` on built-in defaults but `[agent] user =` (stays root):
#   1. plain: the agent's CPU time per spawn, per thread (schedstat), split
#      into user and system by the utime and stime ticks of /proc/PID/task;
#   2. strace -c -f attached to the agent: system calls per spawn, by name;
#   3. valgrind --tool=callgrind: user-space instructions per spawn of each
#      stage (inclusive cost of the stage's functions: connector recv,
#      decode, each /proc read, merge, queue, enrichment, JSON, write),
#      and the estimated user microseconds of each, its share of its
#      thread's instructions times that thread's user time per spawn in
#      storm 1 (the kernel's side of each /proc read is system time, which
#      storm 2's system-call counts show).
# If `perf stat -e instructions true` counts here, perf stat also gives
# the agent's instructions and cycles per spawn in storm 1; on a VM without
# hardware counters it says so and skips perf. analyze.py's `profile`
# command prints the markdown report.
#
# Needs: root, cc, valgrind, strace, /usr/bin/python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

AGENT="$repo/build/hids-agent"
SPAWNS=3000
NSP=2
KEEP=0
CC=${CC:-cc}
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

usage() { sed -n '3,29s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
BENCH_NAME=profile
# shellcheck source=tests/lib/bench.sh
. "$here/../lib/bench.sh"

while (($#)); do
	case $1 in
	-a|--agent) AGENT=$2; shift 2 ;;
	-n|--spawns) SPAWNS=$2; shift 2 ;;
	-s|--spawners) NSP=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[[ $SPAWNS =~ ^[0-9]+$ && $NSP =~ ^[0-9]+$ && $NSP -ge 1 && $NSP -le $SPAWNS ]] || die "bad -n or -s"
((EUID == 0)) || die "must run as root (the connector needs CAP_NET_ADMIN)"
[[ -x $AGENT ]] || die "no agent binary at $AGENT (build it, or pass -a)"
AGENT=$(realpath "$AGENT")
for t in valgrind callgrind_annotate callgrind_control strace; do
	command -v "$t" >/dev/null || die "$t is not installed"
done

bench_setup /tmp/hidsprof.XXXXXX
bench_build
# Built-in defaults (and not /etc/hids-agent/hids-agent.conf), but staying
# root: valgrind writes callgrind.out at exit, after the agent would have
# become the hids-agent user, into a directory only root may write.
printf '[agent]\nuser =\n' >"$tmp/empty.conf"
REAL_AGENT=$AGENT

# Prints each thread of $1 as "TID:UTIME:STIME:POLICY:RUN_NS,...": utime
# and stime in ticks, the scheduling policy, and the schedstat run time.
thread_times() {
	local t rest run per=''
	local -a f
	for t in /proc/"$1"/task/*; do
		{ read -r rest <"$t/stat"; } 2>/dev/null || continue
		{ read -r run _ <"$t/schedstat"; } 2>/dev/null || run=0
		rest=${rest##*) }
		read -r -a f <<<"$rest"
		per+="${per:+,}${t##*/}:${f[11]}:${f[12]}:${f[38]}:$run"
	done
	echo "$per"
}

# ---------------------------------------------------------------- 1. plain
PERF=no
if perf stat -e instructions true 2>&1 | grep -Eq '^ *[0-9,]+ +instructions'; then
	PERF=yes
fi
d=$tmp/plain
mkdir -p "$d"
AGENT=$REAL_AGENT
start_agent "$d" -c "$tmp/empty.conf" --stdout
t0=$(thread_times "$APID")
if [[ $PERF == yes ]]; then
	perf stat -x, -e instructions,cycles -p "$APID" -o "$d/perf.csv" &
	PERFP=$!
	live[$PERFP]=1
	sleep 0.2
fi
storm "$NSP" "$SPAWNS" "$d" plain
sleep 1
t1=$(thread_times "$APID")
[[ $PERF == yes ]] && stop "$PERFP" perf
PLAIN_WALL=$WALL_S
PLAIN_PID=$APID
stop "$APID" hids-agent
log "plain storm: $SPAWNS spawns in $PLAIN_WALL s"

# ---------------------------------------------------------------- 2. strace
d=$tmp/strace
mkdir -p "$d"
start_agent "$d" -c "$tmp/empty.conf" --stdout
strace -c -f -q -o "$d/strace.txt" -p "$APID" 2>"$d/strace.err" &
SPID=$!
live[$SPID]=1
sleep 1	# strace attaches to every thread
storm "$NSP" "$SPAWNS" "$d" strace
sleep 1
kill -INT "$SPID" 2>/dev/null || true
wait "$SPID" 2>/dev/null || true
unset "live[$SPID]"
STRACE_WALL=$WALL_S
stop "$APID" hids-agent
log "strace storm: $SPAWNS spawns in $STRACE_WALL s"

# ---------------------------------------------------------------- 3. callgrind
d=$tmp/callgrind
mkdir -p "$d"
cat >"$tmp/vg-agent" <<-EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file="$d/callgrind.out" --fair-sched=yes \
    --trace-children=no "$REAL_AGENT" "\$@"
EOF
chmod +x "$tmp/vg-agent"
AGENT=$tmp/vg-agent
start_agent "$d" -c "$tmp/empty.conf" --stdout
# Counts only the storm: zeroed just before it, dumped after it (through
# valgrind's gdb server). Under valgrind the agent does not act on SIGTERM
# (its SCHED_FIFO capture thread and valgrind's one-thread-at-a-time
# scheduling), so once dumped it is killed.
callgrind_control -z "$APID" >"$d/control.log" 2>&1 || die "callgrind_control -z failed"
storm "$NSP" "$SPAWNS" "$d" callgrind
# Valgrind slows the agent down many times: wait until it has written the
# exit event of one more no-op after the storm, so that every event of the
# storm went through it.
DRAIN_MAX_S=300
drain "$d/agent.out" callgrind
callgrind_control -d "$APID" >>"$d/control.log" 2>&1 || die "callgrind_control -d failed"
CG_WALL=$WALL_S
if ours "$APID"; then kill -KILL "$APID" 2>/dev/null || true; fi
wait "$APID" 2>/dev/null || true
unset "live[$APID]"
log "callgrind storm: $SPAWNS spawns in $CG_WALL s, the agent done $DRAIN_S s later"
cg=$(ls -t "$d"/callgrind.out.* 2>/dev/null | head -n1)
[[ -s $cg ]] || die "no callgrind dump in $d"
callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$cg" >"$d/inclusive.txt" 2>/dev/null
callgrind_annotate --inclusive=no --auto=no --threshold=100 "$cg" >"$d/self.txt" 2>/dev/null

echo "## hids-agent per-stage profile: process storm on $(nproc) CPUs ($(uname -r))"
echo
echo "Storms of $SPAWNS fork+exec of a $LINKAGE no-op over $NSP spawners, \`hids-agent --stdout\` with built-in defaults;"
echo "agent \`$REAL_AGENT\` ($("$REAL_AGENT" --version 2>/dev/null | head -n1)), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)."
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Storm wall times: plain $PLAIN_WALL s, strace $STRACE_WALL s, callgrind $CG_WALL s (the agent done $DRAIN_S s later)."
echo
"$PYTHON" "$here/analyze.py" profile --spawns "$SPAWNS" --hz "$(getconf CLK_TCK)" \
	--times0 "$t0" --times1 "$t1" --main-tid "$PLAIN_PID" --strace "$tmp/strace/strace.txt" \
	--inclusive "$d/inclusive.txt" --self "$d/self.txt" \
	--perf "$([[ $PERF == yes ]] && echo "$tmp/plain/perf.csv" || echo none)" \
	--outputs "$tmp/plain/agent.out" "$tmp/strace/agent.out" "$d/agent.out"

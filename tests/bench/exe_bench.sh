#!/usr/bin/env bash
#
# exe_bench.sh: what process.env_vars and process.hash.* cost.
#
# Usage (as root, after building the agent):
#   tests/bench/exe_bench.sh [-a AGENT] [-n SPAWNS] [-f FILES] [-m MB]
#
#   -a, --agent PATH   agent binary (default: build/hids-agent in the repo)
#   -n, --spawns N     spawns of /bin/true per syscall count (default 500)
#   -f, --files N      distinct binaries hashed for the throughput (default 16)
#   -m, --mb M         size of each, in MiB (default 8)
#
# 1. /proc calls of the capture thread per exec, with [process] env_vars
#    on (the default list) and off (empty), and with [hash] algorithms on
#    (sha256) and off: strace attached to the hids-capture thread while N
#    spawns of /bin/true run, counting the calls on those processes' own
#    /proc entries, divided by their exec events.
# 2. Hashing throughput: N distinct executables of M MiB each (copies of
#    sleep padded with random bytes, which ELF ignores) are exec'd once;
#    the CPU time of the agent's hids-hasher thread (schedstat) for their
#    bytes, against sha256sum of the same files in the same run (page cache
#    warm for both: the files were just written).
# The capture ratio and CPU per 1000 spawns with all enrichment on and off
# come from bench.sh -c (tests/bench/README.md).
#
# Needs: root, strace, sha256sum, /usr/bin/python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
AGENT="$repo/build/hids-agent"
SPAWNS=500 FILES=16 MB=8
PYTHON=/usr/bin/python3
die() { echo "exe_bench: $*" >&2; exit 1; }
log() { echo "exe_bench: $*" >&2; }

while (($#)); do
	case $1 in
	-a|--agent) AGENT=$2; shift 2 ;;
	-n|--spawns) SPAWNS=$2; shift 2 ;;
	-f|--files) FILES=$2; shift 2 ;;
	-m|--mb) MB=$2; shift 2 ;;
	-h|--help) sed -n '3,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ -x $AGENT ]] || die "no agent binary at $AGENT"
command -v strace >/dev/null || die "strace is missing"
tmp=$(mktemp -d)
apid=
cleanup() {
	if [[ -n $apid ]] && kill -0 "$apid" 2>/dev/null; then kill -TERM "$apid"; wait "$apid" || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME CONFIG: starts the agent with CONFIG; sets apid.
start() {
	printf '%s' "$2" >"$tmp/$1.conf"
	"$AGENT" --stdout -c "$tmp/$1.conf" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	apid=$!
	for _ in $(seq 100); do
		grep -q ': ready' "$tmp/$1.err" && return 0
		sleep 0.1
	done
	die "$1: the agent did not start"
}

# stop: stops the agent.
stop() {
	kill -TERM "$apid"
	wait "$apid" || true
	apid=
}

# thread_tid NAME: the tid of the agent's thread called NAME.
thread_tid() {
	local t
	for t in /proc/"$apid"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == "$1" ]] && { basename "$t"; return; }
	done
}

# proc_reads NAME CONFIG: strace of the capture thread's /proc calls over
# SPAWNS spawns; counts the calls on the spawned processes' own /proc
# entries (the path names the pid), per exec event the agent wrote.
proc_reads() {
	local tid spid i
	start "$1" "$2"
	tid=$(thread_tid hids-capture)
	strace -qq -e trace=openat,readlinkat,newfstatat,getxattr -o "$tmp/$1.strace" -p "$tid" &
	spid=$!
	sleep 0.5
	for ((i = 0; i < SPAWNS; i++)); do /bin/true "hidsexebench-$1-$i"; done
	sleep 0.5
	kill -INT "$spid"
	wait "$spid" || true
	stop
	"$PYTHON" "$here/exe_bench_calls.py" "$1" "$tmp/$1.strace" "$tmp/$1.out" "hidsexebench-$1-"
}

log "load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, kernel $(uname -r)"
echo "## /proc calls of the capture thread per exec, env_vars and hashing on and off"
echo
echo "strace of the hids-capture thread over $SPAWNS spawns of /bin/true: its openat, readlinkat, newfstatat and getxattr on the spawned processes' /proc entries, per exec event written with argv."
echo
echo "| config | execs | /proc calls per exec | by call and file |"
echo "|---|---:|---:|---|"
base='[agent]\nheartbeat_interval = 0\n'
proc_reads all-on "$(printf "$base")"
proc_reads env-off "$(printf "$base[process]\nenv_vars =\n")"
proc_reads hash-off "$(printf "$base[hash]\nalgorithms =\n")"
proc_reads all-off "$(printf "$base[process]\nenv_vars =\n[hash]\nalgorithms =\n")"

# ---- hashing throughput
mkdir -p "$tmp/bins"
for ((i = 0; i < FILES; i++)); do
	cp /bin/sleep "$tmp/bins/b$i"
	head -c $((MB << 20)) /dev/urandom >>"$tmp/bins/b$i"
done
bytes=$(cat "$tmp"/bins/b* | wc -c)
start hash "$(printf "$base[hash]\nbytes_per_second = 64G\nmax_file_bytes = 1G\nwait_ms = 0\n")"
htid=$(thread_tid hids-hasher)
h0=$(cut -d' ' -f1 "/proc/$apid/task/$htid/schedstat")
for ((i = 0; i < FILES; i++)); do "$tmp/bins/b$i" 0; done
# Wait until the hasher is idle (its CPU time stops moving).
prev=-1
for _ in $(seq 100); do
	sleep 0.2
	cur=$(cut -d' ' -f1 "/proc/$apid/task/$htid/schedstat")
	[[ $cur == "$prev" ]] && break
	prev=$cur
done
h1=$cur
stop
done_n=$(grep -c '"hash":{"sha256"' "$tmp/hash.out" || true)
TIMEFORMAT='%U %S'
{ time (cd "$tmp/bins" && sha256sum b* >/dev/null); } 2>"$tmp/sha.time"
read -r su ss <"$tmp/sha.time"
"$PYTHON" "$here/exe_bench_hash.py" "$bytes" "$h0" "$h1" "$su" "$ss" "$FILES" "$MB"
log "done ($done_n events carried a hash)"

#!/bin/bash
# filter_storm.sh: what filter rules cost and save in a process storm. It
# runs the same storm (bench.sh's spawner and static no-op) under three
# configs: no rules; a rule that drops the no-op (each of its processes'
# exec and exit is suppressed, the fork from the unfiltered spawner goes
# out); and 50 rules that match nothing (every exec tries them all). It
# prints the agent's CPU per 1000 processes and the lines it wrote, as a
# markdown table. A benchmark, not a test: it exits 0 whatever it measures.
#
# usage (as root): tests/bench/filter_storm.sh [-a AGENT] [-n SPAWNS] [-r REPEAT] [--keep]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BENCH_NAME=filter_storm
AGENT=$top/build/hids-agent
KEEP=0
CC=${CC:-cc}
spawns=3000
repeat=3
while [ $# -gt 0 ]; do
	case $1 in
	-a | --agent) AGENT=$2; shift 2 ;;
	-n | --spawns) spawns=$2; shift 2 ;;
	-r | --repeat) repeat=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "filter_storm.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
. "$here/../lib/bench.sh"
[ -x "$AGENT" ] || die "no agent at $AGENT (build it first)"
# Not under /tmp: an executable in a world-writable directory is never suppressed.
bench_setup "$top/build/hidsfilterbench.XXXXXX"
bench_build

base='[agent]
heartbeat_interval = 0
canary_interval = 0
[filter]
summary_interval = 1'
printf '%s\n' "$base" >"$tmp/off.conf"
printf '%s\n[filter storm]\nexe = %s\n' "$base" "$NOOP" >"$tmp/drop.conf"
{
	printf '%s\n' "$base"
	for i in $(seq 50); do
		printf '[filter miss%d]\nexe = /opt/tool%d/bin/*, /srv/ci%d/**\n' "$i" "$i" "$i"
	done
} >"$tmp/miss50.conf"

# run CONF RUN: one storm under CONF; sets RESULT to "CPU_NS LINES SUPPRESSED",
# LINES counting only the storm's own (those naming a program in $tmp). Not
# to be called in $(...): tests/lib/bench.sh's stop signals only children of this shell.
run() {
	local conf=$1 dir=$tmp/$2 c0 c1 lines sup
	mkdir -p "$dir"
	start_agent "$dir" --stdout -c "$tmp/$conf.conf"
	sleep 0.5
	read -r c0 _ <<<"$(sample "$APID")"
	storm 2 "$spawns" "$dir" "$2"
	sleep 1.5
	read -r c1 _ <<<"$(sample "$APID")"
	stop "$APID" agent
	lines=$(grep -c -F "\"$tmp/" "$dir/agent.out" || true)
	sup=$(grep -F '"action":"suppressed"' "$dir/agent.out" | grep -o '"events":[0-9]*' |
	    awk -F: '{ n += $2 } END { print n + 0 }')
	RESULT="$((c1 - c0)) $lines $sup"
	((KEEP)) || rm -f "$dir/agent.out"
}

echo "| rules | agent CPU per 1000 processes (ms) | lines about the storm | events suppressed |"
echo "|---|---|---|---|"
for conf in off drop miss50; do
	results=()
	for ((r = 1; r <= repeat; r++)); do
		run "$conf" "$conf-$r"
		results+=("$RESULT")
	done
	printf '%s\n' "${results[@]}" | sort -n | awk -v n="$spawns" -v name="$conf" -v r="$repeat" '
		{ cpu[NR] = $1; lines[NR] = $2; sup[NR] = $3 }
		END { m = int((r + 1) / 2); printf "| %s | %.1f (median of %d) | %d | %d |\n",
		    name, cpu[m] / 1e6 / (n / 1000), r, lines[m], sup[m] }'
done

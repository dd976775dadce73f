#!/usr/bin/env bash
#
# forward.sh: process-storm benchmark of hids-agent forwarding over TLS.
#
# Usage (as root, after building the agent):
#   tests/bench/forward.sh [-a AGENT] [-n SPAWNS] [-s "2 4"] [-r REPEAT]
#                          [--settle S] [--wait-quiet S] [--keep] [--strict]
#
#   -a, --agent PATH     agent binary (default: build/hids-agent in the repo)
#   -n, --spawns N       spawns per storm, split over the spawners (default 3000)
#   -s, --spawners LIST  parallel spawner counts to run (default "2 4")
#   -r, --repeat R       runs per mode and spawner count; medians (default 3)
#       --settle S       seconds to wait after a storm before sampling (default 1)
#       --wait-quiet S   before each run, wait up to S seconds for other
#                        process-connector listeners to go away (default 0)
#       --keep           keep the temporary directory with every raw output
#       --strict         exit 1 if the agent misses a target (exit 0 otherwise)
#   -h, --help           print this help
#
# For each spawner count and each repetition it runs the storm of bench.sh
# (tests/lib/bench.sh: spawner.c exec'ing the static no-op noop.c with a
# unique argv) once per mode, alternating which mode goes first:
#   stdout   hids-agent -c EMPTY --stdout, JSON lines to a file;
#   forward  hids-agent -c CONF forwarding ndjson over TLS to a private
#            rsyslogd (imtcp, streamDriver ossl, server authentication only)
#            on a free 127.0.0.1 port, started for this run; CONF sets only
#            [collector] address, ca_file, server_name = localhost and
#            start_jitter_ms = 0 ([spool] unset: memory queue). rsyslog
#            writes each line as "%timegenerated:::date-rfc3339% %rawmsg%",
#            timegenerated being the time (microseconds) at which imtcp took
#            the line off the connection, before rsyslog's queue.
# After the storm it waits --settle seconds and until the exit event of an
# end marker (one more no-op) is in the output, samples the agent's CPU
# time and VmHWM from /proc, and stops the agent (then rsyslog) with
# SIGTERM. forward_analyze.py scores each run (events delivered, argv,
# latency from the event's @timestamp, the kernel's time, to its arrival at
# rsyslog) and prints a markdown table of medians and a PASS/FAIL check of
# the targets of issue 3. See tests/bench/README.md.
#
# Needs: root, cc, rsyslog with rsyslog-openssl, openssl, /usr/bin/python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

AGENT="$repo/build/hids-agent"
SPAWNS=3000
SPAWNERS="2 4"
REPEAT=3
SETTLE=1
KEEP=0
STRICT=0
WAIT_QUIET=0
DRAIN_MAX_S=30		# longest wait for the end marker after the settle
CC=${CC:-cc}
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

usage() { sed -n '3,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
BENCH_NAME=forward
# shellcheck source=tests/lib/bench.sh
. "$here/../lib/bench.sh"

while (($#)); do
	case $1 in
	-a|--agent) AGENT=$2; shift 2 ;;
	-n|--spawns) SPAWNS=$2; shift 2 ;;
	-s|--spawners) SPAWNERS=$2; shift 2 ;;
	-r|--repeat) REPEAT=$2; shift 2 ;;
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
[[ $SETTLE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "bad --settle"
for s in $SPAWNERS; do
	[[ $s =~ ^[0-9]+$ && $s -ge 1 && $s -le $SPAWNS ]] || die "bad spawner count '$s'"
done
((EUID == 0)) || die "must run as root (the connector needs CAP_NET_ADMIN)"
[[ -x $AGENT ]] || die "no agent binary at $AGENT (build it, or pass -a)"
AGENT=$(realpath "$AGENT")
command -v rsyslogd >/dev/null || die "rsyslogd is not installed (apt-get install rsyslog rsyslog-openssl)"
command -v openssl >/dev/null || die "openssl is not installed"
((SPAWNS >= 3000)) || log "note: $SPAWNS spawns per storm; the issue asks for at least 3000"

# ---------------------------------------------------------------- setup
bench_setup /tmp/hidsfwd.XXXXXX
bench_build
RESULTS="$tmp/results.jsonl"
: >"$RESULTS"
"$repo/deploy/make-certs.sh" "$tmp/tls" || die "cannot make the certificates"
: >"$tmp/stdout.conf"	# built-in defaults, without /etc/hids-agent/hids-agent.conf

# ---------------------------------------------------------------- helpers

# One run: $1 = stdout | forward, $2 spawners, $3 repetition.
run() {
	local mode=$1 nsp=$2 rep=$3 dir runid sa0 sa1 sr0='' sr1='' out rcpu=''
	runid="$(date +%H%M%S)r${rep}s${nsp}${mode:0:1}"
	dir="$tmp/$runid"
	mkdir -p "$dir"
	OTHERS=$(cn_listeners)
	if ((OTHERS > 0 && WAIT_QUIET > 0)); then
		local until=$((SECONDS + WAIT_QUIET))
		while ((OTHERS > 0 && SECONDS < until)); do
			sleep 0.5
			OTHERS=$(cn_listeners)
		done
	fi
	((OTHERS == 0)) || log "warning: $OTHERS other process-connector listener(s) running"
	RPID='' APID=''
	if [[ $mode == forward ]]; then
		start_collector "$dir" tls
		cat >"$dir/agent.conf" <<-EOF
		[collector]
		address = 127.0.0.1:$PORT
		ca_file = $tmp/tls/ca.pem
		server_name = localhost
		start_jitter_ms = 0
		EOF
		start_agent "$dir" -c "$dir/agent.conf"
		wait_connected "$APID" "$dir/agent.err"
		out="$dir/received.log"
	else
		start_agent "$dir" -c "$tmp/stdout.conf" --stdout
		out="$dir/agent.out"
	fi
	sa0=$(sample "$APID")
	[[ -n $RPID ]] && sr0=$(sample "$RPID")
	storm "$nsp" "$SPAWNS" "$dir" "$runid"
	sleep "$SETTLE"
	drain "$out" "$runid"
	alive "$APID" hids-agent "$dir/agent.err"
	[[ -n $RPID ]] && alive "$RPID" rsyslogd "$dir/rsyslog.out"
	sa1=$(sample "$APID")
	[[ -n $RPID ]] && { sr1=$(sample "$RPID"); rcpu=$(cpu_between "$sr0" "$sr1" 0); }
	stop "$APID" hids-agent
	[[ -n $RPID ]] && stop "$RPID" rsyslogd
	local -a b
	read -r -a b <<<"$sa1"
	"$PYTHON" "$here/forward_analyze.py" score --mode "$mode" --out "$out" \
		--err "$dir/agent.err" --pids "$dir" --target "$NOOP" --runid "$runid" \
		--meta spawners="$nsp" --meta rep="$rep" --meta wall_s="$WALL_S" \
		--meta cpu_s="$(cpu_between "$sa0" "$sa1" 0)" \
		--meta cpu_ticks_s="$(cpu_between "$sa0" "$sa1" 1)" \
		--meta hwm_kb="${b[2]}" --meta pid="$APID" --meta other_listeners="$OTHERS" \
		--meta drain_s="$DRAIN_S" --meta collector_cpu_s="$rcpu" \
		--meta load1="$(cut -d' ' -f1 /proc/loadavg)" \
		--meta threads0="$(cut -d' ' -f4 <<<"$sa0")" \
		--meta threads1="$(cut -d' ' -f4 <<<"$sa1")" \
		--meta rthreads0="$(cut -d' ' -f4 <<<"$sr0")" \
		--meta rthreads1="$(cut -d' ' -f4 <<<"$sr1")" >>"$RESULTS"
	log "$(printf '%-7s %d spawners run %d: %d spawns in %s s, end marker out %s s after the settle' \
		"$mode" "$nsp" "$rep" "$SPAWNS" "$WALL_S" "$DRAIN_S")"
	APID='' RPID=''
	((KEEP)) || rm -f "$dir"/*.out "$dir"/received.log
}

# ---------------------------------------------------------------- main
collector_conf "$tmp/check" 6514 tls
rsyslogd -N1 -f "$tmp/check/rsyslog.conf" >"$tmp/check/rsyslog-check.log" 2>&1 || {
	cat "$tmp/check/rsyslog-check.log" >&2
	die "rsyslog rejects the collector config (is rsyslog-openssl installed?)"
}
REV=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$repo" status --porcelain --untracked-files=no -- agent proto common 2>/dev/null | wc -l)
STALE=''
if [[ $(stat -c %Y "$AGENT") -lt $(git -C "$repo" log -1 --format=%ct -- agent proto common 2>/dev/null || echo 0) ]]; then
	STALE=" (the binary is older than the last commit to agent/, proto/ or common/)"
	log "warning: $AGENT is older than the last commit to agent/, proto/ or common/"
fi
RSYSLOG_VERSION=$(rsyslogd -v | awk 'NR == 1 { print $1, $2 }')
log "agent $AGENT ($("$AGENT" --version 2>/dev/null | head -n1)), $RSYSLOG_VERSION"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "$(nproc) CPUs, kernel $(uname -r), load average $LOAD0"
log "storms of $SPAWNS spawns of a $LINKAGE no-op; spawners: $SPAWNERS; $REPEAT run(s) per mode"
APID='' RPID=''
for nsp in $SPAWNERS; do
	for ((rep = 1; rep <= REPEAT; rep++)); do
		if ((rep % 2)); then
			run stdout "$nsp" "$rep"
			run forward "$nsp" "$rep"
		else
			run forward "$nsp" "$rep"
			run stdout "$nsp" "$rep"
		fi
	done
done

echo "## hids-agent --stdout vs forwarding over TLS to rsyslog: process storm on $(nproc) CPUs ($(uname -r))"
echo
echo "Storms of $SPAWNS fork+exec of a $LINKAGE no-op with a unique argv, waiting for each child."
echo "Agent \`$AGENT\` ($("$AGENT" --version 2>/dev/null | head -n1)); repository at commit $REV$( ((DIRTY)) && echo " with uncommitted changes in $DIRTY agent/proto/common file(s)")$STALE."
echo "Modes: stdout = \`--stdout\` to a file, built-in defaults; forward = ndjson over TLS to $RSYSLOG_VERSION"
echo "(imtcp, ossl) on 127.0.0.1, defaults but \`start_jitter_ms = 0\`, no spool; the two modes alternate."
echo "Load average at the start: $LOAD0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
rc=0
"$PYTHON" "$here/forward_analyze.py" table "$RESULTS" || rc=$?
((rc == 0 || (rc == 1 && !STRICT))) || exit "$rc"

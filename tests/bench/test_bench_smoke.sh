#!/usr/bin/env bash
#
# test_bench_smoke.sh: checks that bench.sh still runs end to end.
#
#   tests/bench/test_bench_smoke.sh AGENT
#
# Runs bench.sh with tiny numbers (200 spawns, 2 spawners, one run, no
# concurrent storm) and fails unless its report has the table with a row for
# every monitor (hids-agent, forkstat, both bare listeners, no monitor) and
# for the busy-host storms (CPU hogs, disk writer, TLS and RELP forwarding), the
# bare listeners really ran (their summary line, the exec-only one with the
# kernel filter on Linux 6.6+ and at least one exact argv), and the target
# check. It checks that the scripts work, not the figures: those are noisy
# on a shared machine (tests/bench/README.md has the measured ones).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
agent=${1:?usage: test_bench_smoke.sh AGENT}
out=$(mktemp /tmp/hidsbench-smoke.XXXXXX)
trap 'rm -f "$out" "$out.err"' EXIT

fail() { echo "FAIL: $*" >&2; echo "--- report:" >&2; cat "$out" >&2; echo "--- log:" >&2; tail -n 30 "$out.err" >&2; exit 1; }

command -v forkstat >/dev/null || { echo "SKIP: forkstat is not installed"; exit 77; }
"$here/bench.sh" -a "$agent" -n 200 -s 2 -r 1 --no-concurrent --settle 0.5 >"$out" 2>"$out.err" ||
	fail "bench.sh exited with status $?"

grep -q '^| tool | spawners | spawns | spawns/s | rate kept vs no monitor ' "$out" || fail "no table header"
for row in 'hids-agent' 'forkstat' 'bare listener, exec only + cmdline' 'bare listener, drain only' 'no monitor' \
	'hids-agent, while 2 CPU hogs run' 'no monitor, while a disk writer runs' \
	'hids-agent, forwarding over TLS' 'hids-agent, forwarding over RELP with a spool'; do
	grep -q "^| $row | 2 | 200 | " "$out" || fail "no table row for '$row'"
done
grep -q '^| no monitor | 2 | 200 | [0-9]* | 1.00 |' "$out" || fail "the no-monitor row does not keep rate 1.00"
grep -Eq '^- bare listener, drain only, 2 spawners, run 1: .*read events [1-9][0-9]* ' "$out" ||
	fail "the drain-only bare listener read no events"
line=$(grep -E '^- bare listener, exec only \+ cmdline, 2 spawners, run 1: ' "$out") ||
	fail "no details for the exec-only bare listener"
[[ $line =~ exact\ argv\ ([0-9]+) ]] && ((BASH_REMATCH[1] > 0)) || fail "the exec-only bare listener got no exact argv"
[[ $line == *'fork 0, exit 0'* ]] || fail "the exec-only bare listener read fork or exit events"
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if ((kv >= 6006)); then
	[[ $line == *'kernel filter yes'* ]] || fail "the exec-only bare listener did not use the kernel filter"
fi
grep -q '^Targets (hids-agent, every run):' "$out" || fail "no target check"
grep -Eq '^- \[(PASS|FAIL)\] CPU per spawn <= 4x the exec-only bare listener' "$out" ||
	fail "no check against the exec-only floor"
grep -Eq '^- \[(PASS|FAIL)\] spawn rate kept with the agent >= with forkstat' "$out" ||
	fail "no spawn-rate check"
grep -Eq '^- \[PASS\] 0 events lost with 2 spawners' "$out" || fail "the agent lost events"
echo "PASS: bench.sh report complete"

#!/bin/bash
# Proves @timestamp follows a step of the wall clock at once (the clock-step timerfd), back and forth, not only at the next heartbeat.
# It steps the host's clock by 30 s back and then forward again (a private
# time namespace cannot hold CLOCK_REALTIME), for about a second, and
# restores it in a trap even on failure. Back first: a certificate another
# test makes meanwhile is then valid from the past, never from the future.
set -u
bin=${1:?usage: test_clock.sh AGENT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

. "$here/../lib/tap.sh"
. "$here/../lib/live.sh"

STEP=30	# seconds the clock is stepped by
tmp=$(mktemp -d)
pid=
stepped=0
cleanup() {
	if [ "$stepped" = 1 ]; then
		date -s "$STEP seconds" >/dev/null && stepped=0
		echo "# clock restored in the trap"
	fi
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ "$(id -u)" -ne 0 ]; then
	skipped "@timestamp after a clock step" "needs root to set the clock"
	summary
	exit
fi
# May we set the clock here at all (CAP_SYS_TIME, no ProtectClock)?
if ! date -s "0 seconds" >/dev/null 2>&1; then
	skipped "@timestamp after a clock step" "the clock cannot be set here"
	summary
	exit
fi

# No heartbeat in the test's time: it would re-measure the offsets too.
sed -e 's/^heartbeat_interval = .*/heartbeat_interval = 0/' "$top/deploy/hids-agent.conf" >"$tmp/agent.conf"
"$bin" --stdout -c "$tmp/agent.conf" >"$tmp/out.json" 2>"$tmp/err.txt" &
pid=$!
if ! check "the agent starts and reports ready" live_wait_ready "$tmp/err.txt" "$pid"; then
	sed 's/^/# /' "$tmp/err.txt"
	summary
	exit 1
fi

# Runs a marked process and prints how far its exec event's @timestamp is
# from the wall clock when it ran (seconds, signed), or "none".
skew() {
	local mark=hids-clock-$1-$$-$RANDOM t0 t1
	t0=$(date +%s.%N)
	/bin/sh -c 'exit 0' "$mark"
	t1=$(date +%s.%N)
	for _ in $(seq 50); do
		grep -qF "$mark" "$tmp/out.json" && break
		sleep 0.1
	done
	python3 "$here/clock_skew.py" "$tmp/out.json" "$mark" "$t0" "$t1"
}
near() { [ "$1" != none ] && python3 -c "import sys; sys.exit(0 if abs(float('$1')) < 1.0 else 1)"; }

s=$(skew before)
check "before any step, @timestamp matches the wall clock (skew $s s)" near "$s"

stepped=1
date -s "$STEP seconds ago" >/dev/null
sleep 0.2
s=$(skew back)
date -s "$STEP seconds" >/dev/null
stepped=0
check "right after the clock is set ${STEP} s back, @timestamp follows within 1 s (skew $s s)" near "$s"
check "  ... and the agent logs the step" \
    grep -qE "the wall clock was set \(by -(29|30)\.[0-9]+ s\)" "$tmp/err.txt"
sleep 0.2
s=$(skew forward)
check "right after it is set ${STEP} s forward again, @timestamp follows within 1 s (skew $s s)" near "$s"
check "  ... logged too" grep -qE "the wall clock was set \(by \+(29|30)\.[0-9]+ s\)" "$tmp/err.txt"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "the agent exits 0 on SIGTERM" test "$rc" -eq 0
grep 'wall clock' "$tmp/err.txt" | sed 's/^/# /'
summary

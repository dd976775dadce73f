#!/bin/bash
# Proves the README's quick start works from a fresh clone: deploy/quickstart.sh installs nothing more when the run set is there, builds, and shows the first event within a minute, the collector receives JSON lines over TLS, and Ctrl-C stops everything it started.
# Usage: test_quickstart.sh SOURCE_DIR. Needs root (the agent subscribes to
# the kernel's connector). Prints the measured time to the first event.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/net.sh"
src=${1:?usage: test_quickstart.sh SOURCE_DIR}
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi
tmp=$(mktemp -d /tmp/hids-qstest.XXXXXX)
qs=""
work=""
cleanup() {
	[ -n "$qs" ] && kill -KILL -- "-$qs" 2>/dev/null
	rm -rf "$tmp" ${work:+"$work"}
}
trap cleanup EXIT

port=$(free_port)
start=$(date +%s%N)
# A fresh clone of what is committed; a source that is not a git checkout is copied.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git clone -q "$src" "$tmp/clone"
else
	mkdir "$tmp/clone" && tar -C "$src" --exclude='./build*' -cf - . | tar -C "$tmp/clone" -xf -
fi
check "the source is cloned" test -x "$tmp/clone/deploy/quickstart.sh"
# Its own session, as in a terminal: Ctrl-C there is SIGINT to the group.
HIDS_QUICKSTART_PORT=$port setsid "$tmp/clone/deploy/quickstart.sh" >"$tmp/out" 2>"$tmp/err" &
qs=$!
first=""
for ((i = 0; i < 600; i++)); do
	# An event line starts with its time; the view's date header does not.
	if grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2}' "$tmp/out"; then first=$(date +%s%N); break; fi
	kill -0 "$qs" 2>/dev/null || break
	sleep 0.1
done
work=$(sed -n 's/.*lines arriving in \(.*\)\/received\.ndjson.*/\1/p' "$tmp/err")
if [ -n "$first" ]; then
	ms=$(((first - start) / 1000000))
	echo "# fresh clone to the first event on the screen: $ms ms"
	check "the first event shows within a minute of the clone ($ms ms)" test "$ms" -lt 60000
else
	bad "the first event shows within a minute of the clone"
	sed 's/^/#   /' "$tmp/err" | tail -n 20
fi
check "the quick start installed nothing (the run set was there)" \
    bash -c "! grep -q '^installing:' '$tmp/err'"
check "the build has no tests (-DHIDS_TESTS=OFF)" \
    bash -c "! test -e '$tmp/clone/build/tests' && grep -q '^HIDS_TESTS:BOOL=OFF' '$tmp/clone/build/CMakeCache.txt'"
sleep 2
check "the text view shows exec events" grep -qE '^[0-9:.]+ +exec ' "$tmp/out"
check "rsyslog received JSON lines over TLS" \
    bash -c "test -n '$work' && jq -e -s 'length > 0 and all(.[]; .event.action != null)' '$work/received.ndjson' >/dev/null"
pids=$(pgrep -s "$qs" | tr '\n' ' ')
check "the quick start runs rsyslog and the agent in its session" \
    bash -c "pgrep -s '$qs' -x rsyslogd >/dev/null && pgrep -s '$qs' -x hids-agent >/dev/null"
kill -INT -- "-$qs"
for ((i = 0; i < 100; i++)); do
	pgrep -s "$qs" >/dev/null || break
	sleep 0.1
done
check "Ctrl-C stops everything it started (were: $pids)" bash -c "! pgrep -s '$qs' >/dev/null"
wait "$qs" 2>/dev/null
qs=""
summary

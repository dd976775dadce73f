#!/bin/bash
# Proves the command line and config checking behave as documented: clear errors, exit codes, no hangs.
set -u
bin=${1:?usage: test_cli.sh AGENT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
pub=
trap 'rm -rf "$tmp" ${pub:+"$pub"}' EXIT
. "$here/../lib/tap.sh"

out=$("$bin" --version); check "--version prints the version" grep -Eq '^hids-agent [0-9]+\.[0-9]+\.[0-9]+$' <<<"$out"
"$bin" --help >/dev/null; check "--help exits 0" test $? -eq 0
"$bin" --no-such-option >/dev/null 2>&1; check "an unknown option exits 2" test $? -eq 2
"$bin" stray >/dev/null 2>&1; check "a stray argument exits 2" test $? -eq 2

"$bin" --check-config -c "$top/deploy/hids-agent.conf" >/dev/null 2>"$tmp/err"
check "the example config is valid" test $? -eq 0

cat >"$tmp/bad.conf" <<'CONF'
[events]
types = fork,exec,bogus
[capture]
priority = fifo:200
rcvbuf = lots
[nosuch]
key = 1
[process]
unknown_key = 3
this line is not ini
CONF
"$bin" --check-config -c "$tmp/bad.conf" >/dev/null 2>"$tmp/err"
check "a bad config exits 1" test $? -eq 1
for want in "bad.conf:2: unknown event type 'bogus'" "bad.conf:4: bad priority" \
    "bad.conf:5: bad value 'lots' for rcvbuf" "bad.conf:7: unknown section [nosuch]" \
    "bad.conf:9: unknown key 'unknown_key' in [process]" "bad.conf:10: syntax error"; do
	check "reports: $want" grep -qF "$want" "$tmp/err"
done
"$bin" --check-config -c "$tmp/missing.conf" >/dev/null 2>"$tmp/err"
check "a missing config exits 1" test $? -eq 1
check "a missing config says so" grep -q "cannot open" "$tmp/err"

# Unprivileged: kernels before 6.6 refuse the subscription without
# CAP_NET_ADMIN (one clear line, exit 1); newer ones serve it, and the agent
# must then say that it cannot raise the capture thread's priority.
if command -v setpriv >/dev/null; then
	# The checkout may sit in a directory only root can enter (mktemp -d is
	# 0700): give the unprivileged run its own readable copies.
	pub=$(mktemp -d)
	chmod 755 "$pub"
	install -m 755 "$bin" "$pub/hids-agent"
	install -m 644 "$top/deploy/hids-agent.conf" "$pub/hids-agent.conf"
	timeout -s TERM 3 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	    "$pub/hids-agent" --stdout -c "$pub/hids-agent.conf" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ]; then
		check "unprivileged run names CAP_NET_ADMIN" grep -q "CAP_NET_ADMIN" "$tmp/err"
		check "unprivileged run gives one error line" test "$(grep -c 'error:' "$tmp/err")" -eq 1
	else
		check "unprivileged run stops cleanly on SIGTERM (got $rc)" test $rc -eq 124
		check "unprivileged run warns that priority is not raised" \
		    grep -q "cannot raise its priority" "$tmp/err"
	fi
fi

# No core file, even with RLIMIT_CORE unlimited: a core would hold the
# client key. The kernel's core_pattern here must name a plain file.
pattern=$(cat /proc/sys/kernel/core_pattern)
if ldd "$bin" 2>/dev/null | grep -q libasan; then
	skipped "no core file" "AddressSanitizer catches SIGSEGV and turns cores off itself"
elif [ "${pattern#|}" = "$pattern" ] && [ "${pattern#/}" = "$pattern" ]; then
	mkdir "$tmp/core"
	(cd "$tmp/core" && ulimit -c unlimited && exec "$bin" --stdout -c "$top/deploy/hids-agent.conf") \
	    >/dev/null 2>"$tmp/core.err" &
	pid=$!
	for _ in $(seq 100); do grep -q ready "$tmp/core.err" && break; sleep 0.1; done
	kill -SEGV "$pid"
	wait "$pid"
	rc=$?
	check "SIGSEGV kills the agent (exit $rc)" test "$rc" -eq $((128 + 11))
	check "no core file is written (core_pattern '$pattern')" \
	    test -z "$(find "$tmp/core" -mindepth 1 -print -quit)" || ls -l "$tmp/core" | sed 's/^/# /'
else
	skipped "no core file" "core_pattern '$pattern' is not a plain file name"
fi

# SIGHUP: a good config is taken, a broken one refused with the old one kept.
cp "$top/deploy/hids-agent.conf" "$tmp/hup.conf"
"$bin" --stdout -c "$tmp/hup.conf" >"$tmp/hup.out" 2>"$tmp/hup.err" &
pid=$!
for _ in $(seq 100); do grep -q ready "$tmp/hup.err" && break; sleep 0.1; done
sed -i 's/^heartbeat_interval = 60/heartbeat_interval = 1/' "$tmp/hup.conf"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "configuration reloaded" "$tmp/hup.err" && break; sleep 0.1; done
check "SIGHUP reloads a good config" grep -q "configuration reloaded" "$tmp/hup.err"
sleep 2.5
check "the reloaded heartbeat interval applies" \
    test "$(grep -c '"reason":"interval"' "$tmp/hup.out")" -ge 2
# Keys only a restart applies: each change is named in a log line, and kept.
sed -i -e 's/^exec_socket = yes/exec_socket = no/' -e 's/^canary_interval = 30/canary_interval = 5/' \
    -e 's/^#max_bytes = 256M/max_bytes = 128M/' "$tmp/hup.conf"
n=$(grep -c "configuration reloaded" "$tmp/hup.err")
kill -HUP "$pid"
for _ in $(seq 50); do
	test "$(grep -c "configuration reloaded" "$tmp/hup.err")" -gt "$n" && break
	sleep 0.1
done
for key in "[capture] exec_socket" "[agent] canary_interval" "[spool] max_bytes"; do
	check "SIGHUP logs that a $key change needs a restart" \
	    grep -qF "$key changes take effect after a restart" "$tmp/hup.err"
done
check "a reload names only the keys that changed" \
    test "$(grep -c "changes take effect after a restart" "$tmp/hup.err")" -eq 3
echo "not ini at all" >>"$tmp/hup.conf"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "reload refused" "$tmp/hup.err" && break; sleep 0.1; done
check "SIGHUP refuses a broken config" grep -q "reload refused" "$tmp/hup.err"
check "the refusal names file and line" grep -q "hup.conf:[0-9]*: syntax error" "$tmp/hup.err"
/bin/true hids-cli-after-hup-$$
sleep 0.5
check "the agent still runs after a refused reload" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"
check "it still reports events after a refused reload" grep -q "hids-cli-after-hup-$$" "$tmp/hup.out"

# The canary: the agent's own test process is seen and not reported.
printf '[agent]\ncanary_interval = 1\n' >"$tmp/canary.conf"
"$bin" --stdout -v -c "$tmp/canary.conf" >"$tmp/canary.out" 2>"$tmp/canary.err" &
pid=$!
sleep 5
kill -TERM "$pid"
wait "$pid"
check "the canary runs and the kernel reports it" \
    test "$(grep -c 'canary: the kernel reported' "$tmp/canary.err")" -ge 1
check "no connector_silent record while the kernel reports" \
    test -z "$(jq -c 'select(.hids.reason == "connector_silent")' "$tmp/canary.out")"
check "the canary's own process is not reported" \
    bash -c "! jq -e 'select(.process.parent.pid == $pid and .event.action == \"fork\")' '$tmp/canary.out' >/dev/null"

# SIGINT flushes and exits 0, with a final heartbeat.
"$bin" --stdout >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q ready "$tmp/err" && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
check "SIGINT exits 0" test $? -eq 0
check "the last line is the stop heartbeat" grep -q '"reason":"stop"' <(tail -n 1 "$tmp/out")

summary

#!/bin/bash
# Proves that the agent started as root outside the unit becomes [agent] user with exactly the kept capabilities, not dumpable, still reporting root's processes in full and reloading its root-only config, and that its spool directory is created for, handed to, or refused for that user as docs/security.md says.
set -u
bin=${1:?usage: test_user.sh AGENT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)

. "$here/../lib/tap.sh"
. "$here/../lib/live.sh"

for tool in useradd userdel setpriv chrt; do
	if ! command -v "$tool" >/dev/null; then
		skipped "the agent's user switch" "$tool is not installed"
		summary
		exit
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	skipped "the agent's user switch" "needs root"
	summary
	exit
fi

# A throwaway system user of our own (test_sandbox.sh uses another one).
user=hids-live-user
tmp=$(mktemp -d)	# 0700: only root (and CAP_DAC_READ_SEARCH) may enter
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	live_del_user "$user"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if ! live_add_user "$user"; then
	summary
	exit 1
fi
uid=$live_uid
gid=$live_gid
kept=0000000000881004	# CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_NICE (23)

# Starts the agent with config $1, stdout to $2, stderr to $3 (extra
# arguments follow); waits for ready. Sets pid.
start() {
	local conf=$1 out=$2 err=$3
	shift 3
	"$bin" -c "$conf" "$@" >"$out" 2>"$err" &
	pid=$!
	live_wait_ready "$err" "$pid"
}

# Stops the agent with SIGTERM; sets rc.
stop() {
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
}

# 1. The switch itself, with --stdout.
printf '[agent]\nuser = %s\nheartbeat_interval = 1\n' "$user" >"$tmp/agent.conf"
chmod 600 "$tmp/agent.conf"
mkdir -m 700 "$tmp/cwd-root"
out=$tmp/out.json err=$tmp/err.txt
if ! check "the agent starts as root with [agent] user = $user and reports ready" \
    start "$tmp/agent.conf" "$out" "$err" --stdout; then
	sed 's/^/# /' "$err"
	summary
	exit 1
fi
check "it logs the switch" grep -q "running as user $user (uid $uid, gid $gid)" "$err"
status=$(cat "/proc/$pid/status")
field() { sed -n "s/^$1:[[:space:]]*//p" <<<"$status"; }
echo "# Uid $(field Uid) Gid $(field Gid) Groups $(field Groups)"
echo "# CapInh $(field CapInh) CapPrm $(field CapPrm) CapEff $(field CapEff) CapBnd $(field CapBnd) CapAmb $(field CapAmb)"
check "real, effective, saved and fs uid are $uid" \
    test "$(field Uid)" = "$(printf '%s\t%s\t%s\t%s' "$uid" "$uid" "$uid" "$uid")"
check "real, effective, saved and fs gid are $gid" \
    test "$(field Gid)" = "$(printf '%s\t%s\t%s\t%s' "$gid" "$gid" "$gid" "$gid")"
check "the supplementary groups are $user's ($gid), not root's" test "$(field Groups | tr -d ' ')" = "$gid"
for set in CapEff CapPrm CapBnd; do
	check "$set is exactly the kept set ($kept)" test "$(field $set)" = "$kept"
done
check "CapInh and CapAmb are empty" \
    test "$(field CapInh)" = 0000000000000000 -a "$(field CapAmb)" = 0000000000000000
check "NoNewPrivs is 1" test "$(field NoNewPrivs)" = 1
check "not dumpable after the switch: /proc/$pid/status belongs to root" \
    test "$(stat -c %u "/proc/$pid/status")" = 0
fifo=0
for task in /proc/"$pid"/task/*; do
	chrt -p "${task##*/}" 2>/dev/null | grep -q 'policy: SCHED_FIFO' && fifo=$((fifo + 1))
done
check "the capture thread still runs SCHED_FIFO (CAP_SYS_NICE kept; $fifo thread)" test "$fifo" -eq 1

# A root process in a directory only root may enter: still complete.
mark=hids-user-root-$$-$RANDOM
(cd "$tmp/cwd-root" && exec /bin/sh -c 'sleep 0.3' "$mark")
sh_exe=$(readlink -f /bin/sh)
# SIGHUP re-reads the root-only config (0600 in a 0700 directory).
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "configuration reloaded" "$err" && break; sleep 0.1; done
check "SIGHUP re-reads the root-only config as $user" grep -q "configuration reloaded" "$err"
sleep 0.5
stop
check "the agent exits 0 on SIGTERM" test "$rc" -eq 0
check "it logs no warning or error" bash -c "! grep -Eq ': (warning|error):' '$err'" ||
    sed 's/^/# /' "$err"
sel='select(.event.action == "exec" and .process.args == ["/bin/sh", "-c", "sleep 0.3", $m])'
check "root's exec event is there with its exact args" \
    test "$(jq -c --arg m "$mark" "$sel" "$out" | wc -l)" -ge 1
check "  ... with process.executable $sh_exe" \
    test "$(jq -r --arg m "$mark" "$sel | .process.executable" "$out" | sort -u)" = "$sh_exe"
check "  ... with process.working_directory $tmp/cwd-root" \
    test "$(jq -r --arg m "$mark" "$sel | .process.working_directory" "$out" | sort -u)" = "$tmp/cwd-root"
check "  ... with process.user.id 0" \
    test "$(jq -r --arg m "$mark" "$sel | .process.user.id" "$out" | sort -u)" = 0
check "  ... and its exit" test "$(jq -c --arg m "$mark" \
    'select(.event.action == "end" and .process.args == ["/bin/sh", "-c", "sleep 0.3", $m])' "$out" | wc -l)" -ge 1

# 2. The spool directory: forwarding to a port nobody listens on, so every
# event waits in the spool.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
spool_conf() {
	printf '[agent]\nuser = %s\n[collector]\naddress = 127.0.0.1:%s\n[spool]\ndir = %s\n' \
	    "$user" "$port" "$1" >"$tmp/spool.conf"
}
seg_owned() { find "$1" -name 'seg-*.hsp' -user "$user" | grep -q .; }
wait_for_seg() {
	for _ in $(seq 100); do
		seg_owned "$1" && return 0
		sleep 0.1
	done
	return 1
}

spool_conf "$tmp/spool-new"
if start "$tmp/spool.conf" "$tmp/s1.out" "$tmp/s1.err"; then
	check "a missing spool directory is created for $user and says so" \
	    grep -q "spool: created $tmp/spool-new for uid $uid" "$tmp/s1.err"
	check "  ... owned by $user, mode 0700" test "$(stat -c '%U %a' "$tmp/spool-new")" = "$user 700"
	check "  ... and the agent writes its segments there as $user" wait_for_seg "$tmp/spool-new"
	stop
else
	bad "the agent starts with a spool to create"
	sed 's/^/# /' "$tmp/s1.err"
fi

# A spool root's earlier runs left (root-owned, private) is handed over.
mkdir -m 700 "$tmp/spool-root"
for s in "$tmp"/spool-new/seg-*.hsp; do cp "$s" "$tmp/spool-root/"; done
nseg=$(find "$tmp/spool-root" -name 'seg-*.hsp' -user root | wc -l)
spool_conf "$tmp/spool-root"
if start "$tmp/spool.conf" "$tmp/s2.out" "$tmp/s2.err"; then
	check "a root-owned spool is given to $user, segments too, and the log says so" \
	    grep -q "spool: $tmp/spool-root belonged to root; gave it and $nseg segments to uid $uid" "$tmp/s2.err"
	check "  ... no file in it is root's any more" test -z "$(find "$tmp/spool-root" -user root)"
	check "  ... and its events are read back (no refusal)" bash -c "! grep -q 'running without a spool' '$tmp/s2.err'"
	stop
else
	bad "the agent starts with a root-owned spool"
	sed 's/^/# /' "$tmp/s2.err"
fi

# Another user's spool is neither taken over nor used.
mkdir -m 700 "$tmp/spool-other"
chown 65534:65534 "$tmp/spool-other"
spool_conf "$tmp/spool-other"
if start "$tmp/spool.conf" "$tmp/s3.out" "$tmp/s3.err"; then
	check "another user's spool is refused in one clear line, and the agent runs on" \
	    grep -q "spool directory $tmp/spool-other belongs to uid 65534, not to the agent's user (uid $uid).*running without a spool" "$tmp/s3.err" ||
	    grep spool "$tmp/s3.err" | sed 's/^/# /'
	check "  ... and left to its owner" test "$(stat -c %u "$tmp/spool-other")" = 65534
	stop
else
	bad "the agent starts with another user's spool"
	sed 's/^/# /' "$tmp/s3.err"
fi

# 3. Empty means stay root; a configured user that does not exist is an error.
printf '[agent]\nuser =\n' >"$tmp/root.conf"
if start "$tmp/root.conf" "$tmp/r.out" "$tmp/r.err" --stdout; then
	check "user = (empty) stays root" test "$(awk '/^Uid:/ { print $3 }' "/proc/$pid/status")" = 0
	stop
else
	bad "the agent starts with user ="
fi
printf '[agent]\nuser = hids-no-such-user\n' >"$tmp/nouser.conf"
timeout 10 "$bin" -c "$tmp/nouser.conf" --stdout >/dev/null 2>"$tmp/nouser.err"
check "a user that does not exist: exit 1" test $? -eq 1
check "  ... naming it" grep -q "no user 'hids-no-such-user'" "$tmp/nouser.err"
"$bin" --check-config -c "$tmp/nouser.conf" >/dev/null 2>"$tmp/nouser.err"
check "--check-config refuses it too (exit 1, naming it)" \
    bash -c "test $? -eq 1 && grep -q \"\[agent\] user: no user 'hids-no-such-user'\" '$tmp/nouser.err'"
"$bin" --check-config -c "$tmp/agent.conf" >/dev/null 2>&1
check "--check-config accepts an existing user" test $? -eq 0
summary

#!/bin/bash
# Proves the agent works the way the packaged unit runs it, emulated without
# systemd: as an unprivileged system user holding CAP_NET_ADMIN,
# CAP_SYS_PTRACE and CAP_SYS_NICE as ambient capabilities (User=,
# AmbientCapabilities=, CapabilityBoundingSet=), with capset denied by
# seccomp and no_new_privs set (SystemCallFilter=, NoNewPrivileges=), and
# with its own /proc mounted hidepid=invisible,subset=pid in a private mount
# namespace (ProtectProc=invisible, ProcSubset=pid). It must subscribe, run
# its capture thread at SCHED_FIFO, keep exactly those capabilities, and
# still report another user's and root's processes with exact argv,
# executable and working directory.
set -u
bin=${1:?usage: test_sandbox.sh AGENT_BINARY DENY_SYSCALLS_BINARY}
deny=${2:?usage: test_sandbox.sh AGENT_BINARY DENY_SYSCALLS_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

. "$here/../lib/tap.sh"
. "$here/../lib/live.sh"

for tool in unshare setpriv nsenter chrt jq useradd userdel; do
	if ! command -v "$tool" >/dev/null; then
		skipped "the sandboxed agent" "$tool is not installed"
		summary
		exit
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	skipped "the sandboxed agent" "needs root to create a user and mount /proc"
	summary
	exit
fi

# A throwaway system user, never the package's hids-agent (the package test
# checks that user's life cycle). A leftover from an interrupted run is ours.
user=hids-live-test
tmp=$(mktemp -d)	# 0700: only root may enter
pub=$(mktemp -d)
chmod 755 "$pub"
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	live_del_user "$user"
	rm -rf "$tmp" "$pub"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if ! live_add_user "$user"; then
	summary
	exit 1
fi
uid=$live_uid
gid=$live_gid

# The user needs readable copies: the build tree may sit in a directory only
# root can enter.
install -m 755 "$bin" "$pub/hids-agent"
install -m 755 "$deny" "$pub/deny_syscalls"
install -m 644 "$top/deploy/hids-agent.conf" "$pub/hids-agent.conf"
mkdir -m 755 "$pub/cwd-other" "$tmp/cwd-root"

caps=+net_admin,+sys_ptrace,+sys_nice
kept=0000000000881000	# CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_NICE (23)
proc_before=$(grep -E '^proc /proc ' /proc/mounts)
out=$tmp/out.json err=$tmp/err.txt
(
	cd "$pub" &&
	exec unshare -m --propagation private \
	    sh -c 'mount -t proc -o hidepid=invisible,subset=pid proc /proc && exec "$@"' sh \
	    setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	    --inh-caps=-all,$caps --ambient-caps=$caps --bounding-set=-all,$caps \
	    "$pub/deny_syscalls" capset "$pub/hids-agent" --stdout -c "$pub/hids-agent.conf"
) >"$out" 2>"$err" &
pid=$!
if ! check "the agent starts as $user with ambient capabilities and reports ready" \
    live_wait_ready "$err" "$pid"; then
	sed 's/^/# /' "$err"
	summary
	exit 1
fi

# The sandbox is real: the agent's /proc is its own hidepid=invisible,subset=pid
# mount, which hides root's processes from a user without CAP_SYS_PTRACE and
# hides nothing from one with it.
opts=$(nsenter -t "$pid" -m awk '$5 == "/proc" { o = $NF } END { print o }' /proc/self/mountinfo)
echo "# the agent's /proc: $opts"
check "the agent's /proc is mounted hidepid=invisible,subset=pid" \
    grep -Eq '(^|,)hidepid=invisible(,|$)' <<<"$opts" &&
    check "  ... with subset=pid" grep -Eq '(^|,)subset=pid(,|$)' <<<"$opts"
check "the host's /proc is unchanged" test "$(grep -E '^proc /proc ' /proc/mounts)" = "$proc_before"
check "there, a user without CAP_SYS_PTRACE does not see this root shell ($$)" \
    nsenter -t "$pid" -m setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    --inh-caps=-all --bounding-set=-all sh -c "test ! -e /proc/$$"
check "there, the same user with CAP_SYS_PTRACE reads its exe link" \
    nsenter -t "$pid" -m setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    --inh-caps=-all,+sys_ptrace --ambient-caps=+sys_ptrace --bounding-set=-all,+sys_ptrace \
    sh -c "test \"\$(readlink /proc/$$/exe)\" = '$(readlink -f "$BASH")'"

# The agent's credentials, after its own drop.
status=$(cat "/proc/$pid/status")
field() { sed -n "s/^$1:[[:space:]]*//p" <<<"$status"; }
check "the agent runs as $user (uid $uid, gid $gid)" \
    test "$(field Uid)" = "$(printf '%s\t%s\t%s\t%s' "$uid" "$uid" "$uid" "$uid")" -a \
    "$(field Gid)" = "$(printf '%s\t%s\t%s\t%s' "$gid" "$gid" "$gid" "$gid")"
echo "# CapInh $(field CapInh) CapPrm $(field CapPrm) CapEff $(field CapEff) CapBnd $(field CapBnd) CapAmb $(field CapAmb)"
for set in CapEff CapPrm CapBnd; do
	check "$set is exactly the kept set ($kept)" test "$(field $set)" = "$kept"
done
check "CapAmb is empty" test "$(field CapAmb)" = 0000000000000000
check "CapInh holds nothing outside the kept set" \
    test $(( 0x$(field CapInh) & ~0x$kept )) -eq 0
check "NoNewPrivs is 1" test "$(field NoNewPrivs)" = 1
check "a seccomp filter is on (capset denied)" test "$(field Seccomp)" = 2
# Not dumpable (PR_SET_DUMPABLE 0): the kernel then gives the agent's /proc
# entries to root, so its own user cannot ptrace it or read its memory.
check "the agent is not dumpable: /proc/$pid/status belongs to root, not to $user" \
    test "$(stat -c %u "/proc/$pid/status")" = 0

# The capture thread's scheduling, from outside.
fifo=0
for task in /proc/"$pid"/task/*; do
	chrt -p "${task##*/}" 2>/dev/null | grep -q 'policy: SCHED_FIFO' && fifo=$((fifo + 1))
done
check "one thread of the agent runs SCHED_FIFO (got $fifo)" test "$fifo" -eq 1
check "the agent logs the capture thread at fifo:1" grep -q 'capture thread running at fifo:1' "$err"

# Another user's process and a root one, each with a unique argv and a
# working directory of its own; root's is one the agent's user cannot enter.
mark_other=hids-sbx-other-$$-$RANDOM mark_root=hids-sbx-root-$$-$RANDOM
(cd "$pub/cwd-other" && exec setpriv --reuid=65534 --regid=65534 --clear-groups \
    /bin/sh -c 'sleep 0.3' "$mark_other")
(cd "$tmp/cwd-root" && exec /bin/sh -c 'sleep 0.3' "$mark_root")
sh_exe=$(readlink -f /bin/sh)
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "the agent exits 0 on SIGTERM" test "$rc" -eq 0
check "it logs no warning or error" bash -c "! grep -Eq ': (warning|error):' '$err'" ||
    sed 's/^/# /' "$err"
check "the last line is the stop heartbeat" grep -q '"reason":"stop"' <(tail -n 1 "$out")

# Every exec event with the exact argv carries the right executable,
# working directory and user; there is at least one.
exec_check() {
	local who=$1 mark=$2 cwd=$3 id=$4 n
	local sel='select(.event.action == "exec" and .process.args == ["/bin/sh", "-c", "sleep 0.3", $m])'
	n=$(jq -c --arg m "$mark" "$sel" "$out" | wc -l)
	check "$who: an exec event with the exact process.args" test "$n" -ge 1 || return
	check "$who: process.executable is $sh_exe" test "$(jq -r --arg m "$mark" \
	    "$sel | .process.executable" "$out" | sort -u)" = "$sh_exe"
	check "$who: process.working_directory is $cwd" test "$(jq -r --arg m "$mark" \
	    "$sel | .process.working_directory" "$out" | sort -u)" = "$cwd"
	check "$who: process.user.id is $id" test "$(jq -r --arg m "$mark" \
	    "$sel | .process.user.id" "$out" | sort -u)" = "$id"
	check "$who: not reported as gone from /proc" test -z "$(jq -r --arg m "$mark" \
	    "$sel | select(.hids.proc_gone == true) | .process.pid" "$out")"
}
exec_check "another user's process" "$mark_other" "$pub/cwd-other" 65534
exec_check "root's process" "$mark_root" "$tmp/cwd-root" 0

# Key files are checked the way the agent will open them: a group-readable
# key (root:GROUP 0640, as the package documents) is accepted, a root-only
# one is refused in one line, unless CAP_DAC_READ_SEARCH lets the agent read
# it anyway (access() would answer for the real uid without capabilities).
printf 'dummy\n' >"$pub/client.pem"
printf 'dummy\n' >"$pub/group.key"
printf 'dummy\n' >"$pub/root.key"
chmod 644 "$pub/client.pem"
chown "root:$gid" "$pub/group.key"
chmod 640 "$pub/group.key"
chmod 600 "$pub/root.key"
for k in group root; do
	printf '[collector]\naddress = 127.0.0.1:6514\ncert_file = %s\nkey_file = %s\n' \
	    "$pub/client.pem" "$pub/$k.key" >"$pub/$k.conf"
done
as_user() {
	setpriv --reuid="$uid" --regid="$gid" --init-groups "$@"
}
as_user --inh-caps=-all "$pub/hids-agent" --check-config -c "$pub/group.conf" >/dev/null 2>"$tmp/cc.err"
check "$user accepts a key readable through its group" test $? -eq 0 || sed 's/^/# /' "$tmp/cc.err"
as_user --inh-caps=-all "$pub/hids-agent" --check-config -c "$pub/root.conf" >/dev/null 2>"$tmp/cc.err"
check "$user refuses a root-only key (exit 1)" test $? -eq 1
check "  ... in one line naming key_file" \
    test "$(wc -l <"$tmp/cc.err")" -eq 1 -a "$(grep -c "cannot read key_file '$pub/root.key': Permission denied" "$tmp/cc.err")" -eq 1 ||
    sed 's/^/# /' "$tmp/cc.err"
as_user --inh-caps=-all,+dac_read_search --ambient-caps=+dac_read_search \
    "$pub/hids-agent" --check-config -c "$pub/root.conf" >/dev/null 2>"$tmp/cc.err"
check "$user with CAP_DAC_READ_SEARCH accepts the root-only key" test $? -eq 0 ||
    sed 's/^/# /' "$tmp/cc.err"

summary

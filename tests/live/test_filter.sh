#!/bin/bash
# Proves, against the real kernel, that filter rules of every kind (exe,
# parent_exe, cmdline, user, container any and none, subtree, sample)
# suppress whole processes, that every never-suppress case still arrives
# under a rule that matches it, that the suppressed records count exactly
# what was spawned, and that SIGHUP refuses a bad rule and keeps the
# decisions of running processes. Needs root.
#
# A process that left /proc before the agent read it (hids.proc_gone) has
# no executable or argv to match, so it is reported, not suppressed: the
# counts below allow for exactly those, found by pid.
set -u
bin=${1:?usage: test_filter.sh AGENT_BINARY WORKDIR}
work=${2:?usage: test_filter.sh AGENT_BINARY WORKDIR}
py=/usr/bin/python3
# The binaries the rules match live outside world-writable directories,
# which are never suppressed: a build directory under one of them (a clone
# in /tmp) gives way to /var/lib.
case $(realpath -m "$work")/ in
/tmp/* | /var/tmp/* | /dev/shm/*) work=/var/lib/hids-test-filter ;;
esac
mkdir -p "$work"
w=$(mktemp -d "$work/filter.XXXXXX")
tmpd=$(mktemp -d /tmp/hidsfilter.XXXXXX)
m=$$
shm=/dev/shm/hidsfilter-$m vtmp=/var/tmp/hidsfilter-$m
# A cgroup where docker's cgroupfs driver puts a container (procfs.c takes
# container ids only under a runtime's own parent).
# On cgroup v1 any hierarchy will do (pids); on v2 the unified one.
if [ -d /sys/fs/cgroup/pids ]; then
	cgparent=/sys/fs/cgroup/pids/docker
else
	cgparent=/sys/fs/cgroup/docker
fi
made_cgparent=false
cg=$cgparent/$(printf '%064x' $m)
agent=
cleanup() {
	if [ -n "$agent" ] && kill -0 "$agent" 2>/dev/null; then
		kill -TERM "$agent"
		wait "$agent" 2>/dev/null
	fi
	rm -f "$shm" "$vtmp"
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	$made_cgparent && rmdir "$cgparent" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $w $tmpd"; else rm -rf "$w" "$tmpd"; fi
	[ "$work" = /var/lib/hids-test-filter ] && rmdir "$work" 2>/dev/null
}
trap cleanup EXIT
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"

mkdir "$w/bin"
chmod 755 "$w"	# nobody runs the setuid copy from here
for b in exe-true samp-true ctr-true; do cp /bin/true "$w/bin/$b"; done
for b in par-sh tree-sh ns-sh; do cp /bin/dash "$w/bin/$b"; done
# The never-suppress cases run for a while, so that /proc still has them.
for b in pt-sleep exe-sleep suid-sleep suid2-sleep nsx-sleep env-sleep env2-sleep; do cp /bin/sleep "$w/bin/$b"; done
cp /bin/sleep "$tmpd/ww-sleep"
cp /bin/sleep "$shm"
cp /bin/sleep "$vtmp"
chmod u+s "$w/bin/suid-sleep" "$w/bin/suid2-sleep"
printf 'sleep 0.2\nexit 0\n' >"$tmpd/s.sh"

conf=$w/agent.conf
write_conf() {
	cat >"$conf" <<EOF
[agent]
heartbeat_interval = 0
canary_interval = 0
[filter]
summary_interval = 1
never_suppress_exe = $w/bin/nsx-*
[filter exe]
exe = $w/bin/exe-true, $w/bin/exe-sleep
[filter parent]
parent_exe = $w/bin/par-sh
[filter cmdline]
cmdline = *hidsfilter-cmd-$m *
[filter user]
user = nobody
cmdline = * hidsfilter-user-$m *
[filter ctr]
container = any
exe = $w/bin/ctr-true
[filter host]
container = none
cmdline = * hidsfilter-host-$m *
[filter tree]
exe = $w/bin/tree-sh
subtree = yes
[filter sample]
exe = $w/bin/samp-true
sample = 4
[filter ww]
exe = /tmp/**, /var/tmp/**, /dev/shm/**
[filter script]
exe = $w/bin/ns-sh
[filter memfd]
exe = /memfd:hidsfilter-$m*, $w/del-sleep
[filter suid]
exe = $w/bin/suid-sleep, $w/bin/suid2-sleep
[filter nsx]
exe = $w/bin/nsx-sleep
[filter env]
exe = $w/bin/env-sleep, $w/bin/env2-sleep
[filter uid0]
cmdline = *hidsfilter-uid0-$m*
[filter ptrace]
exe = $w/bin/pt-sleep
EOF
}
write_conf
check "--check-config accepts the rules" "$bin" --check-config -c "$conf"

"$bin" --stdout -c "$conf" >"$w/out" 2>"$w/err" &
agent=$!
if ! agent_wait_ready "$w/err"; then
	bad "the agent starts"
	summary
	exit 1
fi

# spawn KIND COUNT PROG ARGS...: runs PROG ARGS... I for I in 1..COUNT from
# a bash of its own, and records that spawner's pid under KIND.
spawn() {
	local kind=$1 n=$2
	shift 2
	bash -c 'n=$1; shift; for ((i = 1; i <= n; i++)); do "$@" "$i"; done' spawner "$n" "$@" &
	echo "$kind $!" >>"$w/pids"
	wait $!
}

# Rule kinds.
spawn exe 20 "$w/bin/exe-true"
"$w/bin/par-sh" -c 'i=0; while [ $i -lt 10 ]; do /bin/true hidsfilter-par; i=$((i+1)); done; exit 0' &
echo "parent $!" >>"$w/pids"
wait $!
spawn cmdline 10 /bin/true "hidsfilter-cmd-$m"
spawn user 5 setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true x "hidsfilter-user-$m"
/bin/sh -c 'sleep 0.2; exit 0' x "hidsfilter-user-$m" root
container_ok=false
if [ ! -d "$cgparent" ] && mkdir "$cgparent" 2>/dev/null; then
	made_cgparent=true
fi
if mkdir "$cg" 2>/dev/null && sh -c 'echo $$ >"$1/cgroup.procs"' _ "$cg" 2>/dev/null; then
	container_ok=true
	bash -c 'for ((i = 1; i <= 5; i++)); do
	    (echo "$BASHPID" >"$1/cgroup.procs" && exec "$2" "$i"); done' spawner "$cg" "$w/bin/ctr-true" &
	echo "ctr $!" >>"$w/pids"
	wait $!
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec /bin/sh -c 'sleep 0.2; exit 0' x "hidsfilter-host-$m" inctr)
fi
spawn host 5 /bin/true x "hidsfilter-host-$m"
"$w/bin/tree-sh" -c 'sleep 0.1; sleep 0.1; /bin/sh -c "sleep 0.1; sleep 0.1; exit 0"; exit 0' &
echo "tree $!" >>"$w/pids"
wait $!
spawn sample 80 "$w/bin/samp-true"

# Never-suppress cases, each under a rule that matches it.
"$tmpd/ww-sleep" 0.2
"$vtmp" 0.2
"$shm" 0.2
"$w/bin/ns-sh" "$tmpd/s.sh"
$py -c 'import os, sys
fd = os.memfd_create(sys.argv[1], 0)
os.write(fd, open("/bin/sleep", "rb").read())
os.execv("/proc/self/fd/%d" % fd, ["sleep", "0.3"])' "hidsfilter-$m"
cp /bin/sleep "$w/del-sleep"
$py -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.set_inheritable(fd, True)
os.unlink(sys.argv[1])
os.execv("/proc/self/fd/%d" % fd, ["sleep", "0.3"])' "$w/del-sleep"
setpriv --reuid=65534 --regid=65534 --clear-groups "$w/bin/suid-sleep" 0.2
"$w/bin/suid2-sleep" 0.2
"$w/bin/nsx-sleep" 0.2
GLIBC_TUNABLES=glibc.malloc.check=0 "$w/bin/env-sleep" 0.2
LD_PRELOAD=/nonexistent-hidsfilter.so "$w/bin/env2-sleep" 0.2 2>/dev/null
$py -c 'import os, time
time.sleep(0.1)
os.setresuid(65534, 65534, 0)
os.setresuid(0, 0, 0)' "hidsfilter-uid0-$m"
"$w/bin/pt-sleep" 1.5 &
ptpid=$!
sleep 0.5
$py -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) != 0:
    sys.exit("PTRACE_ATTACH: errno %d" % ctypes.get_errno())
os.waitpid(pid, 0)
libc.ptrace(17, pid, None, None)' "$ptpid"
wait "$ptpid"
echo "ptrace $ptpid" >>"$w/pids"

# Reload: a bad rule is refused and the old rules stay.
"$w/bin/exe-sleep" 3 &
echo "sleeper $!" >>"$w/pids"
sleeper=$!
sleep 1.5
printf '[filter broken]\nexe = relative/path\n' >>"$conf"
kill -HUP "$agent"
for _ in $(seq 50); do grep -q 'reload refused' "$w/err" && break; sleep 0.1; done
check "reload: a bad rule is refused with file:line" \
    grep -q "$conf:[0-9]*: exe 'relative/path' must be an absolute path glob" "$w/err"
spawn exe2 3 "$w/bin/exe-true"
# A good reload without the exe rule: new execs arrive, the running sleeper stays suppressed.
write_conf
sed -i '/^\[filter exe\]$/,+1d' "$conf"
kill -HUP "$agent"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$w/err" && break; sleep 0.1; done
check "reload: good rules are installed" grep -q 'configuration reloaded' "$w/err"
spawn exe3 2 "$w/bin/exe-true"
wait "$sleeper"
sleep 1.5
agent_stop "filters"

"$py" "$here/filter_check.py" "$w/out" "$m" "$w" "$tmpd" "$shm" "$vtmp" "$w/pids" "$container_ok" >"$w/report"
cat "$w/report"
pass=$((pass + $(grep -c '^ok' "$w/report")))
fail=$((fail + $(grep -c '^not ok' "$w/report")))
[ -s "$w/report" ] || bad "the report was written"
check "every line is valid against the schema, suppressed records included" \
    "$py" "$here/schema_check.py" --require-actions suppressed,exec,end,fork \
    "$here/../../proto/event.schema.json" "$w/out"
summary

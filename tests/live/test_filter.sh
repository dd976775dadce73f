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
# which are never suppressed.
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

"$py" - "$w/out" "$m" "$w" "$tmpd" "$shm" "$vtmp" "$w/pids" "$container_ok" <<'PY' >"$w/report"
import json, sys
out, m, w, tmpd, shm, vtmp, pidfile, ctr = sys.argv[1:9]
pids = dict(l.split() for l in open(pidfile))
pids = {k: int(v) for k, v in pids.items()}
evs = [json.loads(l) for l in open(out)]
def proc(d): return d.get("process", {})
def act(d): return d["event"]["action"]
def args(d): return proc(d).get("args", [])
def has_arg(d, a): return a in args(d)
def exe(d): return proc(d).get("executable")
def seq(d): return d["event"]["sequence"]
def gone(d): return d.get("hids", {}).get("proc_gone") is True
def res(ok, what): print(("ok - " if ok else "not ok - ") + what)
sup = {}
for d in evs:
    if act(d) == "suppressed":
        f = d["hids"]["filter"]
        s = sup.setdefault(f["rule"], [0, 0, None])
        s[0] += f["processes"]
        s[1] += f["events"]
        s[2] = s[2] or f.get("example", {}).get("command_line")
lost = sum(1 for d in evs if act(d) == "lost")
note = " (%d lost records: the kernel or a queue dropped events)" % lost if lost else ""
def count(rule, procs, events, what):
    got = sup.get(rule, [0, 0])[:2]
    res(got == [procs, events], "%s: suppressed records count %d processes, %d events (got %s)%s"
        % (what, procs, events, got, note))
def life(pid, after):
    """The events of pid after sequence number after, to its exit."""
    l = []
    for d in evs:
        if seq(d) > after and proc(d).get("pid") == pid and act(d) not in ("suppressed",):
            l.append(d)
            if act(d) == "end":
                break
    return l
def children(ppid):
    """(pid, fork sequence) of the fork children of ppid."""
    return [(proc(d)["pid"], seq(d)) for d in evs if act(d) == "fork"
            and proc(d).get("parent", {}).get("pid") == ppid and not proc(d).get("thread")]
def group(kind, n, target):
    """Checks a spawner's children; returns (children gone before the agent saw them, kept)."""
    kids = children(pids[kind])
    res(len(kids) == n, "%s: the %d fork events are reported (%d)" % (kind, n, len(kids)))
    ngone = kept = 0
    for pid, s in kids:
        l = life(pid, s)
        if any(act(d) == "exec" and gone(d) for d in l):
            ngone += 1
        elif any(act(d) == "exec" and exe(d) == target for d in l):
            kept += 1
    return ngone, kept

execs = [d for d in evs if act(d) == "exec"]
exits = [d for d in evs if act(d) == "end"]
# exe: 20, then 3 after the refused reload, then 2 after the good one, and a sleeper.
g1, k1 = group("exe", 20, w + "/bin/exe-true")
g2, k2 = group("exe2", 3, w + "/bin/exe-true")
g3, k3 = group("exe3", 2, w + "/bin/exe-true")
res(k1 == 0 and k2 == 0, "exe: no exec of the program is reported while the rule is there")
res(k3 + g3 == 2, "exe: after the rule is removed, its execs are reported (%d)" % k3)
res(not life(pids["sleeper"], 0)[1:],
    "whole life: a process suppressed before a reload stays suppressed to its exit")
n = 20 - g1 + 3 - g2 + 1
count("exe", n, 2 * n, "exe (23 spawns and a sleeper, across a bad and a good reload)")
ex = sup.get("exe", [0, 0, ""])[2] or ""
res(ex.startswith(w + "/bin/exe-"),
    "exe: the suppressed record carries an example command line (%r)" % ex)
# parent_exe: par-sh is reported; its ten children's forks too, then nothing.
res(any(exe(d) == w + "/bin/par-sh" for d in life(pids["parent"], 0)),
    "parent_exe: the parent itself is reported")
g, k = group("parent", 10, "/usr/bin/true")
res(k == 0, "parent_exe: no exec of a child is reported")
count("parent", 10 - g, 2 * (10 - g), "parent_exe")
g, k = group("cmdline", 10, "/usr/bin/true")
res(k == 0, "cmdline: no exec is reported")
count("cmdline", 10 - g, 2 * (10 - g), "cmdline")
g, k = group("user", 5, "/usr/bin/true")
res(k == 0, "user: the processes of nobody are suppressed")
res(len([d for d in execs if has_arg(d, "hidsfilter-user-%s" % m) and has_arg(d, "root")]) == 1,
    "user: the same command as root is reported")
count("user", 5 - g, 2 * (5 - g), "user")
if ctr == "true":
    g, k = group("ctr", 5, w + "/bin/ctr-true")
    res(k == 0, "container any: no exec in the container is reported")
    count("ctr", 5 - g, 2 * (5 - g), "container any")
    ic = [d for d in execs if has_arg(d, "hidsfilter-host-%s" % m) and has_arg(d, "inctr")]
    res(len(ic) == 1 and ic[0].get("container", {}).get("id") == "%064x" % int(m),
        "container none: a matching command in a container is reported")
else:
    print("ok - container rules # SKIP cannot create a cgroup")
g, k = group("host", 5, "/usr/bin/true")
res(k == 0, "container none: host processes are suppressed")
count("host", 5 - g, 2 * (5 - g), "container none")
t = pids["tree"]
res([act(d) for d in life(t, 0)] == ["fork"] and not children(t),
    "subtree: nothing of the tree is reported but its first fork (%s)"
    % [act(d) for d in life(t, 0)])
count("tree", 6, 17, "subtree (tree-sh, 3 children, 2 grandchildren)")
g, k = group("sample", 80, w + "/bin/samp-true")
kept = {proc(d)["pid"] for d in execs if exe(d) == w + "/bin/samp-true"}
res(0 < k < 80 and all(any(proc(d)["pid"] == p and exe(d) == w + "/bin/samp-true" for d in exits)
    for p in kept), "sample: %d of 80 kept, each with its exec and its exit" % k)
count("sample", 80 - k - g, 2 * (80 - k - g), "sample")
def arrives(what, pred):
    e = [d for d in execs if pred(d)]
    pid = proc(e[0])["pid"] if e else -1
    res(len(e) == 1 and any(proc(d)["pid"] == pid and seq(d) > seq(e[0]) for d in exits),
        "never suppressed: %s, exec and exit" % what)
    return e
arrives("an executable in /tmp", lambda d: exe(d) == tmpd + "/ww-sleep")
arrives("an executable in /var/tmp", lambda d: exe(d) == vtmp)
arrives("an executable in /dev/shm", lambda d: exe(d) == shm)
arrives("a script in /tmp run by a matched interpreter",
        lambda d: exe(d) == w + "/bin/ns-sh" and has_arg(d, tmpd + "/s.sh"))
arrives("a memfd executable", lambda d: (exe(d) or "").startswith("/memfd:hidsfilter-" + m))
arrives("a deleted executable",
        lambda d: exe(d) == w + "/del-sleep" and d.get("hids", {}).get("exe_deleted") is True)
arrives("a setuid executable run by nobody", lambda d: exe(d) == w + "/bin/suid-sleep")
arrives("a setuid executable run by root", lambda d: exe(d) == w + "/bin/suid2-sleep")
arrives("an operator's never_suppress_exe glob", lambda d: exe(d) == w + "/bin/nsx-sleep")
arrives("GLIBC_TUNABLES in the environment", lambda d: exe(d) == w + "/bin/env-sleep")
arrives("LD_PRELOAD in the environment", lambda d: exe(d) == w + "/bin/env2-sleep")
u = [d for d in evs if act(d) == "uid_change" and has_arg(d, "hidsfilter-uid0-%s" % m)]
res([x["hids"]["uid"]["effective"] for x in u] == [0],
    "never suppressed: the uid change to 0 (and not the one before)")
upid = proc(u[0])["pid"] if u else -1
res(any(proc(d)["pid"] == upid and has_arg(d, "hidsfilter-uid0-%s" % m) for d in exits),
    "uid 0: the rest of the life is reported (exit)")
count("uid0", 1, 2, "uid0: the exec and the first uid change")
ptpid = pids["ptrace"]
res(any(act(d) == "ptrace" for d in life(ptpid, 0)),
    "never suppressed: ptrace of a suppressed process")
res(any(proc(d)["pid"] == ptpid and exe(d) == w + "/bin/pt-sleep" for d in exits),
    "ptrace: the rest of the life is reported (exit)")
count("ptrace", 1, 1, "ptrace: only the exec")
res(all(sup.get(r) is None for r in ("ww", "script", "memfd", "suid", "nsx", "env")),
    "rules whose matches are all never-suppressed report nothing suppressed")
stop = [d for d in evs if act(d) == "heartbeat" and d["hids"].get("reason") == "stop"]
res(stop and stop[-1]["hids"]["stats"]["events_suppressed"] == sum(v[1] for v in sup.values()),
    "events_suppressed in the stop heartbeat is the sum of the suppressed records")
PY
cat "$w/report"
pass=$((pass + $(grep -c '^ok' "$w/report")))
fail=$((fail + $(grep -c '^not ok' "$w/report")))
[ -s "$w/report" ] || bad "the report was written"
check "every line is valid against the schema, suppressed records included" \
    "$py" "$here/schema_check.py" --require-actions suppressed,exec,end,fork \
    "$here/../../proto/event.schema.json" "$w/out"
summary

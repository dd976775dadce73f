#!/bin/bash
# Proves, against the real kernel, that filter rules of every kind (exe,
# parent_exe, cmdline, user, container any and none, subtree, sample)
# suppress whole processes, that every never-suppress case still arrives
# under a rule that matches it, that the suppressed records count exactly
# what was spawned, and that SIGHUP refuses a bad rule and keeps the
# decisions of running processes. Needs root.
set -u
bin=${1:?usage: test_filter.sh AGENT_BINARY WORKDIR}
work=${2:?usage: test_filter.sh AGENT_BINARY WORKDIR}
py=/usr/bin/python3
# The binaries the rules match live outside world-writable directories,
# which are never suppressed.
mkdir -p "$work"
w=$(mktemp -d "$work/filter.XXXXXX")
tmpd=$(mktemp -d /tmp/hidsfilter.XXXXXX)
shm=/dev/shm/hidsfilter-$$ vtmp=/var/tmp/hidsfilter-$$
cgid=$(printf '%064x' $$)
cg=/sys/fs/cgroup/pids/libpod-$cgid
agent=
cleanup() {
	if [ -n "$agent" ] && kill -0 "$agent" 2>/dev/null; then
		kill -TERM "$agent"
		wait "$agent" 2>/dev/null
	fi
	rm -f "$shm" "$vtmp"
	[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $w $tmpd"; else rm -rf "$w" "$tmpd"; fi
}
trap cleanup EXIT
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"

mkdir "$w/bin"
chmod 755 "$w"	# nobody runs the setuid copy from here
for b in exe-true samp-true suid-true suid2-true nsx-true ctr-true; do cp /bin/true "$w/bin/$b"; done
for b in par-sh tree-sh ns-sh; do cp /bin/dash "$w/bin/$b"; done
cp /bin/sleep "$w/bin/pt-sleep"
cp /bin/sleep "$w/bin/exe-sleep"
cp /bin/true "$tmpd/ww-true"
cp /bin/true "$shm"
cp /bin/true "$vtmp"
chmod u+s "$w/bin/suid-true" "$w/bin/suid2-true"
printf '#!/bin/sh\nexit 0\n' >"$tmpd/s.sh"

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
cmdline = *hidsfilter-cmd-$$-*
[filter user]
user = nobody
cmdline = * hidsfilter-user-$$-*
[filter ctr]
container = any
exe = $w/bin/ctr-true
[filter host]
container = none
cmdline = * hidsfilter-host-$$-*
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
cmdline = *hidsfilter-memfd-$$*
[filter suid]
exe = $w/bin/suid-true, $w/bin/suid2-true
[filter nsx]
exe = $w/bin/nsx-true
[filter uid0]
cmdline = *hidsfilter-uid0-$$*
[filter ptrace]
exe = $w/bin/pt-sleep
EOF
}
write_conf
check "--check-config accepts the rules" "$bin" --check-config -c "$conf"

"$bin" --stdout -c "$conf" >"$w/out" 2>"$w/err" &
agent=$!
for _ in $(seq 100); do
	grep -q 'ready' "$w/err" && break
	sleep 0.1
done
if ! grep -q 'ready' "$w/err"; then
	bad "the agent starts"
	cat "$w/err"
	summary
	exit 1
fi
m=$$

# Rule kinds.
for i in $(seq 20); do "$w/bin/exe-true" "hidsfilter-exe-$m-$i"; done
"$w/bin/par-sh" -c 'i=0; while [ $i -lt 10 ]; do /bin/true hidsfilter-par; i=$((i+1)); done; exit 0'
for i in $(seq 10); do /bin/true "hidsfilter-cmd-$m-$i"; done
for i in $(seq 5); do
	setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true x "hidsfilter-user-$m-$i"
done
/bin/true x "hidsfilter-user-$m-root"
container_ok=false
if mkdir "$cg" 2>/dev/null; then
	container_ok=true
	for i in $(seq 5); do
		(echo "$BASHPID" >"$cg/cgroup.procs" && exec "$w/bin/ctr-true" "hidsfilter-ctr-$m-$i")
	done
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec /bin/true x "hidsfilter-host-$m-inctr")
fi
for i in $(seq 5); do /bin/true x "hidsfilter-host-$m-$i"; done
"$w/bin/tree-sh" -c '/bin/true hidsfilter-tree-a; /bin/true hidsfilter-tree-b;
    /bin/sh -c "/bin/true hidsfilter-tree-c; /bin/true hidsfilter-tree-d; exit 0"; exit 0'
for i in $(seq 80); do "$w/bin/samp-true" "hidsfilter-samp-$m-$i"; done

# Never-suppress cases, each under a rule that matches it.
"$tmpd/ww-true" "hidsfilter-ww-$m-tmp"
"$vtmp" "hidsfilter-ww-$m-vartmp"
"$shm" "hidsfilter-ww-$m-shm"
"$w/bin/ns-sh" "$tmpd/s.sh" "hidsfilter-script-$m"
$py -c 'import os, sys
fd = os.memfd_create("hidsfilter", 0)
os.write(fd, open("/usr/bin/true", "rb").read())
os.execv("/proc/self/fd/%d" % fd, ["true", sys.argv[1]])' "hidsfilter-memfd-$m-memfd"
cp /bin/true "$w/del-true"
$py -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.set_inheritable(fd, True)
os.unlink(sys.argv[1])
os.execv("/proc/self/fd/%d" % fd, ["true", sys.argv[2]])' "$w/del-true" "hidsfilter-memfd-$m-deleted"
setpriv --reuid=65534 --regid=65534 --clear-groups "$w/bin/suid-true" "hidsfilter-suid-$m-nobody"
"$w/bin/suid2-true" "hidsfilter-suid-$m-root"
"$w/bin/nsx-true" "hidsfilter-nsx-$m"
$py -c 'import os
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

# Reload: a bad rule is refused and the old rules stay.
"$w/bin/exe-sleep" 3 &
sleeper=$!
sleep 1.5
printf '[filter broken]\nexe = relative/path\n' >>"$conf"
kill -HUP "$agent"
for _ in $(seq 50); do grep -q 'reload refused' "$w/err" && break; sleep 0.1; done
check "reload: a bad rule is refused with file:line" \
    grep -q "$conf:[0-9]*: exe 'relative/path' must be an absolute path glob" "$w/err"
for i in 21 22 23; do "$w/bin/exe-true" "hidsfilter-exe-$m-$i"; done
# A good reload without the exe rule: new execs arrive, the running sleeper stays suppressed.
write_conf
sed -i '/^\[filter exe\]$/,+1d' "$conf"
kill -HUP "$agent"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$w/err" && break; sleep 0.1; done
check "reload: good rules are installed" grep -q 'configuration reloaded' "$w/err"
for i in 24 25; do "$w/bin/exe-true" "hidsfilter-exe-$m-$i"; done
wait "$sleeper"
sleep 1.5
kill -TERM "$agent"
wait "$agent"
check "the agent exits 0" test $? -eq 0
agent=

"$py" - "$w/out" "$m" "$w" "$tmpd" "$shm" "$vtmp" "$ptpid" "$container_ok" <<'PY' >"$w/report"
import json, sys
out, m, w, tmpd, shm, vtmp, ptpid, ctr = sys.argv[1:9]
ptpid = int(ptpid)
evs = [json.loads(l) for l in open(out)]
sup = {}
for d in evs:
    if d["event"]["action"] == "suppressed":
        f = d["hids"]["filter"]
        s = sup.setdefault(f["rule"], [0, 0, None])
        s[0] += f["processes"]
        s[1] += f["events"]
        s[2] = s[2] or f.get("example", {}).get("command_line")
def proc(d): return d.get("process", {})
def act(d): return d["event"]["action"]
def args(d): return proc(d).get("args", [])
def has_arg(d, a): return a in args(d)
def exe(d): return proc(d).get("executable")
def res(ok, what):
    print(("ok - " if ok else "not ok - ") + what)
def count(rule, procs, events, what):
    got = sup.get(rule, [0, 0])[:2]
    res(got == [procs, events], "%s: suppressed record counts %d processes, %d events (got %s)"
        % (what, procs, events, got))

execs = [d for d in evs if act(d) == "exec"]
exits = [d for d in evs if act(d) == "exit"]
forks = [d for d in evs if act(d) == "fork"]
# exe: 25 spawns, 2 of them after the rule was removed; the sleeper's exit after it too.
x = [d for d in execs + exits if exe(d) == w + "/bin/exe-true"]
res(len([d for d in x if act(d) == "exec"]) == 2 and
    all(has_arg(d, "hidsfilter-exe-%s-%d" % (m, i)) for d, i in zip(sorted(
        [d for d in x if act(d) == "exec"], key=lambda d: d["event"]["sequence"]), (24, 25))),
    "exe: no exec or exit of the suppressed program until the rule is removed")
res(not [d for d in execs + exits if exe(d) == w + "/bin/exe-sleep"],
    "whole life: a process suppressed before a reload stays suppressed to its exit")
count("exe", 24, 48, "exe (23 spawns and a sleeper, across a bad and a good reload)")
ex = sup.get("exe", [0, 0, ""])[2] or ""
res(ex.startswith(w + "/bin/exe-"),
    "exe: the suppressed record carries an example command line (%r)" % ex)
# parent: ten children of par-sh; their forks go out (par-sh is not filtered), then nothing.
par = [d for d in execs if exe(d) == w + "/bin/par-sh"]
res(len(par) == 1, "parent_exe: the parent itself is reported")
ppid = proc(par[0])["pid"] if par else -1
kids = [d for d in forks if proc(d).get("parent", {}).get("pid") == ppid]
res(len(kids) == 10, "parent_exe: the ten fork events are reported (%d)" % len(kids))
res(not [d for d in execs + exits if has_arg(d, "hidsfilter-par")],
    "parent_exe: no exec or exit of the children")
count("parent", 10, 20, "parent_exe")
res(not [d for d in execs + exits if any(a.startswith("hidsfilter-cmd-%s-" % m) for a in args(d))],
    "cmdline: no exec or exit")
count("cmdline", 10, 20, "cmdline")
res(not [d for d in execs if exe(d) == "/usr/bin/true" and any(
    a.startswith("hidsfilter-user-%s-" % m) and a[-1].isdigit() for a in args(d))],
    "user: the processes of nobody are suppressed")
res(len([d for d in execs if has_arg(d, "hidsfilter-user-%s-root" % m)]) == 1,
    "user: the same command as root is reported")
count("user", 5, 10, "user")
if ctr == "true":
    res(not [d for d in execs + exits if exe(d) == w + "/bin/ctr-true"],
        "container any: no exec or exit in the container")
    count("ctr", 5, 10, "container any")
    ic = [d for d in execs if has_arg(d, "hidsfilter-host-%s-inctr" % m)]
    res(len(ic) == 1 and ic[0].get("container", {}).get("id", "") == "%s" % ("%064x" % int(m)),
        "container none: a matching command in a container is reported")
else:
    print("ok - container rules # SKIP cannot create a cgroup")
res(not [d for d in execs if any(a.startswith("hidsfilter-host-%s-" % m) and a[-1].isdigit()
    for a in args(d))], "container none: host processes are suppressed")
count("host", 5, 10, "container none")
# The tree's first fork is the test shell's own and looks like it; nothing else shows.
tree = [d for d in evs if any(a.startswith("hidsfilter-tree-") for a in args(d))
        or exe(d) == w + "/bin/tree-sh"]
res(not tree, "subtree: nothing of the tree is reported (%s)" % [act(d) for d in tree])
count("tree", 6, 17, "subtree (tree-sh, 3 children, 2 grandchildren)")
se = {proc(d)["pid"] for d in execs if exe(d) == w + "/bin/samp-true"}
sx = {proc(d)["pid"] for d in exits if exe(d) == w + "/bin/samp-true"}
res(0 < len(se) < 80 and se == sx,
    "sample: %d of 80 kept, each with its exec and its exit" % len(se))
count("sample", 80 - len(se), 2 * (80 - len(se)), "sample")
for path, tag in ((tmpd + "/ww-true", "tmp"), (vtmp, "vartmp"), (shm, "shm")):
    e = [d for d in execs if has_arg(d, "hidsfilter-ww-%s-%s" % (m, tag))]
    pid = proc(e[0])["pid"] if e else -1
    res(len(e) == 1 and any(proc(d)["pid"] == pid for d in exits),
        "never suppressed: executable in %s, exec and exit" % path.rsplit("/", 1)[0])
res(len([d for d in execs if has_arg(d, "hidsfilter-script-%s" % m)]) == 1,
    "never suppressed: a script in /tmp run by a matched interpreter")
mf = [d for d in execs if has_arg(d, "hidsfilter-memfd-%s-memfd" % m)]
res(len(mf) == 1 and (exe(mf[0]) or "").startswith("/memfd:"),
    "never suppressed: a memfd executable (%s)" % (exe(mf[0]) if mf else None))
dl = [d for d in execs if has_arg(d, "hidsfilter-memfd-%s-deleted" % m)]
res(len(dl) == 1 and dl[0].get("hids", {}).get("exe_deleted") is True,
    "never suppressed: a deleted executable")
count("memfd", 2, 2, "memfd and deleted: only the python execs before them")
for tag, prog in (("nobody", "suid-true"), ("root", "suid2-true")):
    res(len([d for d in execs if has_arg(d, "hidsfilter-suid-%s-%s" % (m, tag))
             and exe(d) == w + "/bin/" + prog]) == 1,
        "never suppressed: a setuid executable run by %s" % tag)
res(len([d for d in execs if has_arg(d, "hidsfilter-nsx-%s" % m)]) == 1,
    "never suppressed: an operator's never_suppress_exe glob")
u = [d for d in evs if act(d) == "uid" and proc(d).get("executable") == "/usr/bin/python3.11"
     and has_arg(d, "hidsfilter-uid0-%s" % m)]
res([x["hids"]["uid"]["effective"] for x in u] == [0],
    "never suppressed: the uid change to 0 (and not the one before)")
upid = proc(u[0])["pid"] if u else -1
res(any(proc(d)["pid"] == upid and has_arg(d, "hidsfilter-uid0-%s" % m) for d in exits),
    "uid 0: the rest of the life is reported (exit)")
count("uid0", 1, 2, "uid0: the exec and the first uid change")
pt = [d for d in evs if act(d) == "ptrace" and proc(d).get("pid") == ptpid]
res(len(pt) >= 1, "never suppressed: ptrace of a suppressed process")
res(any(proc(d)["pid"] == ptpid and exe(d) == w + "/bin/pt-sleep" for d in exits),
    "ptrace: the rest of the life is reported (exit)")
count("ptrace", 1, 1, "ptrace: only the exec")
res(sup.get("ww") is None and sup.get("script") is None and sup.get("suid") is None
    and sup.get("nsx") is None, "never-suppressed rules report nothing suppressed")
stop = [d for d in evs if act(d) == "heartbeat" and d["hids"].get("reason") == "stop"]
res(stop and stop[-1]["hids"]["stats"]["events_suppressed"] == sum(v[1] for v in sup.values()),
    "events_suppressed in the stop heartbeat is the sum of the suppressed records")
PY
cat "$w/report"
check "every line is valid against the schema, suppressed records included" \
    "$py" "$here/schema_check.py" --require-actions suppressed,exec,exit,fork \
    "$here/../../proto/event.schema.json" "$w/out"
pass=$((pass + $(grep -c '^ok' "$w/report")))
fail=$((fail + $(grep -c '^not ok' "$w/report")))
[ -s "$w/report" ] || bad "the report was written"
summary

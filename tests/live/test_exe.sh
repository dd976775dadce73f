#!/bin/bash
# Proves what the agent says at exec about a program's environment and its
# executable: the configured environment variables set by a child appear in
# process.env_vars (hostile bytes escaped, other variables never), an empty
# list reads none; a setuid-root copy of a program run by an unprivileged
# user shows hids.exe.setuid and gives a uid_change event with the right
# ids; a file capability is named; a binary deleted and replaced while it
# runs and a memfd exec (fexecve) carry the sha256 of the bytes that ran; a
# second exec of a binary is served by the hash cache; and every line
# validates against the JSON Schema. Needs root and the real kernel connector.
set -u
usage="usage: test_exe.sh AGENT_BINARY SCHEMA SCHEMA_CHECK SETUID_PROBE"
bin=${1:?$usage}
schema=${2:?$usage}
schema_check=${3:?$usage}
probe=${4:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"
. "$here/../lib/live.sh"
agent_tmp_init

# find_exec OUT MARKER: prints the first exec event of /bin/sh whose argv holds MARKER.
find_exec() {
	python3 "$here/exe_find.py" "$1" "$2"
}

# --- env_vars with the default list, and a hostile value ---
agent_start env "$(printf '[agent]\nheartbeat_interval = 0\n')" || { summary; exit 1; }
mark="hidsenv-$$"
env -i PATH=/usr/bin:/bin LD_PRELOAD=$'/tmp/\xff\x1b[2J.so' GLIBC_TUNABLES=glibc.malloc.check=3 \
    SECRET_TOKEN=hunter2 SUDO_USER=alice /bin/sh -c 'sleep 0.2' "$mark" 2>/dev/null
sleep 0.5
agent_stop "env_vars"
find_exec "$tmp/env.out" "$mark" >"$tmp/env.json"
check "env_vars: the exec of the child is reported" test -s "$tmp/env.json"
python3 "$here/exe_env_check.py" "$tmp/env.json" >"$tmp/env.report"
check "env_vars: LD_PRELOAD is there, its invalid byte escaped as \\xff" grep -qx preload "$tmp/env.report"
check "env_vars: GLIBC_TUNABLES is there" grep -qx tunables "$tmp/env.report"
check "env_vars: SUDO_USER is there" grep -qx sudo "$tmp/env.report"
check "env_vars: variables not listed (SECRET_TOKEN, PATH) are not" grep -qx no-secret "$tmp/env.report"
check "env_vars: hids.escaped names process.env_vars" grep -qx escaped "$tmp/env.report"
check "env_vars: every line validates against the schema" \
    python3 "$schema_check" "$schema" "$tmp/env.out"

# --- an empty list: no env_vars at all ---
agent_start noenv "$(printf '[agent]\nheartbeat_interval = 0\n[process]\nenv_vars =\n')" || { summary; exit 1; }
mark="hidsnoenv-$$"
env LD_PRELOAD= SUDO_USER=alice /bin/sh -c 'sleep 0.2' "$mark"
sleep 0.5
agent_stop "env_vars empty"
find_exec "$tmp/noenv.out" "$mark" >"$tmp/noenv.json"
check "env_vars empty: the exec of the child is reported" test -s "$tmp/noenv.json"
check "env_vars empty: no line carries process.env_vars" bash -c "! grep -q '\"env_vars\"' '$tmp/noenv.out'"

# --- the executable: setuid, file capabilities, deleted, memfd, cache ---
user=hidsexe-test
live_add_user "$user" || { summary; exit 1; }
trap 'live_del_user "$user"; agent_cleanup' EXIT
mkdir -p "$tmp/bin"
chmod 755 "$tmp" "$tmp/bin"
cp "$probe" "$tmp/bin/probe"
chown root:root "$tmp/bin/probe"
chmod 4755 "$tmp/bin/probe"
# A binary no cache has seen: sleep with bytes of its own appended (ELF ignores them).
cp /bin/sleep "$tmp/bin/victim"
head -c 64 /dev/urandom >>"$tmp/bin/victim"
victim_sha=$(sha256sum "$tmp/bin/victim" | cut -d' ' -f1)
cp /bin/true "$tmp/memfd.bin"
head -c 64 /dev/urandom >>"$tmp/memfd.bin"
memfd_sha=$(sha256sum "$tmp/memfd.bin" | cut -d' ' -f1)
cp /bin/sleep "$tmp/bin/twice"
head -c 64 /dev/urandom >>"$tmp/bin/twice"
twice_sha=$(sha256sum "$tmp/bin/twice" | cut -d' ' -f1)
capped=false
if command -v setcap >/dev/null && cp /bin/sleep "$tmp/bin/capped" &&
    setcap cap_net_raw,cap_net_bind_service+ep "$tmp/bin/capped" 2>/dev/null; then
	capped=true
fi

agent_start exe "$(printf '[agent]\nheartbeat_interval = 0\n')" || { summary; exit 1; }
mark="hidsexe-$$"
setpriv --reuid="$live_uid" --regid="$live_gid" --clear-groups "$tmp/bin/probe" "$mark-setuid"
probe_rc=$?
(exec -a "$mark-victim" "$tmp/bin/victim" 0.4) &
vp=$!
sleep 0.1
# Replace what ran: the path now names other bytes, the old inode is unlinked.
rm -f "$tmp/bin/victim"
cp /bin/true "$tmp/bin/victim"
wait $vp
python3 "$here/memfd_exec.py" "$tmp/memfd.bin" "$mark-memfd"
(exec -a "$mark-twice1" "$tmp/bin/twice" 0.05)
(exec -a "$mark-twice2" "$tmp/bin/twice" 0.05)
if $capped; then (exec -a "$mark-capped" "$tmp/bin/capped" 0.05); fi
sleep 0.5
agent_stop "exe"
check "setuid: the probe ran and its setuid(0) worked" test "$probe_rc" -eq 0
python3 "$here/exe_check.py" "$tmp/exe.out" "$mark" "$live_uid" "$victim_sha" "$memfd_sha" "$twice_sha" >"$tmp/exe.report"
check "setuid: the exec of the setuid copy says hids.exe.setuid, mode 4755, owner 0" \
    grep -qx "setuid-flag True" "$tmp/exe.report"
check "setuid: its exec has effective uid 0 and the user's real uid" \
    grep -qx "setuid-ids True" "$tmp/exe.report"
check "setuid: setuid(0) gives a uid_change event with real and effective uid 0" \
    grep -qx "uid-change True" "$tmp/exe.report"
check "deleted: a binary replaced while it ran carries the sha256 of what ran" \
    grep -qx "victim True" "$tmp/exe.report"
check "memfd: an fexecve of a memfd carries the sha256 of its bytes and hids.exe.memfd" \
    grep -qx "memfd True" "$tmp/exe.report"
check "cache: a second exec of the same binary has its hash at once" \
    grep -qx "twice True" "$tmp/exe.report"
check "cache: hids.stats.hash_cache_hits counts cache hits" grep -qx "hits True" "$tmp/exe.report"
if $capped; then
	check "capabilities: a file capability is named in hids.exe.capabilities" \
	    grep -qx "capped True" "$tmp/exe.report"
else
	skipped "capabilities: a file capability is named" "setcap is missing"
fi
check "exe: every line validates against the schema" python3 "$schema_check" "$schema" "$tmp/exe.out"
cat "$tmp/exe.report" | sed 's/^/# /'

summary

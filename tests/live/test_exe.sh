#!/bin/bash
# Proves what the agent says at exec about a program's environment and its
# executable: the configured environment variables set by a child appear in
# process.env_vars (hostile bytes escaped, other variables never), an empty
# list reads none, and every line validates against the JSON Schema. Needs
# root and the real kernel connector.
set -u
bin=${1:?usage: test_exe.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema=${2:?usage: test_exe.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema_check=${3:?usage: test_exe.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
. "$here/lib.sh"
agent_tmp_init

# find_exec OUT MARKER: prints the first exec event of /bin/sh whose argv holds MARKER.
find_exec() {
	python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    args = d.get("process", {}).get("args") or []
    if d["event"]["action"] == "exec" and args[:1] == ["/bin/sh"] and sys.argv[2] in args:
        print(json.dumps(d))
        break
PY
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
python3 - "$tmp/env.json" >"$tmp/env.report" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
env = d["process"].get("env_vars", [])
esc = d.get("hids", {}).get("escaped", [])
print("preload" if "LD_PRELOAD=/tmp/\\xff\x1b[2J.so" in env else "no-preload")
print("tunables" if "GLIBC_TUNABLES=glibc.malloc.check=3" in env else "no-tunables")
print("sudo" if "SUDO_USER=alice" in env else "no-sudo")
print("secret" if any(e.startswith("SECRET_TOKEN") or e.startswith("PATH=") for e in env) else "no-secret")
print("escaped" if "process.env_vars" in esc else "not-escaped")
PY
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

summary

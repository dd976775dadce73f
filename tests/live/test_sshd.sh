#!/bin/bash
# Proves what the agent says about an ssh login, with a real sshd of the test's own on 127.0.0.1 (own config, host key and port, key login for a throwaway user): a command run over ssh has entry_meta.type sshd with source.ip 127.0.0.1, the whole entry leader, user.audit.id of that user and the parent's command line; with ssh -tt it is interactive on a pts; every line validates against the JSON Schema. Needs root, openssh-server and openssh-client.
set -u
bin=${1:?usage: test_sshd.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema=${2:?usage: test_sshd.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema_check=${3:?usage: test_sshd.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"
agent_tmp_init

user=hidssh$$
sshd_pid=
created=false
cleanup() {
	if [ -n "$sshd_pid" ] && kill -0 "$sshd_pid" 2>/dev/null; then
		kill -TERM "$sshd_pid"
		wait "$sshd_pid" 2>/dev/null
	fi
	if "$created"; then
		userdel "$user" 2>/dev/null
	fi
	agent_cleanup
}
trap cleanup EXIT

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
	bad "openssh-server and openssh-client are installed (deploy/install-deps.sh --test)"
	summary
	exit 1
fi
if ! useradd --system --user-group --no-create-home --home-dir / --shell /bin/sh "$user"; then
	bad "useradd creates the test user $user"
	summary
	exit 1
fi
created=true
usermod -p '*' "$user"	# no password, but not locked: key login only
uid=$(id -u "$user")

# The sshd reads the user's keys as the user: the directory must be open to it.
chmod 755 "$tmp"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/host_key" || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$tmp/client_key" || exit 1
cp "$tmp/client_key.pub" "$tmp/authorized_keys"
chmod 644 "$tmp/authorized_keys"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/host_key
PidFile $tmp/sshd.pid
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $user
CONF
mkdir -p /run/sshd

agent_start sshd "$(printf '[agent]\nheartbeat_interval = 0\ncanary_interval = 0\n')" ||
    { summary; exit 1; }
/usr/sbin/sshd -D -e -f "$tmp/sshd_config" 2>"$tmp/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' \
	    "$port" 2>/dev/null && break
	sleep 0.1
done

# ssh_run [OPTS...] CMD: runs CMD over ssh as the throwaway user.
ssh_run() {
	timeout 30 ssh -i "$tmp/client_key" -p "$port" -o BatchMode=yes \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    "$@"
}
m1=hidsssh-plain-$$ m2=hidsssh-tty-$$
check "a command runs over ssh" ssh_run "$user@127.0.0.1" "sleep 0.2; /bin/echo $m1; exit 0" \
    </dev/null >"$tmp/ssh1.out" 2>&1 || cat "$tmp/ssh1.out" "$tmp/sshd.log"
check "a command runs over ssh -tt" ssh_run -tt "$user@127.0.0.1" "sleep 0.2; /bin/echo $m2; exit 0" \
    </dev/null >"$tmp/ssh2.out" 2>&1 || cat "$tmp/ssh2.out"
sleep 0.5
agent_stop "sshd"

while read -r line; do
	case $line in ok\ *) ok "${line#ok }" ;; *) bad "${line#bad }" ;; esac
done < <(python3 - "$tmp/sshd.out" "$m1" "$m2" "$uid" <<'PY'
import json, sys
path, m1, m2, uid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d

def report(cond, what):
    print("ok" if cond else "bad", what)

execs = {}
for line in open(path):
    d = json.loads(line)
    args = get(d, "process.args") or []
    if d["event"]["action"] == "exec" and args[:1] == ["/bin/echo"]:
        for m in (m1, m2):
            if m in args:
                execs[m] = d
for m, tty in ((m1, False), (m2, True)):
    d = execs.get(m)
    name = "ssh -tt" if tty else "ssh"
    report(d is not None, f"{name}: the exec of the command is reported")
    if d is None:
        continue
    el = get(d, "process.entry_leader") or {}
    report(get(el, "entry_meta.type") == "sshd",
           f"{name}: entry_meta.type is sshd: {get(el, 'entry_meta')}")
    report(get(el, "entry_meta.source.ip") == "127.0.0.1", f"{name}: source.ip is 127.0.0.1")
    report(el.get("pid") == get(d, "process.parent.pid") and el.get("executable") == "/usr/bin/dash",
           f"{name}: the entry leader is the user's shell, whole: {el.get('pid')} {el.get('executable')}")
    report(get(el, "user.id") == uid, f"{name}: the entry leader runs as the user")
    report(get(d, "user.audit.id") == uid, f"{name}: user.audit.id is the user's uid: {get(d, 'user.audit')}")
    report(get(d, "user.id") == uid, f"{name}: user.id is the user's uid")
    report(m in (get(d, "process.parent.command_line") or ""),
           f"{name}: parent.command_line is the shell's: {get(d, 'process.parent.command_line')}")
    report(get(d, "process.parent.user.id") == uid, f"{name}: parent.user.id")
    report(get(d, "auditd.session") is not None, f"{name}: auditd.session is set")
    report(get(d, "process.interactive") is tty, f"{name}: process.interactive is {tty}")
    report(get(d, "process.parent.interactive") is tty, f"{name}: parent.interactive is {tty}")
    report(get(el, "interactive") is tty, f"{name}: entry_leader.interactive is {tty}")
    if tty:
        report(136 <= (get(d, "process.tty.char_device.major") or 0) <= 143,
               f"{name}: the tty is a pts: {get(d, 'process.tty')}")
    sl = get(d, "process.session_leader") or {}
    report(sl.get("pid") == el.get("pid") and sl.get("name") is not None,
           f"{name}: the session leader is the shell, whole")
PY
)
check "every line matches the schema" python3 "$schema_check" "$schema" "$tmp/sshd.out"
summary

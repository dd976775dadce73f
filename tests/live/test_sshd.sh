#!/bin/bash
# Proves what the agent says about an ssh login, with a real sshd of the test's own on 127.0.0.1 (own config, host key and port, key login for a throwaway user): a command run over ssh has entry_meta.type sshd with source.ip 127.0.0.1, the whole entry leader, user.audit.id of that user and the parent's command line; with ssh -tt it is interactive on a pts; every line validates against the JSON Schema. Needs root, openssh-server and openssh-client.
set -u
bin=${1:?usage: test_sshd.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema=${2:?usage: test_sshd.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema_check=${3:?usage: test_sshd.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"
. "$here/../lib/net.sh"
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
port=$(free_port)
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
done < <(python3 "$here/sshd_check.py" "$tmp/sshd.out" "$m1" "$m2" "$uid")
check "every line matches the schema" python3 "$schema_check" "$schema" "$tmp/sshd.out"
summary

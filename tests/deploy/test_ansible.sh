#!/bin/bash
# Proves the Ansible role installs the .deb, writes certificates and a checked config from variables, refuses a bad config, and changes nothing on a second run.
set -u
top=${1:?usage: test_ansible.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: test_ansible.sh SOURCE_DIR BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/deploy.sh"
export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d)
installed_by_us=false
conf=/etc/hids-agent/hids-agent.conf
user_before=false
getent passwd hids-agent >/dev/null && user_before=true
cleanup() {
	if "$installed_by_us"; then
		purge_all
		rm -f /etc/hids-agent/test-ca.pem /etc/hids-agent/test-client.pem \
		    /etc/hids-agent/test-client.key
		rmdir /etc/hids-agent 2>/dev/null
	fi
	# The package keeps its user on purge; the test does not, unless it was there before.
	if ! "$user_before" && getent passwd hids-agent >/dev/null; then
		userdel hids-agent 2>/dev/null
		getent group hids-agent >/dev/null && groupdel hids-agent 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v ansible-playbook >/dev/null; then
	skipped "ansible role" "ansible-playbook is not installed"
	summary
	exit
fi
if deb_installed; then
	skipped "ansible role" "a hids-agent package is already on this machine; not touching it"
	summary
	exit
fi
if ! build_deb "$top" "$build/deploy-pkg"; then
	bad "cpack builds the .deb"
	summary
	exit 1
fi

# A throwaway CA and client certificate, handed to the role as PEM text.
if ! "$top/deploy/make-certs.sh" "$tmp" >/dev/null 2>&1; then
	bad "deploy/make-certs.sh makes the test certificates"
	summary
	exit 1
fi
python3 "$here/ansible_vars.py" "$tmp" "$deb" >"$tmp/vars.json"

export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 \
    ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
    ANSIBLE_LOCAL_TEMP="$tmp/ansible-local" ANSIBLE_REMOTE_TEMP="$tmp/ansible-remote" \
    ANSIBLE_HOME="$tmp/ansible-home"
# As root already, and sudo may be absent: no become.
play() {
	ansible-playbook --connection=local -i localhost, -e ansible_become=false \
	    "$top/deploy/ansible/site.yml" "$@"
}
recap() { sed -n 's/^localhost *: //p' "$1"; }

installed_by_us=true
play -e "@$tmp/vars.json" >"$tmp/run1" 2>&1
rc=$?
check "first run succeeds" test $rc -eq 0 || tail -n 40 "$tmp/run1"
echo "# first run: $(recap "$tmp/run1")"
check "first run changed something" grep -Eq 'changed=[1-9]' <(recap "$tmp/run1")
check "the package is installed" test "$(dpkg-query -W -f='${Status}' hids-agent 2>/dev/null)" = "install ok installed"
check "the config names both collectors" \
    grep -qx 'address = collector1.invalid:6514, \[::1\]:6514' "$conf"
check "the config names the client key" grep -qx 'key_file = /etc/hids-agent/test-client.key' "$conf"
check "the config has exit = nonzero" grep -qx 'exit = nonzero' "$conf"
check "the config has protocol = relp" grep -qx 'protocol = relp' "$conf"
check "the config has the spool" grep -qx 'dir = /var/lib/hids-agent' "$conf"
check "only the spool keys that were set are written" \
    bash -c "grep -qx 'max_bytes = 64M' '$conf' && ! grep -q '^fsync' '$conf'"
perms() { stat -c %a:%U:%G "$1" 2>/dev/null; }
check "the key is written 640 root:hids-agent" test "$(perms /etc/hids-agent/test-client.key)" = 640:root:hids-agent
check "the certificates are written 644 root:hids-agent" \
    test "$(perms /etc/hids-agent/test-ca.pem) $(perms /etc/hids-agent/test-client.pem)" = "644:root:hids-agent 644:root:hids-agent"
check "the config is written 640 root:hids-agent" test "$(perms "$conf")" = 640:root:hids-agent
check "/etc/hids-agent is 750 root:hids-agent" test "$(perms /etc/hids-agent)" = 750:root:hids-agent
check "the hids-agent user can check the config, key included (ExecReload)" \
    setpriv --reuid=hids-agent --regid=hids-agent --init-groups --inh-caps=-all \
    /usr/sbin/hids-agent --check-config -c "$conf"
check "the CA bundle is written as given" cmp -s "$tmp/ca.pem" /etc/hids-agent/test-ca.pem
check "the written config passes --check-config" /usr/sbin/hids-agent --check-config -c "$conf"
check "the IP allow list drop-in is written" \
    grep -qx 'IPAddressAllow=192.0.2.0/24' /etc/systemd/system/hids-agent.service.d/ipaddress.conf
check "the config has the metrics listen" \
    bash -c "grep -A1 -x '\\[metrics\\]' '$conf' | grep -qx 'listen = 127.0.0.1:9464'"
check "the metrics drop-in allows binding the port" \
    grep -qx 'SocketBindAllow=tcp:9464' /etc/systemd/system/hids-agent.service.d/metrics.conf
check "the key's PEM text is not in the output" bash -c "! grep -q 'PRIVATE KEY' '$tmp/run1'"
if [ "$(ansible localhost -c local -i localhost, -m setup -a filter=ansible_service_mgr 2>/dev/null |
    sed -n 's/.*"ansible_service_mgr": "\(.*\)".*/\1/p')" = systemd ]; then
	check "the service is running" test "$(systemctl is-active hids-agent.service)" = active
else
	skipped "the service is running" "systemd is not the service manager here"
fi

play -e "@$tmp/vars.json" >"$tmp/run2" 2>&1
rc=$?
check "second run succeeds" test $rc -eq 0 || tail -n 40 "$tmp/run2"
echo "# second run: $(recap "$tmp/run2")"
check "second run reports changed=0" grep -q 'changed=0 ' <(recap "$tmp/run2") || grep -E '^changed:' "$tmp/run2"

# A bad value is caught by --check-config and the old config stays.
before=$(sha256sum "$conf")
play -e "@$tmp/vars.json" -e hids_agent_priority=fifo:200 >"$tmp/run3" 2>&1
check "a bad config fails the run" test $? -ne 0
check "the failure is --check-config's message" grep -q "bad priority" "$tmp/run3"
check "the old config is kept" test "$(sha256sum "$conf")" = "$before"

# Back to no drop-in: the role removes it.
play -e "@$tmp/vars.json" -e '{"hids_agent_ip_allow": []}' >"$tmp/run4" 2>&1
check "a run without an IP allow list succeeds" test $? -eq 0 || tail -n 40 "$tmp/run4"
check "it removes the drop-in" test ! -e /etc/systemd/system/hids-agent.service.d/ipaddress.conf

summary

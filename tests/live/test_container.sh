#!/bin/bash
# Proves what the agent says about a process in a real container: podman runs an image built here FROM scratch out of busybox-static (no registry, --runtime runc, no network), and a command run in it has container.id (the one podman gave it), container.runtime podman, entry_meta.type container with the container's first process as its whole entry leader, and hids.ns_pid; every line validates against the JSON Schema. Removes its image and container. Needs root, podman, runc and busybox-static.
set -u
bin=${1:?usage: test_container.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema=${2:?usage: test_container.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
schema_check=${3:?usage: test_container.sh AGENT_BINARY SCHEMA SCHEMA_CHECK}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"
agent_tmp_init

image=localhost/hids-test-$$:1
name=hids-test-$$
built=false
cleanup() {
	podman rm -f "$name" >/dev/null 2>&1
	"$built" && podman rmi -f "$image" >/dev/null 2>&1
	agent_cleanup
}
trap cleanup EXIT

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	bad "podman, runc and busybox-static are installed (deploy/install-deps.sh --test)"
	summary
	exit 1
fi
mkdir "$tmp/ctx"
cp /bin/busybox "$tmp/ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\n' >"$tmp/ctx/Containerfile"
if ! podman build -q -t "$image" "$tmp/ctx" >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	bad "podman builds the image FROM scratch"
	summary
	exit 1
fi
built=true

agent_start ctr "$(printf '[agent]\nheartbeat_interval = 0\ncanary_interval = 0\n')" ||
    { summary; exit 1; }
mark=hidsctr-$$
# crun refuses this host's cgroup v1/v2 hybrid, and podman's default rlimits are refused.
check "a command runs in the container" podman --runtime runc run --rm --name "$name" \
    --cidfile "$tmp/cid" --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    "$image" /bin/busybox sh -c "/bin/busybox sleep 0.3; /bin/busybox echo $mark; exit 0" \
    >"$tmp/run.log" 2>&1 || cat "$tmp/run.log"
sleep 0.5
agent_stop "container"
cid=$(cat "$tmp/cid" 2>/dev/null)

while read -r line; do
	case $line in ok\ *) ok "${line#ok }" ;; *) bad "${line#bad }" ;; esac
done < <(python3 "$here/container_check.py" "$tmp/ctr.out" "$mark" "$cid")
check "every line matches the schema" python3 "$schema_check" "$schema" "$tmp/ctr.out"
summary

#!/bin/bash
# Proves that real events of every process action carry the fields tests/fields.txt promises for that action (the fields Elastic's prebuilt rules and Sigma's match on), and that every line, heartbeats included, carries the "any" fields.
# Needs root and the real kernel connector.
set -u
# The runs' process group and session leader must outlive them. A test
# started inside a group whose leader has exited (a background job of a
# shell that is gone) would see the agent rightly leave that leader out,
# and the group_leader fields promised for every process would be missing:
# so the test runs in a session and process group of its own, led by this
# script (setsid forks when the script already leads its group).
if [ -z "${HIDS_FIELDS_OWN_SESSION:-}" ]; then
	HIDS_FIELDS_OWN_SESSION=1 exec setsid -w "$0" "$@"
fi
bin=${1:?usage: test_fields.sh AGENT_BINARY [FIELDS]}
here=$(cd "$(dirname "$0")" && pwd)
fields=${2:-$here/../fields.txt}
. "$here/../lib/tap.sh"
. "$here/../lib/agent.sh"
agent_tmp_init
py=/usr/bin/python3	# Debian's, whatever PATH says

m="hidsfields-$$"
agent_start fields "$(printf '[agent]\nheartbeat_interval = 1\n')" || { summary; exit 1; }

# One labelled run per action; the label (argv) tells the checker which
# events are ours and which condition of fields.txt a run meets.
sh -c 'sleep 0.1; exit 3' "$m-code"					# fork, exec, end
sh -c 'ulimit -c 0; sleep 0.1; kill -SEGV $$' "$m-signal"		# coredump, end by signal
$py -c 'import os, time; os.seteuid(65534); time.sleep(0.1)' "$m-uid"
$py -c 'import os, time; os.setgid(65534); time.sleep(0.1)' "$m-gid"
$py -c 'import os, time; os.setsid(); time.sleep(0.1)' "$m-sid"
$py -c 'import ctypes, time; ctypes.CDLL(None).prctl(15, b"renamed", 0, 0, 0); time.sleep(0.1)' "$m-comm"
$py "$here/ptrace_attach.py" "$m-ptrace"
# A controlling terminal: pty.spawn makes the child a session leader on a new pty.
$py -c 'import pty, sys; pty.spawn(["/bin/sh", "-c", "sleep 0.2", sys.argv[1][:-3] + "tty"])' \
    "$m-pty" </dev/null >/dev/null
sleep 1.5
agent_stop fields

$py "$here/fields_check.py" "$fields" "$tmp/fields.out" "$m" >"$tmp/report" 2>&1
rc=$?
cat "$tmp/report"
check "every promised field is filled for real events of each action" test "$rc" -eq 0
summary

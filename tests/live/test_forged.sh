#!/bin/bash
# Proves that connector messages another process multicasts (a forged exec
# and exit, and one message per CPU with a sequence number far ahead of the
# kernel's) are dropped, counted and reported as lost records with reason
# forged, and that a real kernel overrun afterwards is still counted, with
# its exact count; with one socket and with exec events on their own
# (Linux 6.6+: the gaps are counted across both sockets). Needs root
# (the forger needs CAP_NET_ADMIN) and the real kernel connector.
set -u
bin=${1:?usage: test_forged.sh AGENT_BINARY FORGE_CN}
forge=${2:?usage: test_forged.sh AGENT_BINARY FORGE_CN}
. "$(cd "$(dirname "$0")" && pwd)/../lib/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/../lib/agent.sh"
agent_tmp_init

# A pid above pid_max, which no process can have: the forged events are about it.
fake=$(($(cat /proc/sys/kernel/pid_max) + 12345))

for mode in no yes; do
	agent_start "$mode" "$(printf '[capture]\nexec_socket = %s\nrcvbuf = 64K\n[agent]\nheartbeat_interval = 0\n' "$mode")" ||
	    continue
	run=$$-$mode
	sent=$("$forge" "$fake")
	check "exec_socket=$mode: the kernel let the forger (CAP_NET_ADMIN) multicast $sent messages" \
	    test $? -eq 0
	# The markers live a while: what they prove is the agent's state after
	# the forgery, not how fast it reads a process that exits at once.
	sh -c 'sleep 0.3' "hidsforge-$run-after"
	sleep 0.5
	# A real overrun: the agent cannot read while stopped; the tiny buffer fills.
	kill -STOP "$agent"
	for ((i = 0; i < 1500; i++)); do /bin/true; done
	kill -CONT "$agent"
	sleep 1
	sh -c 'sleep 0.3' "hidsforge-$run-end"
	sleep 1
	agent_stop "exec_socket=$mode"
	python3 "$(dirname "$0")/forged_check.py" "$tmp/$mode.out" "$fake" "hidsforge-$run-" >"$tmp/$mode.report"
	read -r about_fake forged stats_forged overrun biggest markers <"$tmp/$mode.report"
	echo "# exec_socket=$mode: $sent forged sent; $about_fake events about pid $fake; forged reported $forged (stats $stats_forged); overrun lost $overrun; largest lost record $biggest; markers $markers"
	check "exec_socket=$mode: no event about the forged pid comes out" test "$about_fake" -eq 0
	check "exec_socket=$mode: every forged message is reported (lost records, reason forged)" \
	    test "$forged" -ge "$sent"
	check "exec_socket=$mode: the lost records add up to the forged counter" \
	    test "$forged" -eq "$stats_forged"
	check "exec_socket=$mode: no lost record counts the forged sequence jump" \
	    test "$biggest" -lt 1000000
	check "exec_socket=$mode: events after the forgery come out with their args" \
	    test "$markers" = "after,end"
	check "exec_socket=$mode: the real overrun afterwards is counted" \
	    test "$overrun" -gt 0 -a "$overrun" -lt 1000000
done

summary

#!/bin/bash
# Proves that every short-lived process's fork, exec and exit come out
# complete and in that order, with exact args, both with exec events on a
# socket of their own (Linux 6.6+, exec_socket = yes, merged by kernel
# timestamp) and with one socket for everything (exec_socket = no).
# Needs root and the real kernel connector.
set -u
bin=${1:?usage: test_order.sh AGENT_BINARY}
. "$(cd "$(dirname "$0")" && pwd)/../lib/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/../lib/agent.sh"
agent_tmp_init

per=${ORDER_SPAWNS:-300}	# processes per spawner; two spawners run at once
kmaj=$(uname -r | cut -d. -f1) kmin=$(uname -r | cut -d. -f2)
split_kernel=false
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 6 ]; }; then
	split_kernel=true
fi

for mode in yes no; do
	agent_start "$mode" "$(printf '[capture]\nexec_socket = %s\n[agent]\nheartbeat_interval = 0\n' "$mode")" ||
	    continue
	if [ "$mode" = yes ] && $split_kernel; then
		check "exec_socket=yes on $(uname -r): exec events have their own socket" \
		    grep -q 'exec events on their own socket' "$tmp/$mode.err"
	else
		check "exec_socket=$mode on $(uname -r): one socket" \
		    grep -q 'capture thread running at .*, one socket' "$tmp/$mode.err"
	fi
	run=$$-$mode
	spawners=()
	for s in a b; do
		( for ((i = 1; i <= per; i++)); do /bin/true "hidsorder-$run-$s-$i" "x y"; done ) &
		spawners+=($!)
	done
	wait "${spawners[@]}"
	sleep 0.5
	agent_stop "exec_socket=$mode"
	python3 "$(dirname "$0")/order_check.py" "$tmp/$mode.out" "hidsorder-$run-" "${spawners[*]}" >"$tmp/$mode.report"
	read -r found ordered exact gone lost reused <"$tmp/$mode.report"
	want=$((2 * per))
	echo "# exec_socket=$mode: $found of $want processes forked, $ordered with fork-exec-exit in order, $exact exact args, $gone gone before /proc was read, $lost lost records, $reused pids reused by our own processes"
	check "exec_socket=$mode: every process's fork is reported" test "$found" -eq "$want"
	check "exec_socket=$mode: every process has fork, exec, exit in that order" test "$ordered" -eq "$want"
	check "exec_socket=$mode: every exec has its exact args or says proc_gone" test $((exact + gone)) -eq "$want"
	# The benchmark measures capture properly; here a floor that any
	# regression in the hot path would break.
	check "exec_socket=$mode: at least 99% of execs have their args" test $((exact * 100)) -ge $((want * 99))
	check "exec_socket=$mode: no lost record" test "$lost" -eq 0
done

summary

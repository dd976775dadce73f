#!/bin/bash
# Proves that a loop of execs with several MB of argv costs the capture
# thread a bounded read each ([capture] cmdline_max_bytes): its CPU time
# per exec is a fraction of what reading all of the argv costs (measured
# with the cap raised), process.args_count is marked as a lower bound
# (hids.args_count_partial), the CPU guard is not tripped, and the argv of
# a normal process right after them is captured. Needs root and the real
# kernel connector.
set -u
bin=${1:?usage: test_bigargv.sh AGENT_BINARY BIGARGV}
big=${2:?usage: test_bigargv.sh AGENT_BINARY BIGARGV}
. "$(cd "$(dirname "$0")" && pwd)/../lib/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/../lib/agent.sh"
agent_tmp_init

count=${BIGARGV_EXECS:-100}	# execs per loop; two loops run at once
nargs=40			# 40 x 128 KiB = 5 MiB of argv each
execs=$((2 * count))

# Prints the capture thread's CPU time in microseconds (schedstat: ns on CPU).
capture_cpu_us() {
	local t
	for t in /proc/"$agent"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = hids-capture ]; then
			echo $(($(cut -d' ' -f1 "$t/schedstat") / 1000))
			return
		fi
	done
	echo -1
}

# run_loops CAP: runs the agent with cmdline_max_bytes = CAP around two
# loops of huge execs and a marker process; sets per_exec (capture thread
# CPU us per exec) and writes the analysis of its output to $tmp/CAP.report.
run_loops() {
	local cap=$1 before after r1 r2
	per_exec=-1
	echo "0 0 0 0 0 0 -1" >"$tmp/$cap.report"
	agent_start "$cap" "$(printf '[agent]\nheartbeat_interval = 0\n[capture]\ncmdline_max_bytes = %s\n' "$cap")" ||
	    return
	before=$(capture_cpu_us)
	check "cmdline_max_bytes=$cap: the capture thread is named hids-capture" \
	    test "$before" -ge 0
	"$big" "$count" "$nargs" & r1=$!
	"$big" "$count" "$nargs" & r2=$!
	wait $r1; r1=$?
	wait $r2; r2=$?
	check "cmdline_max_bytes=$cap: the huge execs ran" test $r1 -eq 0 -a $r2 -eq 0
	sleep 0.5
	after=$(capture_cpu_us)
	/bin/true "hidsbig-$$-after" "x y"
	sleep 1
	agent_stop "cmdline_max_bytes=$cap"
	per_exec=$(((after - before) / execs))
	echo "# cmdline_max_bytes=$cap: capture thread $((after - before)) us of CPU for $execs execs of $((nargs * 128)) KiB argv: $per_exec us each"
	python3 "$(dirname "$0")/bigargv_check.py" "$tmp/$cap.out" "hidsbig-$$-after" "$((nargs + 2))" >"$tmp/$cap.report"
}

run_loops 64M
full=$per_exec
read -r huge partial lower exact gone after demotions <"$tmp/64M.report"
echo "# cmdline_max_bytes=64M: $huge huge execs with args ($gone gone), $exact with the exact count"
check "cmdline_max_bytes=64M: a cap above the argv counts every argument" \
    test "$exact" -eq "$huge" -a "$huge" -gt 0

run_loops 256K
read -r huge partial lower exact gone after demotions <"$tmp/256K.report"
echo "# cmdline_max_bytes=256K: $huge huge execs with args ($gone gone), $partial marked partial, $lower with a lower-bound count; rt_demotions $demotions"
check "cmdline_max_bytes=256K: the huge execs come out with their args read" \
    test $((huge + gone)) -eq "$execs" -a "$huge" -gt 0
check "cmdline_max_bytes=256K: each says its args_count is a lower bound" test "$partial" -eq "$huge"
check "cmdline_max_bytes=256K: each args_count counts what was read, below the real count" \
    test "$lower" -eq "$huge"
check "cmdline_max_bytes=256K: the capture thread spends under a third of the CPU of reading it all ($per_exec against $full us per exec)" \
    test "$per_exec" -ge 0 -a $((per_exec * 3)) -lt "$full"
check "cmdline_max_bytes=256K: the CPU guard did not demote the capture thread" test "$demotions" -eq 0
check "cmdline_max_bytes=256K: the next normal process's argv is captured" test "$after" -eq 1
summary

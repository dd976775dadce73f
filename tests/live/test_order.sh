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
	python3 - "$tmp/$mode.out" "hidsorder-$run-" "${spawners[*]}" >"$tmp/$mode.report" <<'PY'
import json, sys
path, marker, parents = sys.argv[1], sys.argv[2], {int(p) for p in sys.argv[3].split()}
lives, lost = {}, 0
for line in open(path):
    d = json.loads(line)
    a = d["event"]["action"]
    if a == "lost":
        lost += 1
        continue
    if a not in ("fork", "exec", "end"):
        continue
    pid = d["process"]["pid"]
    if a == "fork" and d["process"].get("parent", {}).get("pid") in parents:
        lives[pid] = []          # one of ours: a new life of this pid starts
    if pid in lives and (not lives[pid] or lives[pid][-1][0] != "end"):
        lives[pid].append((a, d))
ordered = exact = gone = 0
for pid, evs in lives.items():
    acts = [a for a, _ in evs]
    if acts == ["fork", "exec", "end"]:
        ordered += 1
    else:
        print("pid", pid, acts, file=sys.stderr)
    for a, d in evs:
        if a != "exec":
            continue
        args = d["process"].get("args") or []
        if len(args) == 3 and args[0] == "/bin/true" and args[1].startswith(marker) and \
                args[2] == "x y":
            exact += 1
        elif d.get("hids", {}).get("proc_gone"):
            gone += 1
        else:
            print("pid", pid, "args", d["process"].get("args"), file=sys.stderr)
print(len(lives), ordered, exact, gone, lost)
PY
	read -r found ordered exact gone lost <"$tmp/$mode.report"
	want=$((2 * per))
	echo "# exec_socket=$mode: $found of $want processes forked, $ordered with fork-exec-exit in order, $exact exact args, $gone gone before /proc was read, $lost lost records"
	check "exec_socket=$mode: every process's fork is reported" test "$found" -eq "$want"
	check "exec_socket=$mode: every process has fork, exec, exit in that order" test "$ordered" -eq "$want"
	check "exec_socket=$mode: every exec has its exact args or says proc_gone" test $((exact + gone)) -eq "$want"
	# The benchmark measures capture properly; here a floor that any
	# regression in the hot path would break.
	check "exec_socket=$mode: at least 99% of execs have their args" test $((exact * 100)) -ge $((want * 99))
	check "exec_socket=$mode: no lost record" test "$lost" -eq 0
done

summary

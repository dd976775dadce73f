#!/bin/bash
# Proves the text view in a real terminal as a person reads it: in a tmux pane, a child's command line is indented under its parent's, exits show their code, colour is on, a hostile argv cannot clear the screen; off a terminal, no colour unless asked.
set -u
bin=${1:?usage: test_textview.sh AGENT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
command -v tmux >/dev/null || { echo "tmux is missing (deploy/install-deps.sh --test installs it)"; exit 1; }
tmp=$(mktemp -d)
sock=hids-textview-$$
tag=tv$$x$RANDOM
agent_pid=
cleanup() {
	if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
		kill -TERM "$agent_pid"
		for _ in $(seq 50); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	tmux -L "$sock" kill-server 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# screen [ARGS]: the pane's visible screen (with ARGS, e.g. -S - for the history too).
screen() { tmux -L "$sock" capture-pane -p -J -t hv "$@"; }
# wait_for REGEX: waits up to 20 s for a line of the pane (history included) to match.
wait_for() {
	for _ in $(seq 100); do
		screen -S - | grep -Eq "$1" && return 0
		sleep 0.2
	done
	return 1
}
# column TEXT LINE: where TEXT starts in LINE (1-based), 0 if absent.
column() { awk -v t="$1" '{ print index($0, t) }' <<<"$2"; }

# A tall pane with a long history, so that a busy host (a build: a thousand
# lines a second) neither scrolls a line off the screen before it is looked
# at nor out of the history before the checks.
echo "set -g history-limit 500000" >"$tmp/tmux.conf"
tmux -L "$sock" -f "$tmp/tmux.conf" new-session -d -s hv -x 250 -y 1000 \
    "exec env -u NO_COLOR '$bin' --format text 2>'$tmp/agent.log'"
tmux -L "$sock" set-option -t hv remain-on-exit on >/dev/null
agent_pid=$(tmux -L "$sock" display-message -p -t hv '#{pane_pid}')
check "the agent starts in a tmux pane and shows its start heartbeat" \
    wait_for 'heartbeat +start: seen' || { cat "$tmp/agent.log"; summary; exit 1; }

# A known tree: a parent sh whose child exits 5, then the parent exits 7.
# Each lives a while (a sleep child), so that a busy host cannot make their
# argv a proc_gone.
sh -c "/bin/sh -c 'sleep 0.2; exit 5' kid-$tag; exit 7" "parent-$tag"
# A hostile argv: clear the screen, cursor home, then a marker. Once its
# exec line is out, the agent is stopped for a moment, so the screen is
# looked at before more lines scroll it.
/bin/sh -c 'sleep 0.2; exit 0' "$(printf '\033[2J\033[Hhostile-%s' "$tag")" &
hostile=$!
# Its exec line (anchored so that it is not our own grep's exec line).
hre="^[0-9:.]{12} exec +[0-9]+ [^ ]+ +/bin/sh -c sleep 0.2; exit 0 .*hostile-$tag\$"
for _ in $(seq 400); do
	screen -S - | grep -Eq "$hre" && break
	sleep 0.05
done
kill -STOP "$agent_pid"
vis=$(screen)
kill -CONT "$agent_pid"
wait "$hostile"
check "the hostile process's exit is shown" wait_for "hostile-$tag.*-> exit 0"
check "the parent's exit is shown" wait_for "parent-$tag +-> exit 7 after"
all=$(screen -S -)
plines=$(grep -E "^[0-9:.]{12} exec +[0-9]+ .*parent-$tag\$" <<<"$all")
klines=$(grep -E "^[0-9:.]{12} exec +[0-9]+ .*/bin/sh -c sleep 0.2; exit 5 kid-$tag\$" <<<"$all" | grep -v "parent-$tag")
echo "# parent: $plines"
echo "# child:  $klines"
check "one exec line for the parent" test "$(grep -c . <<<"$plines")" -eq 1
check "one exec line for the child" test "$(grep -c . <<<"$klines")" -eq 1
pcol=$(column "sh -c /bin/sh" "$plines")
kcol=$(column "/bin/sh -c sleep" "$klines")
check "the child's command line is indented under its parent's ($pcol -> $kcol)" \
    test "$pcol" -gt 0 -a "$kcol" -eq $((pcol + 2))
kexit=$(grep -E "^[0-9:.]{12} end +[0-9]+ .*/bin/sh -c sleep 0.2; exit 5 kid-$tag  -> exit 5 after [0-9.]+ (us|ms|s)\$" <<<"$all")
check "the child's exit shows code 5 and its run time" test -n "$kexit"
check "the child's exit is at the child's indentation" \
    test "$(column "/bin/sh -c sleep" "$kexit")" -eq "$kcol"
check "the parent's exit shows code 7" \
    grep -Eq "^[0-9:.]{12} end .*parent-$tag  -> exit 7 after" <<<"$all"

# Hostile bytes: shown escaped, and the screen was not cleared.
check "the hostile argv shows escaped" grep -qF "exit 0 \\x1b[2J\\x1b[Hhostile-$tag" <<<"$all"
homed=$(grep -c "^hostile-$tag" <<<"$all")
check "no line starts with the marker (ESC[H did not move the cursor home)" test "$homed" -eq 0 ||
    grep -n -B1 "^hostile-$tag" <<<"$all" | cut -c1-300 | sed 's/^/#   /' 
hrow=$(grep -nE "$hre" <<<"$vis" | head -1 | cut -d: -f1)
check "the hostile exec line is on screen below earlier lines (row ${hrow:-none})" \
    test "${hrow:-0}" -gt 1
above=$(sed -n "$((${hrow:-2} - 1))p" <<<"$vis")
check "the line above it is still there" grep -Eq '^[0-9:.]{12} [a-z]+ ' <<<"$above"

# Colour: on in the pane (a terminal), carried as SGR sequences.
colour=$(screen -e -S - | grep -F "kid-$tag  ")
check "exit lines are coloured in the terminal" grep -q $'\033\\[' <<<"$colour"
# (Through a pipe, not an argument: the pane's text can pass execve's 128 KiB per argument.)
esc=$(grep -F "$tag" <<<"$all" | grep -c $'\033')
check "plain capture of the same lines has no escape byte" test "$esc" -eq 0

kill -TERM "$agent_pid"
check "the agent stops on SIGTERM" wait_for 'heartbeat +stop: seen'

# Off a terminal: --read has no colour unless asked.
printf '%s\n' '{"@timestamp":"2026-12-01T23:10:14.855049888Z","event":{"action":"end"},"process":{"pid":9,"command_line":"false","exit_code":1}}' >"$tmp/in.json"
"$bin" --read "$tmp/in.json" >"$tmp/plain.txt"
check "--read to a file: exit 0" test $? -eq 0
check "--read to a file: no colour" bash -c "! grep -q \$'\\033' '$tmp/plain.txt'"
check "--read shows the exit" grep -q 'false  -> exit 1$' "$tmp/plain.txt"
"$bin" --read - --color=always <"$tmp/in.json" >"$tmp/colour.txt"
check "--read --color=always: colour" grep -q $'\033\\[' "$tmp/colour.txt"
printf 'garbage\n' | "$bin" --read - >/dev/null 2>"$tmp/err"
check "--read of a garbage line exits 1" test $? -eq 1
check "--read names the bad line" grep -q '^hids-agent: stdin:1: not JSON' "$tmp/err"
"$bin" --read "$tmp/missing.json" 2>"$tmp/err"
check "--read of a missing file exits 1 with the reason" \
    bash -c "test $? -eq 1 && grep -q 'No such file' '$tmp/err'"
"$bin" --read - --stdout </dev/null >/dev/null 2>&1
check "--read with --stdout is a usage error" test $? -eq 2
"$bin" --format xml >/dev/null 2>&1
check "--format xml is a usage error" test $? -eq 2
"$bin" --format text --color=sometimes >/dev/null 2>&1
check "--color=sometimes is a usage error" test $? -eq 2
if [ "$fail" -gt 0 ]; then
	echo "# the pane's lines of this test:"
	grep -F -e "$tag" -e 'sleep 0.2' -e heartbeat <<<"$all" | sed 's/^/#   /'
	sed 's/^/# agent: /' "$tmp/agent.log"
fi
summary

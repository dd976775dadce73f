#!/bin/bash
# Proves a RELP collector that answers "200 OK" for transactions it has not read yet (with the agent's lines held in user space by a small sndbuf) gets a protocol error naming it, and never receives freed heap: every frame it gets is a whole event line, in order, and the agent lives on (under ASan too).
set -u
. "$(dirname "$0")/../lib/relp.sh"
relp_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }

# Succeeds when no line of FILE matches PATTERN: not_grep PATTERN FILE.
not_grep() { ! grep -q -- "$1" "$2"; }

# Succeeds once the collector's stats file says KEY >= N: col_at_least KEY N.
col_at_least() { [ "$(faultcol_stat relpcol "$1")" -ge "$2" ]; }

port=$(free_port)
"$INT_PY" "$INT_HERE/relpcol.py" --port "$port" --cert "$INT_CERTS/server.pem" \
    --key "$INT_CERTS/server.key" --out "$INT_TMP/relpcol.out" \
    --stats-file "$INT_TMP/relpcol.stats" --pid-file "$INT_TMP/relpcol.pid" \
    --stall 4 --acks 128 >"$INT_TMP/relpcol.log" 2>&1 &
COL_PID=$!
int_track "$COL_PID"
wait_for 10 test -s "$INT_TMP/relpcol.pid" || { bad "the test collector starts"; cat "$INT_TMP/relpcol.log"; int_finish; }

relp_conf "$INT_TMP/agent.conf" "127.0.0.1:$port" relp_window=128 sndbuf=4096 \
    backoff_initial_ms=200 backoff_max_ms=500 stall_timeout_s=60 start_jitter_ms=0
start_agent "$INT_TMP/agent.conf" agent || { bad "the agent starts"; int_finish; }
check "the RELP session opens" wait_for 15 grep -q "RELP session open" "$AGENT_ERR"
# Far more lines than the window while the collector does not read.
spawn_marked "hidsint-$INT_NONCE-a" 400
check "the collector answered 128 transactions before reading them" \
    wait_for 20 col_at_least early_acks 128
check "the agent calls an answer to an unsent transaction a protocol error" \
    wait_for 15 grep -qE "warning: collector 127\\.0\\.0\\.1:$port: invalid RELP from the collector: answer to transaction [0-9]+, which was not sent yet" "$AGENT_ERR"
show_log "$AGENT_ERR" "collector 127" 4
check "the agent reconnects to an honest session" wait_for 20 col_at_least connections 2
spawn_marked "hidsint-$INT_NONCE-b" 50
check "events after the hostile session arrive (50 markers)" \
    wait_marked "$INT_TMP/relpcol.out" "hidsint-$INT_NONCE-b" 50 30
check "the agent is still running" agent_alive
stop_agent
check "the agent stops cleanly (status $AGENT_RC)" test "$AGENT_RC" -eq 0
check "no sanitizer report in the agent's log" not_grep "Sanitizer" "$AGENT_ERR"
ok_frames=$(faultcol_stat relpcol frames_ok)
bad_frames=$(faultcol_stat relpcol frames_bad)
check "every frame received is a whole event line in order ($ok_frames good, $bad_frames bad)" \
    test "$bad_frames" -eq 0 -a "$ok_frames" -gt 0
[ "$bad_frames" -eq 0 ] || note "first bad frame: $(jq -r .first_bad "$INT_TMP/relpcol.stats")"
int_stop_pid "$COL_PID" 5
int_untrack "$COL_PID"
int_finish

#!/bin/bash
# Proves the metrics endpoint serves the heartbeat counters to a real Prometheus (scraped, then queried through its HTTP API, matching what the agent saw), passes promtool's lint, and holds against hostile clients: POST, other paths, a 100 KB header, a slowloris client and a flood of connections, with bounded RSS.
set -u
. "$(dirname "$0")/../lib/integration.sh"
int_init "$@"
CLIENT=$INT_HERE/metrics_client.py
# What 500 hostile connections may add to the agent's RSS: 16 served at
# once, each with at most 8 KiB of headers, plus libevent's buffers. The
# agent's own RSS depends on how busy the host is, so the growth is bounded.
RSS_GROWTH_KB=$((4 * 1024 * ${HIDS_RSS_FACTOR:-1}))
TIMEOUT_S=5	# METRICS_TIMEOUT_S in agent/metrics.c
for tool in prometheus promtool; do
	command -v "$tool" >/dev/null || { echo "missing tool: $tool (deploy/install-deps.sh --test installs it)" >&2; exit 2; }
done

mport=$(free_port)
pport=$(free_port)
cat >"$INT_TMP/agent.conf" <<CONF
[agent]
heartbeat_interval = 1
[metrics]
listen = 127.0.0.1:$mport
CONF
start_agent "$INT_TMP/agent.conf" metrics || { bad "the agent starts with [metrics] listen"; int_finish; }
check "the agent says where it serves metrics" \
    grep -q "metrics: serving http://127.0.0.1:$mport/metrics" "$AGENT_ERR"

# A real Prometheus, with its own config and data in the work directory.
mkdir -p "$INT_TMP/prom-data"
cat >"$INT_TMP/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hids
    static_configs:
      - targets: ['127.0.0.1:$mport']
CONF
prometheus --config.file="$INT_TMP/prometheus.yml" --storage.tsdb.path="$INT_TMP/prom-data" \
    --web.listen-address="127.0.0.1:$pport" >"$INT_TMP/prometheus.log" 2>&1 &
PROM_PID=$!
int_track "$PROM_PID"
query() { "$INT_PY" "$CLIENT" query "$pport" "$1"; }
query_is() { [ "$(query "$1")" = "$2" ]; }
query_at_least() { local v; v=$(query "$1"); [ "$v" != none ] && [ "${v%.*}" -ge "$2" ]; }

check "Prometheus scrapes the agent (up == 1)" wait_for 30 query_is 'up{job="hids"}' 1

# The agent's own exec events, counted in what it wrote and in Prometheus.
before=$(query 'hids_argv_captured_total + hids_proc_gone_total')
before=${before%.*}
[ "$before" = none ] && before=0
spawn_marked "hidsmetrics-$INT_NONCE" 200
check "Prometheus answers argv_captured + proc_gone grown by the 200 execs spawned" \
    wait_for 20 query_at_least 'hids_argv_captured_total + hids_proc_gone_total' $((before + 200))
execs_prom=$(query 'hids_argv_captured_total + hids_proc_gone_total')
execs_prom=${execs_prom%.*}
seen_prom=$(query 'hids_events_emitted_total')
seen_prom=${seen_prom%.*}
sleep 1.5	# the agent writes standard output after each batch
lines=$(wc -l <"$INT_TMP/metrics.stdout")
execs=$(grep -c '"action":"exec"' "$INT_TMP/metrics.stdout")
note "$(count_marked_execs "$INT_TMP/metrics.stdout" "hidsmetrics-$INT_NONCE") of the 200 with argv"
# Each exec event counts once in argv_captured or proc_gone; Prometheus's
# sample is older than the file, so at most what the file has by now.
check "Prometheus's exec count ($execs_prom) is what the agent wrote by then (now $execs exec lines)" \
    test "$execs_prom" -ge 200 -a "$execs_prom" -le "$execs"
check "Prometheus's events_emitted ($seen_prom) is what the agent wrote by then (now $lines lines)" \
    test "$seen_prom" -ge 600 -a "$seen_prom" -le "$lines"

"$INT_PY" "$CLIENT" get "$mport" >"$INT_TMP/scrape.txt"
check "the scrape has HELP and TYPE for events_seen" \
    grep -qxF "# TYPE hids_events_seen_total counter" "$INT_TMP/scrape.txt"
check "the scrape has rss_bytes as a gauge and the version info" \
    eval 'grep -qxF "# TYPE hids_rss_bytes gauge" "$INT_TMP/scrape.txt" &&
        grep -qE "^hids_agent_info\{version=\"[0-9.]+\"\} 1$" "$INT_TMP/scrape.txt"'
if promtool check metrics <"$INT_TMP/scrape.txt" >"$INT_TMP/promtool.log" 2>&1; then
	ok "promtool check metrics accepts the scrape"
else
	bad "promtool check metrics accepts the scrape" "$(tr '\n' ' ' <"$INT_TMP/promtool.log")"
fi

status() { "$INT_PY" "$CLIENT" status "$mport" "$@"; }
check "POST /metrics is 405" test "$(status POST /metrics)" = 405
check "PUT /metrics is 405" test "$(status PUT /metrics)" = 405
check "GET / is 404" test "$(status GET /)" = 404
check "GET /metrics/x is 404" test "$(status GET /metrics/x)" = 404
check "HEAD /metrics is 200" test "$(status HEAD /metrics)" = 200
check "GET /metrics?x=1 is 200" test "$(status GET '/metrics?x=1')" = 200
out=$("$INT_PY" "$CLIENT" bigheader "$mport" 102400)
check "a 100 KB header is refused and the connection closed ($out)" \
    eval '[[ "$out" =~ ^4[0-9][0-9]\ closed$ ]]'

start=$(date +%s)
slow=$("$INT_PY" "$CLIENT" slowloris "$mport" 30)
check "a client sending a byte a second is cut off within ${TIMEOUT_S}+2 s (after $slow s)" \
    eval '[ "$slow" != open ] && [ "${slow%.*}" -le $((TIMEOUT_S + 2)) ]'

rss0=$(agent_rss_kb)
"$INT_PY" "$CLIENT" flood "$mport" 500 8 >"$INT_TMP/flood.out" &
flood=$!
int_track "$flood"
sleep 4
rss=$(agent_rss_kb)
check "500 connections at once: VmRSS grows by less than $((RSS_GROWTH_KB / 1024)) MB (${rss0} -> ${rss} kB)" \
    test "$((${rss:-0} - ${rss0:-0}))" -lt "$RSS_GROWTH_KB"
check "500 connections at once: the agent logs that it limits them" \
    grep -q "metrics: 16 connections open; new ones wait" "$AGENT_ERR"
wait "$flood"
int_untrack "$flood"
check "after the flood a scrape answers again" wait_for 15 eval '[ "$(status GET /metrics)" = 200 ]'
check "after the flood Prometheus scrapes again (up == 1)" wait_for 20 query_is 'up{job="hids"}' 1
check "the agent is still running" agent_alive

# SIGHUP with another listen keeps the running one and says so.
sed -i "s/^listen = .*/listen = 127.0.0.1:$(free_port)/" "$INT_TMP/agent.conf"
kill -HUP "$AGENT_PID"
check "a reload with another listen says it needs a restart" \
    wait_for 10 grep -q "\[metrics\] listen changes take effect after a restart" "$AGENT_ERR"
check "the endpoint stays on its port after the reload" test "$(status GET /metrics)" = 200

stop_agent
check "the agent stops cleanly (status $AGENT_RC)" test "$AGENT_RC" -eq 0
int_stop_pid "$PROM_PID" 10
int_untrack "$PROM_PID"
int_finish

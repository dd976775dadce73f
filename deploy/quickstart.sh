#!/bin/bash
# Quick start: installs what is missing, builds, and runs the agent's main
# job on a built-in default: it forwards every process event over mutual TLS
# to a private rsyslog collector on 127.0.0.1 (throwaway CA and certificates
# made now), and shows the lines as they arrive. Ctrl-C stops everything.
# With --stdout it prints the events itself instead. Needs root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"	# the run set only; tests/run-all.sh adds the rest
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHIDS_TESTS=OFF >/dev/null
cmake --build "$top/build" -j"$(nproc)" >/dev/null
agent="$top/build/hids-agent"
if [ "${1:-}" = "--stdout" ]; then
	exec "$agent" --stdout
fi

port=${HIDS_QUICKSTART_PORT:-16514}
work=$(mktemp -d /tmp/hids-quickstart.XXXXXX)
pids=()
cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	echo "quickstart: stopped; files kept in $work" >&2
}
trap cleanup EXIT INT TERM

"$top/deploy/make-certs.sh" "$work/tls"
mkdir -p "$work/rsyslog"
cat >"$work/rsyslog.conf" <<CONF
global(workDirectory="$work/rsyslog" maxMessageSize="64k")
module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1"
       streamDriver.authMode="x509/certvalid" maxSessions="1000")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="hids") { action(type="omfile" file="$work/received.ndjson" template="raw") }
input(type="imtcp" address="127.0.0.1" port="$port" ruleset="hids"
      streamDriver.caFile="$work/tls/ca.pem" streamDriver.certFile="$work/tls/server.pem"
      streamDriver.keyFile="$work/tls/server.key")
CONF
rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/rsyslog.log" &
pids+=($!)

cat >"$work/agent.conf" <<CONF
[agent]
heartbeat_interval = 10
[collector]
address = 127.0.0.1:$port
ca_file = $work/tls/ca.pem
cert_file = $work/tls/client.pem
key_file = $work/tls/client.key
server_name = localhost
start_jitter_ms = 0
[spool]
dir = $work/spool
CONF
"$agent" -c "$work/agent.conf" 2>"$work/agent.log" &
pids+=($!)
touch "$work/received.ndjson"
echo "quickstart: agent -> TLS -> rsyslog on 127.0.0.1:$port; lines arriving in $work/received.ndjson" >&2
echo "quickstart: agent log in $work/agent.log; Ctrl-C stops" >&2
# What the collector received, read back as text; tail ends with the agent.
tail -n +1 -F --pid="${pids[1]}" "$work/received.ndjson" | "$agent" --read - &
pids+=($!)
wait "${pids[1]}"

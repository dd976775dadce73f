#!/bin/bash
# Proves the agent refuses, with the specific log line and before sending one byte, an untrusted CA, a wrong name, an expired certificate, a pin mismatch and a TLS 1.1-only server, and accepts a correctly pinned, IP-named or IPv6 collector.
set -u
. "$(dirname "$0")/lib.sh"
int_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }

# Succeeds once FILE holds an exec event of /bin/true MARKER-1.
has_marker() { [ "$(count_marked_execs "$1" "$2")" -ge 1 ]; }

# Runs one refusal case: refusal NAME MODE CERT KEY EXPECT_ERE [CONF_KV...].
# The agent must log EXPECT_ERE right after its collector prefix, never log
# "connected", deliver nothing, keep retrying and keep running.
refusal() {
	local name=$1 mode=$2 cert=$3 key=$4 expect=$5 port fpid prefix conns got
	shift 5
	port=$(free_port)
	if ! FAULTCOL_CERT=$INT_CERTS/$cert FAULTCOL_KEY=$INT_CERTS/$key \
	    start_faultcol "$name" "$mode" "$port"; then
		bad "$name: the test collector starts"
		return
	fi
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/$name.conf" "127.0.0.1:$port" agent.heartbeat_interval=1 "$@"
	if ! start_agent "$INT_TMP/$name.conf" "agent-$name"; then
		bad "$name: the agent starts"
		stop_faultcol "$fpid"
		return
	fi
	prefix="hids-agent: warning: collector 127\\.0\\.0\\.1:$port: "
	if wait_for 8 grep -qE "^$prefix$expect" "$AGENT_ERR"; then
		ok "$name: refused with \"$(grep -oE "$expect.*" "$AGENT_ERR" | head -1)\""
	else
		bad "$name: refused with a line matching \"$expect\"" \
		    "agent said: $(grep -F "collector 127.0.0.1:$port" "$AGENT_ERR" | tail -2 | tr '\n' '|')"
	fi
	spawn_marked "hidsint-$INT_NONCE-$name" 5
	sleep 3
	got=$(faultcol_stat "$name" bytes_received)
	conns=$(faultcol_stat "$name" connections)
	check "$name: the collector received 0 application bytes (got $got)" test "$got" -eq 0
	check "$name: the agent never reports the connection as up" \
	    not grep -qF "collector 127.0.0.1:$port: connected" "$AGENT_ERR"
	check "$name: the agent retries ($conns connections in about 4 s)" test "$conns" -ge 2
	check "$name: the agent keeps running" agent_alive
	stop_agent
	stop_faultcol "$fpid"
}

# Negates a command's status (for check).
not() { ! "$@"; }

# Runs one accepted case: accepted NAME HOST ADDRESS [CONF_KV...]. Events must arrive.
accepted() {
	local name=$1 host=$2 addr=$3 port fpid
	shift 3
	port=${addr##*:}
	if ! start_faultcol "$name" accept "$port" --host "$host"; then
		bad "$name: the test collector starts"
		return
	fi
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/$name.conf" "$addr" agent.heartbeat_interval=1 "$@"
	if ! start_agent "$INT_TMP/$name.conf" "agent-$name"; then
		bad "$name: the agent starts"
		stop_faultcol "$fpid"
		return
	fi
	check "$name: the agent logs the connection" \
	    wait_for 8 grep -qF "collector $addr: connected" "$AGENT_ERR"
	spawn_marked "hidsint-$INT_NONCE-$name" 3
	check "$name: events arrive at the collector" \
	    wait_for 10 has_marker "$INT_TMP/$name.out" "hidsint-$INT_NONCE-$name"
	check "$name: no warning about the collector" \
	    not grep -qF "warning: collector $addr" "$AGENT_ERR"
	stop_agent
	stop_faultcol "$fpid"
}

right_pin=$(cert_pin "$INT_CERTS/server.pem")
other_pin=$(cert_pin "$INT_CERTS/wrong.pem")

refusal untrusted-ca accept untrusted.pem untrusted.key \
    "TLS verification failed: unable to get local issuer certificate"
refusal untrusted-chain accept untrusted-full.pem untrusted.key \
    "TLS verification failed: (self-signed certificate in certificate chain|self signed certificate in certificate chain)"
refusal wrong-name accept wrong.pem wrong.key \
    "TLS verification failed: hostname mismatch"
refusal expired accept expired.pem expired.key \
    "TLS verification failed: certificate has expired"
refusal pin-mismatch accept server.pem server.key \
    "TLS verification failed: .*does not match pin_sha256" "pin_sha256=$other_pin"
refusal tls11-only tls11 server.pem server.key \
    "TLS handshake failed: .*(unsupported protocol|no protocols available|tlsv1 alert protocol version)"

accepted pinned 127.0.0.1 "127.0.0.1:$(free_port)" "pin_sha256=$other_pin,$right_pin"
# No server_name: the address's host, an IP literal, is verified against the IP SAN.
accepted ip-name 127.0.0.1 "127.0.0.1:$(free_port)" "server_name="
accepted ipv6 ::1 "[::1]:$(free_port)" "server_name="
int_finish

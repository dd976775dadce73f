#!/bin/bash
# Proves the agent refuses, with the specific log line and before sending one byte, an untrusted CA, a wrong name, a name only in the subject CN, an expired certificate, a pin mismatch, a TLS 1.1-only server and TLS 1.2 servers offering only CBC or non-forward-secret suites; refuses renegotiation, an encrypted key (a clear error, no prompt) and warns about a key others can read or a CA file others can change; and accepts a correctly pinned, IP-named or IPv6 collector.
set -u
. "$(dirname "$0")/../lib/integration.sh"
int_init "$@"
make_certs "$INT_TMP/certs" || { bad "make test certificates"; int_finish; }

# Succeeds once FILE holds the exec event of one of MARKER's processes.
has_marker() { [ "$(accounted_execs "$1" "$2")" -ge 1 ]; }

# Runs one refusal case: refusal NAME MODE CERT KEY EXPECT_ERE [CONF_KV...].
# The agent must log EXPECT_ERE right after its collector prefix, never log
# "connected", deliver nothing, keep retrying and keep running.
refusal() {
	local name=$1 mode=$2 cert=$3 key=$4 expect=$5 port fpid prefix conns got
	shift 5
	port=$(free_port)
	# shellcheck disable=SC2086 # FAULTCOL_EXTRA holds several arguments
	if ! FAULTCOL_CERT=$INT_CERTS/$cert FAULTCOL_KEY=$INT_CERTS/$key \
	    start_faultcol "$name" "$mode" "$port" ${FAULTCOL_EXTRA:-}; then
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

# The name must be in a subjectAltName: a CN of "localhost" alone is not enough.
refusal cn-only accept cnonly.pem cnonly.key \
    "TLS verification failed: hostname mismatch \(the certificate has no DNS or IP subjectAltName"
# TLS 1.2 suites are ECDHE with AES-GCM or ChaCha20-Poly1305 only.
FAULTCOL_EXTRA="--tls12 --ciphers ECDHE-ECDSA-AES128-SHA256" \
    refusal tls12-cbc accept server.pem server.key "TLS handshake failed: .*handshake failure"
FAULTCOL_EXTRA="--tls12 --ciphers AES128-GCM-SHA256" \
    refusal tls12-no-fs accept rsa.pem rsa.key "TLS handshake failed: .*handshake failure"

# An encrypted key is a clear error at start, without a prompt and without
# waiting for an answer (no terminal, stdin empty).
encrypted_key() {
	local key=$INT_TMP/encrypted.key rc
	openssl pkey -in "$INT_CERTS/client.key" -aes256 -passout pass:secret -out "$key" 2>/dev/null
	chmod 600 "$key"
	agent_conf "$INT_TMP/enc.conf" "127.0.0.1:$(free_port)" "cert_file=$INT_CERTS/client.pem" \
	    "key_file=$key"
	setsid --wait timeout 20 "$INT_AGENT" -c "$INT_TMP/enc.conf" </dev/null \
	    >/dev/null 2>"$INT_TMP/enc.err"
	rc=$?
	check "encrypted key: the agent exits at once with status 1 (got $rc)" test "$rc" -eq 1
	check "encrypted key: it says the key is encrypted and it asks for no passphrase" \
	    grep -qF "cannot load key_file $key: it is encrypted, and the agent does not ask for passphrases" \
	    "$INT_TMP/enc.err"
	check "encrypted key: no passphrase prompt" not grep -qi "pass phrase" "$INT_TMP/enc.err"
	sed 's/^/#   /' "$INT_TMP/enc.err" | head -3
}
encrypted_key

# A key file others can read, or a CA file others can write, gets a warning
# naming it; a 0600 key none.
key_mode() {
	local port fpid key=$INT_TMP/open.key
	cp "$INT_CERTS/client.key" "$key"
	chmod 644 "$key"
	port=$(free_port)
	start_faultcol key-mode accept "$port" || { bad "key-mode: the test collector starts"; return; }
	fpid=$FAULTCOL_PID
	agent_conf "$INT_TMP/key644.conf" "127.0.0.1:$port" "cert_file=$INT_CERTS/client.pem" \
	    "key_file=$key"
	start_agent "$INT_TMP/key644.conf" agent-key644 || { bad "key-mode: the agent starts"; stop_faultcol "$fpid"; return; }
	check "key 0644: the agent warns that others can read it" grep -qF \
	    "warning: key_file $key is readable by others (mode 0644); make it 0600" "$AGENT_ERR"
	stop_agent
	agent_conf "$INT_TMP/key600.conf" "127.0.0.1:$port" "cert_file=$INT_CERTS/client.pem" \
	    "key_file=$INT_CERTS/client.key"
	start_agent "$INT_TMP/key600.conf" agent-key600 || { bad "key-mode: the agent starts"; stop_faultcol "$fpid"; return; }
	check "key 0600: no warning about it" not grep -qF "key_file" "$AGENT_ERR"
	stop_agent
	cp "$INT_CERTS/ca.pem" "$INT_TMP/open-ca.pem"
	chmod 666 "$INT_TMP/open-ca.pem"
	agent_conf "$INT_TMP/ca666.conf" "127.0.0.1:$port" "ca_file=$INT_TMP/open-ca.pem"
	start_agent "$INT_TMP/ca666.conf" agent-ca666 || { bad "key-mode: the agent starts"; stop_faultcol "$fpid"; return; }
	check "ca_file 0666: the agent warns that others can change it" grep -qF \
	    "warning: ca_file $INT_TMP/open-ca.pem can be changed by others (mode 0666)" "$AGENT_ERR"
	stop_agent
	stop_faultcol "$fpid"
}
key_mode

# A TLS 1.2 server that asks to renegotiate (openssl s_server's R command)
# is refused: the server reports "no renegotiation", the agent reconnects.
renegotiation() {
	local port fifo=$INT_TMP/sserver.in log=$INT_TMP/sserver.log spid
	port=$(free_port)
	mkfifo "$fifo"
	exec 3<>"$fifo"
	# Its errors apart from the events it prints, which carry our own argv.
	openssl s_server -accept "127.0.0.1:$port" -tls1_2 -cert "$INT_CERTS/server.pem" \
	    -key "$INT_CERTS/server.key" <&3 >"$INT_TMP/sserver.data" 2>"$log" &
	spid=$!
	int_track "$spid"
	wait_for 10 port_open "$port" || { bad "renegotiation: openssl s_server starts"; return; }
	agent_conf "$INT_TMP/reneg.conf" "127.0.0.1:$port" start_jitter_ms=0
	start_agent "$INT_TMP/reneg.conf" agent-reneg || { bad "renegotiation: the agent starts"; return; }
	check "renegotiation: the agent connects over TLS 1.2" \
	    wait_for 10 grep -qF "collector 127.0.0.1:$port: connected (TLSv1.2" "$AGENT_ERR"
	echo R >&3
	check "renegotiation: the server reports that the agent refused it" \
	    wait_for 10 grep -qF "no renegotiation" "$log"
	check "renegotiation: the agent connects again" \
	    wait_for 10 eval '[ "$(grep -cF "collector 127.0.0.1:'"$port"': connected" "$AGENT_ERR")" -ge 2 ]'
	grep -F "collector 127.0.0.1:$port" "$AGENT_ERR" | head -3 | sed 's/^/#   /'
	stop_agent
	int_stop_pid "$spid" 5
	int_untrack "$spid"
	exec 3>&-
}
renegotiation

accepted pinned 127.0.0.1 "127.0.0.1:$(free_port)" "pin_sha256=$other_pin,$right_pin"
# No server_name: the address's host, an IP literal, is verified against the IP SAN.
accepted ip-name 127.0.0.1 "127.0.0.1:$(free_port)" "server_name="
accepted ipv6 ::1 "[::1]:$(free_port)" "server_name="
int_finish

# Helpers sourced by the integration tests: certificates, a private rsyslog,
# the fault-injecting collector, the agent under test, and cleanup by PID.
#
# A test script does:
#   . "$(dirname "$0")/../lib/integration.sh"
#   int_init "$@"            # sets INT_AGENT (binary), INT_TMP, the EXIT trap
#   ... ok/bad/check ...
#   int_finish               # prints "N passed, N failed", exits 0 or 1
#
# Everything listens on 127.0.0.1 (or ::1) only. Every daemon started here is
# recorded by PID and stopped by PID on exit, whatever the exit path.
# Set INT_KEEP=1 to keep the work directory for a post-mortem, and
# INT_SKIP="case ..." to skip cases by name (the scripts list their names).

INT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../integration" && pwd)
INT_PY=/usr/bin/python3
INT_PIDS=()
# Results: ok, bad WHAT [DETAIL], check WHAT CMD..., note.
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/net.sh"

# Checks DIR/rsyslog.conf with rsyslogd -N1; prints rsyslog's complaint and
# returns 1 when it is refused.
rsyslog_config_ok() {
	local dir=$1
	if ! rsyslogd -N1 -f "$dir/rsyslog.conf" >"$dir/rsyslog-check.log" 2>&1; then
		echo "rsyslog rejects its config $dir/rsyslog.conf:" >&2
		cat "$dir/rsyslog-check.log" >&2
		return 1
	fi
}

# Says whether a case is listed in INT_SKIP (space-separated case names),
# and if so prints it as skipped: int_skip NAME || NAME_case.
int_skip() {
	case " ${INT_SKIP:-} " in
	*" $1 "*) skipped "$1" "(INT_SKIP)"; return 0 ;;
	esac
	return 1
}

# Prints the closing line and exits with the test's status: 1 also when nothing passed.
int_finish() {
	summary && [ "$pass" -gt 0 ]
	exit $?
}

# Stops every recorded daemon and removes the work directory.
int_cleanup() {
	local pid
	for pid in "${INT_PIDS[@]}"; do
		int_stop_pid "$pid" 5
	done
	INT_PIDS=()
	rm -f "${INT_TMP:-/nonexistent}/pids"
	if [ -n "${INT_TMP:-}" ] && [ -d "$INT_TMP" ]; then
		if [ "${INT_KEEP:-0}" = 1 ]; then
			echo "# work directory kept: $INT_TMP"
		else
			rm -rf "$INT_TMP"
		fi
	fi
}

# Checks the agent binary argument, makes the work directory, arms the trap.
int_init() {
	INT_AGENT=${1:-}
	if [ -z "$INT_AGENT" ] || [ ! -x "$INT_AGENT" ]; then
		echo "usage: $0 AGENT_BINARY" >&2
		exit 2
	fi
	INT_AGENT=$(cd "$(dirname "$INT_AGENT")" && pwd)/$(basename "$INT_AGENT")
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root (the process-events connector)"
		echo "0 passed, 0 failed"
		exit 0
	fi
	local tool
	for tool in openssl jq rsyslogd "$INT_PY"; do
		command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
	done
	INT_TMP=$(mktemp -d /tmp/hids-int.XXXXXX)
	chmod 755 "$INT_TMP"
	: >"$INT_TMP/pids"
	trap int_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	_int_watchdog $$ &
	disown $!   # so that a bare "wait" never waits for it
	INT_NONCE=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
}

# Stops the daemons listed in $INT_TMP/pids if the test dies without running
# its EXIT trap (SIGKILL, as ctest does at TIMEOUT). Runs in the background;
# after a normal exit the list is gone and it does nothing.
_int_watchdog() {
	local parent=$1 list=$INT_TMP/pids p
	trap '' INT TERM
	exec </dev/null >/dev/null 2>&1
	while kill -0 "$parent" 2>/dev/null; do sleep 1; done
	[ -f "$list" ] || exit 0
	while read -r p; do kill -TERM "$p" 2>/dev/null; done <"$list"
	sleep 3
	while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$list"
	rm -rf "$INT_TMP"
}

# Records a PID so that cleanup stops it.
int_track() {
	INT_PIDS+=("$1")
	echo "$1" >>"$INT_TMP/pids"
}

# Removes a PID from the cleanup list.
int_untrack() {
	local keep=() p
	for p in "${INT_PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
	INT_PIDS=("${keep[@]}")
	[ -f "$INT_TMP/pids" ] && printf '%s\n' "${INT_PIDS[@]}" | grep . >"$INT_TMP/pids"
	return 0
}

# Sends SIGTERM to one PID, waits up to SECS, then SIGKILL: int_stop_pid PID SECS.
int_stop_pid() {
	local pid=$1 secs=${2:-5} i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# pid $pid ignored SIGTERM for ${secs}s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# Polls a command until it succeeds or TIMEOUT seconds pass: wait_for TIMEOUT CMD...
# WAIT_STEP (seconds, default 0.1) sets the polling interval.
wait_for() {
	local timeout=$1 end
	shift
	end=$(($(date +%s%N) + timeout * 1000000000))
	while :; do
		"$@" && return 0
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep "${WAIT_STEP:-0.1}"
	done
}

# Succeeds when something accepts TCP connections on 127.0.0.1:PORT (or HOST PORT).
port_open() {
	local host=127.0.0.1 port=$1
	[ $# -eq 2 ] && { host=$1; port=$2; }
	"$INT_PY" -c 'import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)' "$host" "$port"
}

# Prints the base64 SHA-256 of a certificate's DER SubjectPublicKeyInfo.
cert_pin() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
	    openssl dgst -sha256 -binary | base64
}

# Issues a certificate from a CSR with the test CA: _certs_sign DIR CA NAME EXT [STARTDATE ENDDATE].
_certs_sign() {
	local dir=$1 ca=$2 name=$3 ext=$4
	if [ $# -ge 6 ]; then
		# openssl x509 -req cannot back-date; "openssl ca" takes explicit dates.
		openssl ca -batch -config "$dir/$ca-ca.cnf" -notext -in "$dir/$name.csr" \
		    -out "$dir/$name.pem" -startdate "$5" -enddate "$6" \
		    -extfile "$dir/ext.cnf" -extensions "$ext" 2>>"$dir/openssl.log"
	else
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
		    -CAcreateserial -days 2 -sha256 -out "$dir/$name.pem" \
		    -extfile "$dir/ext.cnf" -extensions "$ext" 2>>"$dir/openssl.log"
	fi
}

# Makes a key and a CSR: _certs_csr DIR NAME CN.
_certs_csr() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/$2.key" -out "$1/$2.csr" -subj "/CN=$3" 2>>"$1/openssl.log"
}

# Makes a self-signed CA and its "openssl ca" database: _certs_ca DIR NAME CN.
_certs_ca() {
	local dir=$1 name=$2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$dir/$name.key" -out "$dir/$name.pem" -days 3 -subj "/CN=$3" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>>"$dir/openssl.log" || return 1
	mkdir -p "$dir/$name-db/new"
	: >"$dir/$name-db/index.txt"
	echo 1000 >"$dir/$name-db/serial"
	cat >"$dir/$name-ca.cnf" <<-EOF
	[ca]
	default_ca = this_ca
	[this_ca]
	database = $dir/$name-db/index.txt
	new_certs_dir = $dir/$name-db/new
	serial = $dir/$name-db/serial
	certificate = $dir/$name.pem
	private_key = $dir/$name.key
	default_md = sha256
	policy = any_name
	unique_subject = no
	[any_name]
	commonName = supplied
	EOF
}

# Makes every certificate the tests use in DIR and sets INT_CERTS=DIR:
#   ca.pem/.key           the trusted test CA
#   server.pem/.key       CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   client.pem/.key       a client certificate from the same CA
#   expired.pem/.key      like server, valid only in January 2020
#   wrong.pem/.key        CN and SAN wrong.example, from the trusted CA
#   ca2.pem, untrusted.pem/.key   a second CA and a localhost server cert from it
#   cnonly.pem/.key       CN=localhost and no subjectAltName, from the trusted CA
#   rsa.pem/.key          like server, with an RSA key (for non-ECDHE suites)
#   chain files NAME-full.pem (leaf then CA) for servers that send the chain
make_certs() {
	local dir=$1 n
	mkdir -p "$dir"
	cat >"$dir/ext.cnf" <<-'EOF'
	[server]
	basicConstraints = CA:FALSE
	keyUsage = critical, digitalSignature, keyEncipherment
	extendedKeyUsage = serverAuth
	subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
	[wrong]
	basicConstraints = CA:FALSE
	keyUsage = critical, digitalSignature, keyEncipherment
	extendedKeyUsage = serverAuth
	subjectAltName = DNS:wrong.example
	[cnonly]
	basicConstraints = CA:FALSE
	keyUsage = critical, digitalSignature, keyEncipherment
	extendedKeyUsage = serverAuth
	[client]
	basicConstraints = CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = clientAuth
	EOF
	_certs_ca "$dir" ca "hids-int test CA" &&
	_certs_ca "$dir" ca2 "hids-int untrusted CA" &&
	_certs_csr "$dir" server localhost && _certs_sign "$dir" ca server server &&
	_certs_csr "$dir" client hids-int-client && _certs_sign "$dir" ca client client &&
	_certs_csr "$dir" expired localhost &&
	_certs_sign "$dir" ca expired server 200101000000Z 200201000000Z &&
	_certs_csr "$dir" wrong wrong.example && _certs_sign "$dir" ca wrong wrong &&
	_certs_csr "$dir" untrusted localhost && _certs_sign "$dir" ca2 untrusted server &&
	_certs_csr "$dir" cnonly localhost && _certs_sign "$dir" ca cnonly cnonly &&
	openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/rsa.key" -out "$dir/rsa.csr" \
	    -subj "/CN=localhost" 2>>"$dir/openssl.log" && _certs_sign "$dir" ca rsa server ||
	    { echo "make_certs failed; see $dir/openssl.log" >&2; return 1; }
	for n in server expired wrong; do cat "$dir/$n.pem" "$dir/ca.pem" >"$dir/$n-full.pem"; done
	cat "$dir/untrusted.pem" "$dir/ca2.pem" >"$dir/untrusted-full.pem"
	chmod 644 "$dir"/*.key "$dir"/*.pem
	chmod 600 "$dir/client.key"	# the agent warns about a key others can read
	INT_CERTS=$dir
}

# Starts a private rsyslogd with a TLS (ossl) imtcp input on 127.0.0.1:PORT
# that writes every received message verbatim to DIR/received.log.
# MODE is anon (server auth only) or x509 (clients need a certificate from
# the test CA: authMode x509/certvalid). Sets RSYSLOG_PID.
# start_rsyslog DIR PORT MODE [CERTDIR]
start_rsyslog() {
	local dir=$1 port=$2 mode=$3 certs=${4:-$INT_CERTS} auth
	case $mode in
	anon) auth=anon ;;
	x509) auth=x509/certvalid ;;
	*) echo "start_rsyslog: bad mode $mode" >&2; return 1 ;;
	esac
	mkdir -p "$dir/work"
	: >"$dir/received.log"
	# No imuxsock/imklog: this instance never touches /dev/log or the kernel log.
	cat >"$dir/rsyslog.conf" <<-EOF
	global(workDirectory="$dir/work" maxMessageSize="64k"
	    defaultNetstreamDriver="ossl"
	    defaultNetstreamDriverCAFile="$certs/ca.pem"
	    defaultNetstreamDriverCertFile="$certs/server.pem"
	    defaultNetstreamDriverKeyFile="$certs/server.key")
	module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1"
	    streamDriver.authMode="$auth" maxSessions="50")
	template(name="hids_raw" type="string" string="%rawmsg%\\n")
	ruleset(name="hids_in") {
	    action(type="omfile" file="$dir/received.log" template="hids_raw")
	}
	input(type="imtcp" address="127.0.0.1" port="$port" ruleset="hids_in"
	    streamDriver.caFile="$certs/ca.pem"
	    streamDriver.certFile="$certs/server.pem"
	    streamDriver.keyFile="$certs/server.key")
	EOF
	rsyslog_config_ok "$dir" || return 1
	rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" >"$dir/rsyslog.out" 2>&1 &
	RSYSLOG_PID=$!
	int_track "$RSYSLOG_PID"
	if ! wait_for 10 port_open "$port"; then
		echo "rsyslog did not listen on $port:" >&2
		cat "$dir/rsyslog.out" >&2
		return 1
	fi
}

# Stops the rsyslogd started by start_rsyslog.
stop_rsyslog() {
	[ -n "${RSYSLOG_PID:-}" ] || return 0
	int_stop_pid "$RSYSLOG_PID" 10
	int_untrack "$RSYSLOG_PID"
	RSYSLOG_PID=
}

# Starts faultcol.py: start_faultcol NAME MODE PORT [ARGS...]. Its files are
# $INT_TMP/NAME.{out,stats,pid,log}. Sets FAULTCOL_PID. Waits for the listener
# (except in refuse mode, which exits at once).
start_faultcol() {
	local name=$1 mode=$2 port=$3 d=$INT_TMP
	shift 3
	rm -f "$d/$name.pid"
	"$INT_PY" "$INT_HERE/faultcol.py" --mode "$mode" --port "$port" \
	    --cert "${FAULTCOL_CERT:-$INT_CERTS/server.pem}" \
	    --key "${FAULTCOL_KEY:-$INT_CERTS/server.key}" \
	    --out "$d/$name.out" --stats-file "$d/$name.stats" --pid-file "$d/$name.pid" \
	    "$@" >>"$d/$name.log" 2>&1 &
	FAULTCOL_PID=$!
	int_track "$FAULTCOL_PID"
	[ "$mode" = refuse ] && { wait "$FAULTCOL_PID"; int_untrack "$FAULTCOL_PID"; return 0; }
	if ! wait_for 10 test -s "$d/$name.pid"; then
		echo "faultcol $name did not start:" >&2
		cat "$d/$name.log" >&2
		return 1
	fi
}

# Stops one faultcol by PID: stop_faultcol PID.
stop_faultcol() {
	int_stop_pid "$1" 5
	int_untrack "$1"
}

# Prints one counter from a faultcol stats file: faultcol_stat NAME KEY.
faultcol_stat() {
	local f=$INT_TMP/$1.stats
	[ -s "$f" ] || { echo 0; return; }
	jq -r ".$2 // 0" "$f" 2>/dev/null || echo 0
}

# Writes an agent config for forwarding: agent_conf FILE ADDRESS [KEY=VALUE ...].
# Keys go to [collector] unless written as section.key (agent.*, output.*).
agent_conf() {
	local file=$1 addr=$2 kv k v
	shift 2
	local -A coll=([address]="$addr" [protocol]=ndjson [ca_file]="$INT_CERTS/ca.pem"
	    [server_name]=localhost [backoff_initial_ms]=250 [backoff_max_ms]=2000
	    [flush_interval_ms]=50)
	local -A agent=([heartbeat_interval]=2 [log_level]=info)
	local -A out=()
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		case $k in
		agent.*) agent[${k#agent.}]=$v ;;
		output.*) out[${k#output.}]=$v ;;
		collector.*) coll[${k#collector.}]=$v ;;
		*) coll[$k]=$v ;;
		esac
	done
	{
		echo "[agent]"
		for k in "${!agent[@]}"; do echo "$k = ${agent[$k]}"; done
		echo "[collector]"
		for k in "${!coll[@]}"; do
			# An empty value removes a default (e.g. server_name= to test the address's host).
			[ -n "${coll[$k]}" ] && echo "$k = ${coll[$k]}"
		done
		if [ "${#out[@]}" -gt 0 ]; then
			echo "[output]"
			for k in "${!out[@]}"; do echo "$k = ${out[$k]}"; done
		fi
	} >"$file"
}

# Starts the agent in the background with CONF: start_agent CONF [NAME].
# Stderr goes to $INT_TMP/NAME.err (AGENT_ERR), stdout to NAME.stdout.
# Waits for "ready"; sets AGENT_PID. Fails if the agent dies first.
start_agent() {
	local conf=$1 name=${2:-agent}
	AGENT_ERR=$INT_TMP/$name.err
	: >"$AGENT_ERR"
	"$INT_AGENT" -c "$conf" >"$INT_TMP/$name.stdout" 2>"$AGENT_ERR" &
	AGENT_PID=$!
	int_track "$AGENT_PID"
	if ! wait_for 15 _agent_ready "$AGENT_PID" "$AGENT_ERR" || ! agent_alive; then
		echo "# the agent did not become ready; its stderr:" >&2
		sed 's/^/#   /' "$AGENT_ERR" >&2
		return 1
	fi
}

# Succeeds once the agent logged "ready", or once it died (the caller checks).
_agent_ready() {
	kill -0 "$1" 2>/dev/null || return 0
	grep -q 'info: ready$' "$2"
}

# Succeeds while the agent is running: agent_alive [PID].
agent_alive() { kill -0 "${1:-$AGENT_PID}" 2>/dev/null; }

# Stops the agent by PID with SIGTERM and waits: stop_agent [PID]. Prints its exit code.
stop_agent() {
	local pid=${1:-$AGENT_PID} rc
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		local i
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && { echo "# agent $pid ignored SIGTERM for 15s" >&2; kill -KILL "$pid"; }
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	int_untrack "$pid"
	AGENT_RC=$rc
	return 0
}

# Prints the agent's resident memory in KiB: agent_rss_kb [PID].
agent_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/${1:-$AGENT_PID}/status" 2>/dev/null || echo 0
}

# Prints every line of FILE that is a JSON object, compacted, dropping the rest.
json_lines() { jq -R -c 'fromjson? | objects' "$1" 2>/dev/null; }

# Counts lines of FILE that are not JSON objects.
bad_json_count() {
	jq -R -r 'try (fromjson | if type == "object" then empty else "BAD" end) catch "BAD"' "$1" |
	    grep -c BAD
}

# Prints the args (joined by spaces) of every exec event in FILE whose args[1]
# starts with MARKER; grep narrows the file first, as it may be large.
exec_args_with() {
	grep -sF -- "$2" "$1" | jq -R -r --arg m "$2" \
	    'fromjson? | objects | select(.event.action == "exec") | .process.args // [] |
	     select(length > 1 and (.[1] | startswith($m))) | join(" ")'
}

# Counts distinct exec events of "/bin/true MARKER-i" in FILE, cheaply (for polling).
count_marked_execs() {
	grep -sF '"action":"exec"' "$1" | grep -oE "\"args\":\[\"/bin/true\",\"$2-[0-9]+\"\]" |
	    sort -u | wc -l
}

# Prints the largest value of hids.stats.KEY over heartbeats in FILE (or 0).
max_heartbeat_stat() {
	grep -sF '"action":"heartbeat"' "$1" | jq -R -c 'fromjson? | objects' | jq -s -r --arg k "$2" \
	    '[.[] | select(.event.action == "heartbeat") | .hids.stats[$k] // empty |
	      if type == "boolean" then (if . then 1 else 0 end) else . end] | max // 0'
}

# Spawns /bin/true MARKER-i for i in FIRST..LAST as fast as possible, from a
# subshell whose pid goes to $INT_TMP/spawners-MARKER: it is the parent of
# every exec event, so an exec whose process was gone from /proc before its
# argv was read (hids.proc_gone) can still be attributed to the marker.
# spawn_range MARKER FIRST LAST.
spawn_range() {
	(
		note_spawner "$1" "$2" "$3"
		for ((i = $2; i <= $3; i++)); do /bin/true "$1-$i"; done
	)
}

# Records the calling subshell as the spawner of MARKER-FIRST..LAST (when
# there is a work directory): note_spawner MARKER FIRST LAST.
note_spawner() {
	[ -n "${INT_TMP:-}" ] && echo "$BASHPID $2 $3" >>"$INT_TMP/spawners-$1"
	return 0
}

# Spawns COUNT short processes /bin/true MARKER-i: spawn_marked MARKER COUNT.
spawn_marked() { spawn_range "$1" 1 "$2"; }

# Prints how many distinct processes of MARKER's spawners (those of MARKER-i,
# FIRST <= i <= LAST, when given) have an exec event marked hids.proc_gone in
# FILE (- for standard input): their argv was gone before the capture read
# it, so the marker cannot be told; the event was still delivered, and
# counted. gone_marked_execs FILE MARKER [FIRST LAST].
gone_marked_execs() {
	local spawners=$INT_TMP/spawners-$2
	if [ ! -s "$spawners" ]; then
		echo 0
		return
	fi
	grep -saF '"action":"exec"' "$1" | grep -F '"proc_gone":true' |
	    grep -F -f <(awk -v a="${3:-0}" -v b="${4:-999999999}" \
	        '$2 >= a && $3 <= b { printf "\"parent\":{\"pid\":%s,\n", $1 }' "$spawners") |
	    grep -oE '"process":\{"pid":[0-9]+' | sort -u | wc -l
}

# Prints how many of MARKER's processes have their exec event in FILE: with
# argv (count_marked_execs), or marked proc_gone (gone_marked_execs).
accounted_execs() {
	echo $(($(count_marked_execs "$1" "$2") + $(gone_marked_execs "$1" "$2")))
}

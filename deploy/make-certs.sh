#!/bin/bash
# Makes a throwaway CA and, signed by it, a server certificate for localhost
# (SAN DNS:localhost, IP:127.0.0.1, IP:::1) and a client certificate, in DIR.
# For trying the agent and for tests; a fleet uses its own PKI (docs/collectors.md).
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=${HIDS_CERT_DAYS:-30}
cat >ext.cnf <<'CNF'
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
CNF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=hids-agent throwaway CA" -keyout ca.key -out ca.pem 2>/dev/null
for who in server client; do
	cn=localhost
	[ "$who" = client ] && cn="hids-agent client $(hostname)"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
	    -keyout "$who.key" -out "$who.csr" 2>/dev/null
	openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -days "$days" -extfile ext.cnf -extensions "$who" -out "$who.pem" 2>/dev/null
	rm -f "$who.csr"
done
chmod 600 ./*.key

#!/bin/bash
# Installs the Debian 12 packages hids-agent needs to build, run and test.
# Idempotent and quiet when everything is already there.
set -euo pipefail
# libjson-c-dev is needed to build the agent itself (its text view parses
# lines back); tmux only by the tests (the text view in a real terminal).
pkgs=(build-essential cmake pkg-config clang
      libevent-dev libmnl-dev libjson-c-dev libssl-dev libinih-dev libcmocka-dev
      python3 python3-jsonschema jq forkstat util-linux zlib1g-dev
      cppcheck clang-tidy valgrind rsyslog rsyslog-openssl rsyslog-relp openssl
      mandoc man-db ansible-core python3-apt dpkg-dev file
      devscripts binutils tmux prometheus)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

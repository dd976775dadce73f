#!/bin/bash
# Installs the Debian 12 packages hids-agent needs, in two sets:
#   install-deps.sh          what building and running need (the quick start:
#                            deploy/quickstart.sh builds with -DHIDS_TESTS=OFF
#                            and forwards to a private rsyslog over TLS)
#   install-deps.sh --test   that plus everything the tests need
#                            (tests/run-all.sh, CI)
#   install-deps.sh --list [--test]   prints the set, one package a line
# Idempotent and quiet when everything is already there.
# tests/deploy/test_deps.sh checks that the run set alone builds the agent.
set -euo pipefail

# Building and running: compiler, the libraries the agent links (json-c for
# the text view, which parses lines back), and the quick start's collector
# (rsyslog with TLS) and certificates (openssl).
run_pkgs=(build-essential cmake pkg-config
      libevent-dev libmnl-dev libssl-dev libinih-dev zlib1g-dev libjson-c-dev
      openssl rsyslog rsyslog-openssl)

# Testing only: unit tests (cmocka), fuzzing and static analysis
# (clang, cppcheck, clang-tidy), live and integration tests (forkstat,
# valgrind, jq, jsonschema, RELP, tmux, prometheus, strace, setcap for the
# file-capability check, a real sshd and ssh for the login test, podman,
# runc and busybox-static for the container test), packaging and
# deploy tests (dpkg-dev, devscripts, binutils, file, ansible, man pages).
test_pkgs=(clang libcmocka-dev
      python3 python3-jsonschema jq forkstat util-linux
      cppcheck clang-tidy valgrind rsyslog-relp
      mandoc man-db ansible-core python3-apt dpkg-dev file
      devscripts binutils tmux prometheus strace libcap2-bin
      openssh-server openssh-client podman runc busybox-static)

list=false test=false
for arg in "$@"; do
	case $arg in
	--test) test=true ;;
	--list) list=true ;;
	*) echo "usage: $0 [--test] [--list]" >&2; exit 2 ;;
	esac
done
pkgs=("${run_pkgs[@]}")
if $test; then pkgs+=("${test_pkgs[@]}"); fi
if $list; then printf '%s\n' "${pkgs[@]}"; exit 0; fi

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

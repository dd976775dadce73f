# Shared by the deploy tests: counters, and building the .deb once per run.
# Sourced, not run.

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# True when a hids-agent package is installed (or half-installed).
deb_installed() {
	dpkg-query -W -f='${db:Status-Abbrev}' hids-agent 2>/dev/null | grep -q '^[a-z][^n]'
}

# Builds the .deb in its own build dir, release flags, no tests, and sets
# $deb to its path. A rerun only rebuilds what changed.
build_deb() {
	local src=$1 bin=$2 log=$2/build.log
	mkdir -p "$bin"
	if ! { cmake -S "$src" -B "$bin" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHIDS_TESTS=OFF \
	        -DHIDS_SANITIZE=OFF &&
	    cmake --build "$bin" -j"$(nproc)" &&
	    (cd "$bin" && rm -f hids-agent_*.deb && cpack -G DEB); } >"$log" 2>&1; then
		tail -n 30 "$log"
		return 1
	fi
	deb=$(ls "$bin"/hids-agent_*.deb 2>/dev/null | head -n 1)
	test -n "$deb"
}

# Removes the package and everything it or a test left behind.
purge_all() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq hids-agent >/dev/null 2>&1 || true
	rm -rf /var/cache/hids-agent /etc/systemd/system/hids-agent.service.d
}

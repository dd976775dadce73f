#!/bin/bash
# Proves deploy/install-deps.sh's run set suffices to build and run the agent: it is part of the test set's list, and a -DHIDS_TESTS=OFF build in a scratch dir, traced with strace, opens and runs only files of run-set packages (or of what they depend on, or of essential packages).
# Usage: test_deps.sh SOURCE_DIR. Needs strace and dpkg; packages are not
# removed (other tests need them): what the build touches is checked instead.
set -u
. "$(dirname "$0")/../lib/tap.sh"
src=${1:?usage: test_deps.sh SOURCE_DIR}
src=$(cd "$src" && pwd)
deps=$src/deploy/install-deps.sh
command -v strace >/dev/null || { echo "strace is missing (deploy/install-deps.sh --test installs it)"; exit 1; }
tmp=$(mktemp -d /tmp/hids-deps.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$deps" --list | sort >"$tmp/run"
"$deps" --list --test | sort >"$tmp/all"
check "the run set is not empty ($(wc -l <"$tmp/run") packages)" test -s "$tmp/run"
check "no package is listed twice" test -z "$(uniq -d "$tmp/all")"
check "the run set is part of --test's set" test -z "$(comm -23 "$tmp/run" "$tmp/all")"
for p in rsyslog rsyslog-openssl openssl; do
	check "the run set has $p (the quick start's collector)" grep -qx "$p" "$tmp/run"
done
for p in libcmocka-dev valgrind cppcheck clang-tidy ansible-core prometheus; do
	check "the run set leaves $p to --test" bash -c "! grep -qx '$p' '$tmp/run' && grep -qx '$p' '$tmp/all'"
done
check "install-deps.sh refuses an unknown option" bash -c "! '$deps' --bogus 2>/dev/null"

# What the run set brings: its packages, what they depend on (installed
# here), and the essential packages every Debian system has.
{
	cat "$tmp/run"
	apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
	    --no-breaks --no-replaces --no-enhances $(cat "$tmp/run") 2>/dev/null |
	    sed -n 's/^ *\(Pre\)\{0,1\}Depends: //p; /^[a-z0-9]/p' | tr -d '<>'
	dpkg-query -W -f='${Package} ${Essential}\n' | awk '$2 == "yes" { print $1 }'
} | sed 's/:.*//' | sort -u >"$tmp/allowed"

# A build like the quick start's, traced: every file opened or run.
if ! strace -f -qq -z -e trace=execve,openat,open -o "$tmp/trace" \
    cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHIDS_TESTS=OFF \
    >"$tmp/configure.log" 2>&1; then
	bad "cmake configures with -DHIDS_TESTS=OFF"
	tail -n 20 "$tmp/configure.log"
	summary
	exit 1
fi
ok "cmake configures with -DHIDS_TESTS=OFF"
check "the configure step does not look for cmocka" \
    bash -c "! grep -qiE '^CMOCKA_' '$tmp/build/CMakeCache.txt'"
strace -f -qq -z -e trace=execve,openat,open -o "$tmp/trace.build" \
    cmake --build "$tmp/build" -j2 >"$tmp/build.log" 2>&1
check "the agent builds with -DHIDS_TESTS=OFF" test -x "$tmp/build/hids-agent" ||
    tail -n 20 "$tmp/build.log"
strace -f -qq -z -e trace=execve,openat,open -o "$tmp/trace.run" \
    "$tmp/build/hids-agent" --check-config -c "$src/deploy/hids-agent.conf" >"$tmp/run.log" 2>&1
check "the built agent runs (--check-config of the example config)" \
    grep -q "configuration is valid" "$tmp/run.log"

# Every file under the system directories, to its package. Left out: what
# tools load only because it is there, and would do without: the linker's
# ld.so.conf.d, the message catalogs, and binutils' plugin directory with what its plugins load
# (clang's LLVMgold, installed by the test set, is found by ar and ld).
cat "$tmp/trace" "$tmp/trace.build" "$tmp/trace.run" |
    awk '{ if ($0 ~ /bfd-plugins\//) plugin[$1] = 1; else if (!($1 in plugin) || $0 !~ /\.so/) print }' |
    grep -oE '(execve|openat|open)\((AT_FDCWD, )?"[^"]+"' | sed 's/.*"\([^"]*\)"$/\1/' |
    grep -E '^/(usr|lib|lib64|bin|sbin|etc)/' | grep -vE '^/(etc/ld\.so\.conf\.d|usr/share/locale)/' |
    sort -u >"$tmp/files"
: >"$tmp/owners"
# One dpkg -S for all (it is slow per call): each file as named, as its real
# path, and that without /usr (merged /usr: dpkg may know either).
while read -r f; do
	[ -e "$f" ] || continue
	real=$(realpath "$f")
	printf '%s\t%s\n%s\t%s\n%s\t%s\n' "$f" "$f" "$real" "$f" "${real#/usr}" "$f"
done <"$tmp/files" >"$tmp/candidates"
cut -f1 "$tmp/candidates" | sort -u | xargs -d '\n' dpkg -S 2>/dev/null |
    grep -v '^diversion ' | sed -n 's/^\(.*\): \(\/.*\)$/\2\t\1/p' | sort -t "$(printf '\t')" -k1,1 -u >"$tmp/dpkg"
# "pkg1, pkg2: path" when several packages share a path: any one will do.
awk -F '\t' 'NR == FNR { owner[$1] = $2; next }
    ($1 in owner) && !($2 in done) { done[$2] = 1; print owner[$1] "\t" $2 }' \
    "$tmp/dpkg" "$tmp/candidates" >"$tmp/owners"
check "the traces name files of installed packages ($(wc -l <"$tmp/owners") files)" test -s "$tmp/owners"
: >"$tmp/foreign"
while IFS=$'\t' read -r pkgs f; do
	found=false
	for p in ${pkgs//,/ }; do
		grep -qx "${p%%:*}" "$tmp/allowed" && found=true
	done
	$found || printf '%s (%s)\n' "$pkgs" "$f" >>"$tmp/foreign"
done <"$tmp/owners"
if [ -s "$tmp/foreign" ]; then
	bad "the build and the agent use only the run set's packages"
	sort -u "$tmp/foreign" | head -n 20 | sed 's/^/#   not from the run set: /'
else
	ok "the build and the agent use only the run set's packages"
fi
summary

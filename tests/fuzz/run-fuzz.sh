#!/bin/sh
# run-fuzz.sh: builds the libFuzzer harnesses with clang and runs each for a
# bounded time: ./run-fuzz.sh [SECONDS_EACH] [HARNESS...] (default 15 s,
# all harnesses). Each run starts from a copy of corpus/<name>/ in a temp
# dir, so the repository is not modified; regressions/<name>/ inputs are
# replayed first. Exits non-zero if any harness fails to build or finds a
# crash, leak or timeout; the crashing input is kept and its path printed
# (copy it to regressions/<name>/ and the unit tests will replay it).
# Prints executions and coverage per harness. Not for long campaigns: run
# a harness binary by hand for that (the temp dir is printed with -k).
#
# The code under test is compiled once, instrumented, into an archive, so
# each harness links exactly the objects it needs whatever they depend on.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
keep=0
if [ "${1:-}" = "-k" ]; then keep=1; shift; fi
secs=${1:-15}
[ $# -gt 0 ] && shift
harnesses=${*:-decode escape procfs config relp encode textview}
CC=${CC_FUZZ:-clang}
jobs=$(nproc 2>/dev/null || echo 2)

case $secs in
''|*[!0-9]*) echo "usage: $0 [-k] [SECONDS_EACH] [HARNESS...]" >&2; exit 2 ;;
esac
command -v "$CC" >/dev/null || { echo "run-fuzz: $CC not found" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hids-fuzz.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then echo "run-fuzz: kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-g -O1 -D_GNU_SOURCE -DHIDS_VERSION=\"fuzz\" -std=gnu11 -fno-omit-frame-pointer
  -I$root/common -I$root/proto -I$root/agent"
pkgs=""
# The libraries of the top CMakeLists.txt, where installed; the linker drops
# what a harness does not use.
for p in json-c libmnl inih libcrypto libssl libevent libevent_openssl zlib \
    libsystemd libcap; do
	pkg-config --exists "$p" && pkgs="$pkgs $p"
done
# shellcheck disable=SC2086
pkgcflags=$(pkg-config --cflags $pkgs)
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkgs) -lpthread"

# The code under test: everything but main, instrumented for coverage.
mkdir -p "$work/obj"
for f in "$root"/common/*.c "$root"/proto/*.c "$root"/agent/*.c; do
	[ "$(basename "$f")" = main.c ] && continue
	echo "$f"
done >"$work/sources"
export CC cflags san pkgcflags work
# shellcheck disable=SC2016
xargs -P "$jobs" -I{} sh -c '
	o="$work/obj/$(echo "{}" | tr / _).o"
	$CC $cflags $pkgcflags $san -fsanitize=fuzzer-no-link -c "{}" -o "$o" \
	    2>"$o.log" || echo "run-fuzz: warning: {} does not build, left out" >&2
' <"$work/sources"
ar rcs "$work/libunder_test.a" "$work/obj"/*.o

failed=""
summary=""
for h in $harnesses; do
	bin="$work/fuzz_$h"
	if [ ! -f "$here/fuzz_$h.c" ]; then
		echo "run-fuzz: no harness fuzz_$h.c" >&2
		failed="$failed $h"
		continue
	fi
	# shellcheck disable=SC2086
	if ! $CC $cflags $pkgcflags $san -fsanitize=fuzzer -Wall -Wextra \
	    "$here/fuzz_$h.c" "$work/libunder_test.a" $libs -o "$bin" \
	    >"$work/$h.build.log" 2>&1; then
		echo "run-fuzz: $h: build failed:" >&2
		cat "$work/$h.build.log" >&2
		failed="$failed $h"
		continue
	fi
	mkdir -p "$work/corpus/$h" "$work/artifacts/$h"
	if [ -d "$here/corpus/$h" ]; then
		cp "$here/corpus/$h"/* "$work/corpus/$h/" 2>/dev/null || true
	fi
	# Known crashers first: each must pass now.
	if [ -d "$here/regressions/$h" ] && [ -n "$(ls -A "$here/regressions/$h")" ]; then
		if ! "$bin" -runs=1 "$here/regressions/$h"/* >"$work/$h.regress.log" 2>&1; then
			echo "run-fuzz: $h: a regression input fails again:" >&2
			tail -n 40 "$work/$h.regress.log" >&2
			failed="$failed $h"
			continue
		fi
	fi
	log="$work/$h.log"
	set +e
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/$h/" \
	    "$work/corpus/$h" >"$log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')
	line=$(printf '%-7s %4ss  execs=%-10s cov=%-5s ft=%-6s corpus=%s' \
	    "$h" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
	if [ $rc -ne 0 ]; then
		keep=1
		echo "run-fuzz: $h: FAILED (exit $rc); log $log" >&2
		grep -E 'ERROR|SUMMARY|Test unit written|^    #[0-9]' "$log" | head -n 30 >&2
		for a in "$work/artifacts/$h"/*; do
			[ -e "$a" ] && echo "run-fuzz: $h: crash input kept at $a" >&2
		done
		failed="$failed $h"
		line="$line  FAILED"
	fi
	echo "$line"
	summary="$summary$line
"
done

printf '\nrun-fuzz summary (%s s each):\n%s' "$secs" "$summary"
if [ -n "$failed" ]; then
	echo "run-fuzz: failed:$failed" >&2
	exit 1
fi
echo "run-fuzz: all harnesses passed"

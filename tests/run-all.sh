#!/bin/bash
# Installs what is missing, builds, and runs the whole test suite with ctest:
# first a normal build (unit, live, live under valgrind, fuzz, integration,
# deploy, static analysis), then an AddressSanitizer + UndefinedBehaviorSanitizer
# build running unit, live and integration tests again. Needs root: the live
# tests use the real kernel connector. Extra arguments go to both ctest runs.
# Both stages always run; the exit status is non-zero if either failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh" --test || exit 1
jobs=$(nproc)
status=0

echo "== normal build"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHIDS_TESTS=ON >/dev/null &&
    cmake --build "$top/build" -j"$jobs" || exit 1
(cd "$top/build" && ctest --output-on-failure "$@") || status=1

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DHIDS_SANITIZE=ON -DHIDS_TESTS=ON >/dev/null &&
    cmake --build "$top/build-asan" -j"$jobs" || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:exitcode=86:quarantine_size_mb=16
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# ASan's shadow memory and quarantine inflate RSS: memory bounds are checked
# exactly in the normal build, and scaled here.
export HIDS_RSS_FACTOR=8
(cd "$top/build-asan" && ctest --output-on-failure -E '^(fuzz_|deploy_|static_)' "$@") || status=1

if [ "$status" -eq 0 ]; then
	echo "all test stages passed"
else
	echo "some test stage failed"
fi
exit "$status"

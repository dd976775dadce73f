#!/bin/bash
# Installs what is missing, builds, and runs the whole test suite (unit, live,
# fuzz) with ctest. Needs root: the live tests use the real kernel connector.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"
build="$top/build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure "$@"

#!/bin/bash
# Quick start: installs what is missing, builds, and runs the agent with its
# built-in defaults, printing one ECS JSON line per process event to the
# terminal. Stop it with Ctrl-C. Needs root (the kernel connector does).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)" >/dev/null
exec "$top/build/hids-agent" --stdout "$@"

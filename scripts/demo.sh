#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo: a real training loop
# (a small MLP on a generated spiral data set) inside a tmon::server with a
# SQLite store, served with the dashboard at http://127.0.0.1:8000/.
#   scripts/demo.sh [--steps N] [--port P] [--exit-when-done] ...
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh core
build=${TMON_DEMO_BUILD:-build-demo}
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTMON_BUILD_TESTS=OFF -DTMON_BUILD_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$build" --target demo-training -j "$(nproc)" >/dev/null
exec "$build/examples/demo-training" "$@"

#!/usr/bin/env bash
# Builds the server-side benchmarks in Release and runs them one after another.
# Usage: benchmarks/run_all.sh [--seconds S]   (per measurement; default 10)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=10
[[ ${1:-} == --seconds ]] && seconds=$2
build="$root/build-bench"

"$root/scripts/install_deps.sh" bench
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target tmon-server httplib_server wspp_broadcast ws_fanout_client \
  bench_ingest_http bench_ws_fanout

echo "== HTTP read path (wrk) =="
"$root/benchmarks/bench_http.sh" --build "$build" --duration "$seconds"
echo
echo "== HTTP ingestion =="
"$build/benchmarks/bench_ingest_http"
echo
echo "== WebSocket fan-out =="
"$build/benchmarks/bench_ws_fanout" --seconds "$seconds"

#!/usr/bin/env bash
# HTTP read path: requests/s and latency of tmon-server (sqlite store) on GET /health and
# GET /api/runs/{id}/metrics/latest, against nginx (one worker, `return 200`) and a
# cpp-httplib server answering byte-identical bodies on the same paths, all under the same
# wrk load in this one script.
# Usage: benchmarks/bench_http.sh [--duration S] [--repeat N] [--build DIR] [--server PATH] [--connections N] [--threads N]
#   --repeat N    measure every (server, route) N times, interleaved, and report the medians
#                 (steadier ratios on a busy machine)
#   --build DIR   where tmon-server (DIR/examples) and httplib_server (DIR/benchmarks) are; default build-bench
#   --server PATH a tmon-server binary to use instead of DIR/examples/tmon-server
# Targets for tmon: /health >= 0.7x nginx, metrics/latest >= 0.5x nginx, p99 <= 10 ms.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=10 repeat=1 build="$root/build-bench" connections=64 threads=2 tmon_server=""
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --server) tmon_server=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

tmon_server=${tmon_server:-$build/examples/tmon-server}
httplib_server="$build/benchmarks/httplib_server"
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install_deps.sh bench" >&2; exit 1; }
done
[[ -x $httplib_server ]] || { echo "missing $httplib_server: cmake --build $build --target httplib_server" >&2; exit 1; }
[[ -x $tmon_server ]] || { echo "missing $tmon_server: cmake --build $build --target tmon-server" >&2; exit 1; }

work=$(mktemp -d /tmp/tmon-bench-http.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # url, name, log
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "$2 did not answer $1; its log:" >&2; cat "$3" >&2; exit 1
}

# --- tmon-server on a temp SQLite db, one run with a few keys ------------------------------
tmon_port=$(free_port)
"$tmon_server" --host 127.0.0.1 --port "$tmon_port" --storage sqlite --db "$work/bench.db" >"$work/tmon.log" 2>&1 &
pids+=($!)
tmon_url="http://127.0.0.1:$tmon_port"
wait_http "$tmon_url/health" tmon-server "$work/tmon.log"

run_id=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"bench-http","total_steps":1000}' \
  "$tmon_url/api/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 - "$work/points.json" <<'PY'
import json, math, sys
points = [{"step": s, "metrics": {"loss": 2.0 * math.exp(-s / 40) + 0.05, "acc": 1 - math.exp(-s / 30),
                                  "lr": 0.001 * 0.5 ** (s // 25), "grad_norm": 1.0 / (1 + s)}}
          for s in range(100)]
json.dump({"points": points}, open(sys.argv[1], "w"))
PY
curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$work/points.json" \
  "$tmon_url/api/runs/$run_id/metrics" >/dev/null
latest_path="/api/runs/$run_id/metrics/latest"
curl -sf "$tmon_url/health" >"$work/health.json"
curl -sf "$tmon_url$latest_path" >"$work/latest.json"

# --- the peers answer those exact bytes -----------------------------------------------------
for body in "$work/health.json" "$work/latest.json"; do
  if grep -q "['\$\\\\]" "$body"; then echo "body $body has a character nginx's return would mangle" >&2; exit 1; fi
done
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
$( [[ $(id -u) == 0 ]] && echo "user root root;" )
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    default_type application/json;
    location = /health { return 200 '$(cat "$work/health.json")'; }
    location = $latest_path { return 200 '$(cat "$work/latest.json")'; }
  }
}
CONF
nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
pids+=($!)
nginx_url="http://127.0.0.1:$nginx_port"
wait_http "$nginx_url/health" nginx "$work/nginx/error.log"

httplib_port=$(free_port)
"$httplib_server" --port "$httplib_port" --run-id "$run_id" --health "$work/health.json" \
  --latest "$work/latest.json" >"$work/httplib.log" 2>&1 &
pids+=($!)
httplib_url="http://127.0.0.1:$httplib_port"
wait_http "$httplib_url/health" cpp-httplib "$work/httplib.log"

for url in "$nginx_url" "$httplib_url"; do
  for path in /health "$latest_path"; do
    curl -sf "$url$path" | cmp -s - "$work/$([[ $path == /health ]] && echo health || echo latest).json" ||
      { echo "$url$path does not answer the same bytes as tmon-server" >&2; exit 1; }
  done
done

# --- load ------------------------------------------------------------------------------------
# wrk prints latency with a unit (us, ms, s); normalise to ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
results="$work/results.tsv"
measure() {  # server, route label, url
  local out="$work/wrk.out"
  # In the background so a signal stops the script at once; cleanup stops wrk too.
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$3" >"$out" 2>&1 &
  pids+=($!)
  wait $!
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { for (i = 3; i <= NF; i++) n += $i + 0 } END { print n + 0 }' "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rps" "$p50" "$p99" "$errors" >>"$results"
  printf '  %-12s %-16s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  errors %s\n' "$1" "$2" "$rps" "$p50" "$p99" "$errors"
}

echo "wrk -t$threads -c$connections -d${duration}s --latency, $(nproc) cores; run $run_id"
for ((round = 1; round <= repeat; round++)); do
  for route in health latest; do
    path=$([[ $route == health ]] && echo /health || echo "$latest_path")
    label=$([[ $route == health ]] && echo /health || echo metrics/latest)
    measure nginx "$label" "$nginx_url$path"
    measure cpp-httplib "$label" "$httplib_url$path"
    measure tmon "$label" "$tmon_url$path"
  done
done

echo
python3 - "$results" <<'PY'
import sys
from statistics import median
runs = {}
for line in open(sys.argv[1]):
    server, route, rps, p50, p99, errors = line.rstrip("\n").split("\t")
    runs.setdefault((server, route), []).append((float(rps), float(p50), float(p99), int(errors)))
rows = [(server, route, median(r[0] for r in rs), median(r[1] for r in rs), median(r[2] for r in rs),
         sum(r[3] for r in rs)) for (server, route), rs in runs.items()]
if len(next(iter(runs.values()))) > 1:
    print(f"medians of {len(next(iter(runs.values())))} interleaved runs; errors summed")
nginx = {r[1]: r[2] for r in rows if r[0] == "nginx"}
targets = {"/health": 0.7, "metrics/latest": 0.5}
print(f"{'server':<12} {'route':<15} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs nginx':>9}  target")
for server, route, rps, p50, p99, errors in rows:
    ratio = rps / nginx[route] if nginx.get(route) else 0.0
    verdict = ""
    if server == "tmon":
        ok = ratio >= targets[route] and p99 <= 10.0 and errors == 0
        verdict = f">= {targets[route]}x, p99 <= 10 ms: {'met' if ok else 'MISSED'}"
    print(f"{server:<12} {route:<15} {rps:>10.0f} {p50:>8.3f} {p99:>8.3f} {errors:>7} {ratio:>8.2f}x  {verdict}")
PY

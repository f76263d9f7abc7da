#!/usr/bin/env bash
# curl against a real tmon-server: create a run, post metrics, read them back,
# and the error statuses a shell user meets. Usage: curl_test.sh path/to/tmon-server
set -euo pipefail

server_bin=$1
tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$server_bin" --storage sqlite --db "$tmp/curl.db" --port 0 --sample-ms 0 > "$tmp/out.log" 2> "$tmp/err.log" &
server_pid=$!
for _ in $(seq 100); do grep -q "http://" "$tmp/out.log" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$tmp/out.log" | head -1)
[[ -n $base ]] || { echo "tmon-server printed no URL"; cat "$tmp/err.log"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
# status METHOD PATH [BODY] -> prints the HTTP status, body to $tmp/body
status() {
  local args=(-s -o "$tmp/body" -w '%{http_code}' -X "$1" "$base$2")
  if [[ $# -ge 3 ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
  curl "${args[@]}"
}
expect() {  # expect CODE METHOD PATH [BODY]
  local want=$1; shift
  local got; got=$(status "$@")
  [[ $got == "$want" ]] || fail "$* -> $got, expected $want: $(cat "$tmp/body")"
}
field() { python3 -c "import json,sys; d=json.load(open('$tmp/body')); print(eval('d' + sys.argv[1]))" "$1"; }

expect 200 GET /health
[[ $(field '["status"]') == ok ]] || fail "health status"

expect 200 POST /api/runs '{"name":"curl-run","config":{"lr":0.1},"total_steps":100}'
run_id=$(field '["id"]')
[[ $run_id == run_* ]] || fail "run id '$run_id'"

expect 200 POST "/api/runs/$run_id/metrics" '{"points":[{"step":1,"metrics":{"loss":0.9}},{"step":2,"metrics":{"loss":0.7,"acc":0.5}}]}'
[[ $(field '["accepted"]') == 3 ]] || fail "accepted count"
expect 200 POST "/api/runs/$run_id/metrics" '{"step":3,"metrics":{"loss":0.5}}'

expect 200 GET "/api/runs/$run_id/metrics?keys=loss"
[[ $(field '["series"]["loss"]["steps"]') == "[1, 2, 3]" ]] || fail "loss steps: $(cat "$tmp/body")"
[[ $(field '["series"]["loss"]["values"][2]') == 0.5 ]] || fail "loss value"
expect 200 GET "/api/runs/$run_id/metrics/latest"
[[ $(field '["step"]') == 3 ]] || fail "latest step"
expect 200 GET "/api/runs/$run_id"
[[ $(field '["last_step"]') == 3 ]] || fail "last_step"

csv_lines=$(curl -sf "$base/api/runs/$run_id/export?format=csv" | wc -l)
[[ $csv_lines == 5 ]] || fail "csv has $csv_lines lines, expected header + 4"

expect 400 POST "/api/runs/$run_id/metrics" '{"step":1,'
expect 400 POST "/api/runs/$run_id/metrics" '{"step":1,"metrics":{"loss":NaN}}'
expect 422 POST "/api/runs/$run_id/metrics" '{"step":4,"metrics":{"loss":"low"}}'
expect 422 POST "/api/runs/$run_id/metrics" '{"step":-4,"metrics":{"loss":1}}'
expect 422 POST /api/runs '{"name":""}'
expect 404 POST /api/runs/run_000000000000/metrics '{"step":1,"metrics":{"loss":1}}'
expect 404 GET /api/runs/run_000000000000
expect 404 GET /api/no/such/route
expect 405 DELETE /api/runs
[[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary 'name=x' "$base/api/runs") == 415 ]] || fail "415"
expect 200 PUT "/api/runs/$run_id" '{"status":"completed"}'
expect 409 PUT "/api/runs/$run_id" '{"status":"running"}'
[[ $(field '["error"]') == conflict ]] || fail "409 kind"

# The rejected writes changed nothing.
expect 200 GET "/api/runs/$run_id/metrics?keys=loss"
[[ $(field '["series"]["loss"]["total"]') == 3 ]] || fail "a rejected write changed the series"

kill -TERM "$server_pid"
wait "$server_pid" || fail "tmon-server exited non-zero on SIGTERM"
server_pid=
echo "curl_test: ok"

#!/usr/bin/env bash
# The real tmon-server binary against hostile requests (curl as the client) and
# its hardening flags: --allowed-host, --limit, --cors-origin, and clear start-up
# errors for bad paths. Usage: cli_hardening_test.sh path/to/tmon-server
set -euo pipefail

server_bin=$1
tmp=$(mktemp -d)
server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=
}
cleanup() { stop_server; chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $tmp/err.log ]] && tail -20 "$tmp/err.log"; exit 1; }

start_server() {  # start_server ARGS... -> sets base
  "$server_bin" --port 0 --sample-ms 0 "$@" > "$tmp/out.log" 2> "$tmp/err.log" &
  server_pid=$!
  for _ in $(seq 100); do grep -q "http://" "$tmp/out.log" 2>/dev/null && break; sleep 0.1; done
  base=$(grep -o 'http://[0-9.:]*' "$tmp/out.log" | head -1)
  [[ -n $base ]] || fail "tmon-server printed no URL"
  hostport=${base#http://}
}
code() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
expect() {  # expect CODE CURL_ARGS...
  local want=$1; shift
  local got; got=$(code "$@")
  [[ $got == "$want" ]] || fail "curl $* -> $got, expected $want: $(head -c 300 "$tmp/body")"
}
json=(-H 'Content-Type: application/json')

# ---- deep JSON, bad media types, Origin, Host against the default server -----
start_server --storage jsonl --db "$tmp/store"
python3 -c "import sys; sys.stdout.write('[' * 1000000)" > "$tmp/deep.json"
expect 400 "${json[@]}" --data-binary "@$tmp/deep.json" "$base/api/runs"
grep -q "nested deeper than 64" "$tmp/body" || fail "deep body: $(cat "$tmp/body")"
expect 400 "${json[@]}" --data-binary "@$tmp/deep.json" "$base/api/runs/no_such_run/metrics"
expect 400 "${json[@]}" --data-binary "@$tmp/deep.json" "$base/api/v1/metrics/layerwise"
expect 200 "$base/health"

expect 415 -H 'Content-Type: text/plain;charset=json' --data-binary '{"name":"x"}' "$base/api/runs"
expect 415 -H 'Content-Type: multipart/form-data; boundary=json' --data-binary '{"name":"x"}' "$base/api/runs"
expect 403 "${json[@]}" -H 'Origin: http://evil.example' --data-binary '{"name":"x"}' "$base/api/runs"
expect 421 -H 'Host: attacker.example' "$base/api/runs"
expect 421 -H 'Host: attacker.example' "$base/"
expect 200 -H "Origin: http://$hostport" "${json[@]}" --data-binary '{"name":"ok","config":{"a":{"b":1}}}' "$base/api/runs"
run_id=$(python3 -c "import json; print(json.load(open('$tmp/body'))['id'])")
expect 200 "$base/api/runs"
python3 -c "import json; d=json.load(open('$tmp/body')); assert d['total'] == 1, d" || fail "a refused write was stored"
stop_server

# The jsonl store reopens: nothing accepted above can make it unopenable.
start_server --storage jsonl --db "$tmp/store"
expect 200 "$base/api/runs/$run_id"
stop_server

# ---- flags -----------------------------------------------------------------------
start_server --storage memory --allowed-host tmon.internal,proxy.internal --limit name_bytes=4 \
  --cors-origin https://dash.example
expect 200 -H 'Host: tmon.internal' "$base/health"
expect 200 -H 'Host: proxy.internal:443' "$base/health"
expect 421 -H 'Host: other.internal' "$base/health"
expect 422 "${json[@]}" --data-binary '{"name":"toolong"}' "$base/api/runs"
grep -q "longer than 4 bytes" "$tmp/body" || fail "--limit name_bytes: $(cat "$tmp/body")"
expect 200 "${json[@]}" -H 'Origin: https://dash.example' --data-binary '{"name":"ok"}' "$base/api/runs"
stop_server

# ---- start-up errors say what is wrong, exit 2 ------------------------------------
set +e
"$server_bin" --limit no_such_limit=1 > /dev/null 2> "$tmp/err.log"; rc=$?
[[ $rc == 2 ]] && grep -q "json_depth" "$tmp/err.log" || fail "--limit with an unknown name: rc $rc"
"$server_bin" --limit json_depth=100000 > /dev/null 2> "$tmp/err.log"; rc=$?
[[ $rc == 2 ]] || fail "--limit json_depth past 1000 accepted"
"$server_bin" --db "" > /dev/null 2> "$tmp/err.log"; rc=$?
[[ $rc == 2 ]] && grep -q "empty path" "$tmp/err.log" || fail "--db '': rc $rc $(cat "$tmp/err.log")"
# A path that cannot be a folder (root writes through read-only modes, so a file stands in).
touch "$tmp/afile"
for storage in sqlite jsonl; do
  timeout 10 "$server_bin" --port 0 --storage $storage --db "$tmp/afile/sub" > /dev/null 2> "$tmp/err.log"; rc=$?
  [[ $rc == 2 ]] && grep -q "afile/sub" "$tmp/err.log" || fail "unusable path ($storage): rc $rc $(cat "$tmp/err.log")"
done
if [[ $(id -u) != 0 ]]; then
  mkdir -p "$tmp/ro" && chmod a-w "$tmp/ro"
  for storage in sqlite jsonl; do
    timeout 10 "$server_bin" --port 0 --storage $storage --db "$tmp/ro/sub" > /dev/null 2> "$tmp/err.log"; rc=$?
    [[ $rc == 2 ]] && grep -q "ro/sub" "$tmp/err.log" || fail "read-only folder ($storage): rc $rc $(cat "$tmp/err.log")"
  done
fi
set -e
echo "cli_hardening_test: ok"

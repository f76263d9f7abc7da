#!/usr/bin/env bash
# The one command that installs what is missing, builds, and runs every test:
#   scripts/test.sh
# Quiet on success: one line per stage, then "N passed, N failed". A failing
# stage prints the tail of its log (full logs in build-test/logs/).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${TMON_TEST_BUILD:-$root/build-test}
jobs=${TMON_JOBS:-$(nproc)}
logs=$build/logs
mkdir -p "$logs"
passed=0 failed=0

stage() {  # stage NAME CMD...
  local name=$1; shift
  local start=$SECONDS
  if "$@" >"$logs/$name.log" 2>&1; then
    printf 'ok    %-22s %4ds\n' "$name" $((SECONDS - start))
    passed=$((passed + 1))
  else
    printf 'FAIL  %-22s %4ds  (log: %s)\n' "$name" $((SECONDS - start)) "$logs/$name.log"
    tail -n 60 "$logs/$name.log" | sed 's/^/      /'
    failed=$((failed + 1))
  fi
}

scripts/install_deps.sh test || { echo "installing dependencies failed"; exit 1; }

stage single-include-fresh python3 scripts/amalgamate.py --check
stage format scripts/check_format.sh
# Each public header compiles on its own; each test case carries its area's tag.
stage headers env TMON_JOBS="$jobs" scripts/check_headers.sh
stage test-tags python3 scripts/tag_areas.py
stage configure cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTMON_SANITIZE=ON -DTMON_BUILD_BENCHMARKS=OFF
stage build cmake --build "$build" -j "$jobs"
# Sanitizers: any report is a failure, leaks included.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The area binaries, not each case again in its own process (label case:
# `ctest --test-dir build-test -R "marked best"` runs one by its sentence).
stage ctest ctest --test-dir "$build" --output-on-failure -j "$jobs" -LE case
stage packaging tests/packaging/run.sh "$build/packaging"
# libFuzzer (clang, ASan+UBSan): every parser 10 s from its seed corpus.
stage fuzz env TMON_FUZZ_BUILD="$build/fuzz" TMON_JOBS="$jobs" scripts/fuzz.sh 10
# ThreadSanitizer: every area's tests, built against single_include/ (so the suite runs once
# against include/ above and once against the single header here).
stage tsan tests/tsan/run.sh "$build/tsan" "$jobs"
if [[ -f dashboard/package.json ]]; then
  stage npm-ci npm --prefix dashboard ci --no-audit --no-fund
  stage dashboard-embed-fresh npm --prefix dashboard run --silent check-embed
  stage dashboard-unit npm --prefix dashboard test --silent
  TMON_SERVER_BIN="$build/examples/tmon-server" stage dashboard-e2e npm --prefix dashboard run --silent e2e
fi

echo "$passed passed, $failed failed"
((failed == 0))

#!/usr/bin/env bash
# ThreadSanitizer build and run of the test executables where threads meet:
# the monitor's queue and flusher (test_monitor), every store under concurrent
# writers and readers (test_storage), the Asio transport with many connections
# (test_transport), the server's REST + WebSocket fan-out (test_server), the
# remote client's journal and sender against a live server (test_client),
# and the small test_core and test_sampler.
# Whole executables, not a tag filter: they run in about a minute under TSan;
# the build is most of this stage's time.
#
# Built against the single header (TMON_TEST_SINGLE_INCLUDE, tests/CMakeLists.txt):
# the ASan stage runs the suite against include/, this one against single_include/,
# and the ctest single_include_only fails if any test object opened include/tmon/.
#
#   tests/tsan/run.sh [BUILD_DIR] [JOBS]      (default build-tsan, 2)
#
# Any TSan report fails the run (halt_on_error). tests/tsan/suppressions.txt
# may name known-benign races inside third-party libraries only, each with its
# reason; never tmon's own code.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${1:-$root/build-tsan}
jobs=${2:-2}
areas=(monitor storage transport server client core sampler)
# The tests compile the committed single_include/: stale, they would not test include/.
python3 scripts/amalgamate.py --check

# clang's TSan (libclang-rt-14-dev) by default; GCC's works too (CXX=g++, libtsan2).
cxx=${CXX:-$(command -v clang++ || echo g++)}
generator=()
[[ -f $build/CMakeCache.txt ]] || ! command -v ninja >/dev/null || generator=(-G Ninja)

start=$SECONDS
# -g1 (line tables): TSan's stacks keep file:line, and the build is ~20 % faster than with -g.
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DTMON_SANITIZE=thread -DTMON_BUILD_EXAMPLES=OFF -DTMON_BUILD_BENCHMARKS=OFF \
    -DTMON_FUZZ=OFF -DTMON_TEST_PER_CASE=OFF -DTMON_TEST_SINGLE_INCLUDE=ON
cmake --build "$build" -j "$jobs" --target "${areas[@]/#/test_}"
echo "tsan: configured and built in $((SECONDS - start)) s"

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$root/tests/tsan/suppressions.txt ${TSAN_OPTIONS:-}"
start=$SECONDS
# One at a time: the tests carry timing expectations that TSan's 5-15x
# slowdown already stretches; two at once on two cores would stretch them more.
regex="^($(IFS='|'; echo "${areas[*]}")|single_include_only)\$"
ctest --test-dir "$build" -R "$regex" --output-on-failure -j 1
echo "tsan: ran in $((SECONDS - start)) s"

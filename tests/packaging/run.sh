#!/usr/bin/env bash
# Packaging tests: the ways users consume tmon must each build and run a program.
#   tests/packaging/run.sh WORKDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=${1:-$(mktemp -d)}
rm -rf "$work" && mkdir -p "$work"
jobs=$(nproc)

echo "== install + find_package(tmon)"
cmake -S "$src" -B "$work/lib" -DTMON_BUILD_TESTS=OFF -DTMON_BUILD_EXAMPLES=OFF -DTMON_BUILD_BENCHMARKS=OFF
cmake --install "$work/lib" --prefix "$work/prefix"
cmake -S "$here/cmake_import" -B "$work/import" -DCMAKE_PREFIX_PATH="$work/prefix"
cmake --build "$work/import" -j "$jobs"
"$work/import/consumer"

echo "== add_subdirectory"
cmake -S "$here/cmake_subdir" -B "$work/subdir" -DTMON_SOURCE_DIR="$src"
cmake --build "$work/subdir" -j "$jobs"
"$work/subdir/consumer"

echo "== single_include/tmon/tmon.hpp"
cmake -S "$here/single_include" -B "$work/single" -DTMON_SOURCE_DIR="$src"
cmake --build "$work/single" -j "$jobs"
"$work/single/consumer"

echo "== meson"
meson setup "$work/meson" "$src" -Dtests=false -Dexamples=true >/dev/null
meson compile -C "$work/meson" tmon-server
"$work/meson/examples/tmon-server" --help | grep -q -- --port
echo "packaging ok"

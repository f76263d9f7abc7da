#!/usr/bin/env bash
# Packaging tests: every way README's "Using it in your build" offers, each from a fresh
# project, with the README's own blocks (readme_snippet.py reads them, so the README
# cannot drift from what works):
#   versions agree; install + find_package (README, and per component: a light-only
#   program must not link SQLite or zlib); add_subdirectory; FetchContent and a meson
#   subproject from a local clone tagged v0.1.0; pkg-config from the CMake and the meson
#   install; the single header with g++ and clang++ (and its #error below C++20);
#   Conan's test_package against the CMake install; tmon::compiled (separate compilation)
#   by add_subdirectory and installed; meson's tmon-compiled as a subproject and installed.
#
#   tests/packaging/run.sh [WORKDIR]      (TMON_JOBS: parallel jobs)
#
# Consumers build Release with -O0 where the command is not the README's: they prove
# that things build, link and run, not how fast.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=${1:-$(mktemp -d)}
work=$(mkdir -p "$work" && cd "$work" && pwd)
rm -rf "${work:?}"/*
jobs=${TMON_JOBS:-$(nproc)}
fast=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O0)
origin=$work/origin/tmon.git     # "git clone URL" makes ./tmon, as from the public URL
url=file://$origin
export HOME=$work/home            # the README installs into "$HOME/.local"
mkdir -p "$HOME"
start=$SECONDS

say() { printf '== %-58s %4ds\n' "$*" $((SECONDS - start)); }
fail() { echo "FAIL: $*" >&2; exit 1; }
snippet() { python3 "$here/readme_snippet.py" "$src/README.md" "$1" "$url"; }
# contains REGEX COMMAND...: COMMAND succeeds and its output matches. Read whole first: with
# grep -q on a pipe, COMMAND can die of SIGPIPE once grep has quit, which fails under pipefail.
contains() {
    local out
    out=$("${@:2}") || return 1
    grep -qE -- "$1" <<<"$out"
}
# links_none BINARY REGEX: the program must not be linked against those libraries.
links_none() {
    if ldd "$1" | grep -E "$2"; then fail "$1 links $2"; fi
}
# compiled_only OBJECT: separate compilation, the consumer's own object (server_core.cpp's)
# calls the compiled server and holds none of the heavy templates.
compiled_only() {
    [[ -n $1 && -f $1 ]] || fail "the tmon::compiled consumer's object not found"
    local symbols
    symbols=$(nm -C "$1")  # not piped into grep -q: under pipefail nm's SIGPIPE would fail the check
    grep -q ' U tmon::server<' <<<"$symbols" || fail "the tmon::compiled consumer does not call the compiled server"
    if grep -E ' [TW] tmon::(server|detail::monitor_core|detail::memory_state)<' <<<"$symbols"; then
        fail "the tmon::compiled consumer compiled the server, the monitor or the store itself"
    fi
}

# The README's example, made a program: the functions it leaves to the reader.
readme_example() {
    printf '%s\n' '#include <string>' 'static double train_step() { return 0.5; }' \
        'static double lr(long step) { return 0.1 / double(step + 1); }' \
        'static std::string save(const char* path) { return path; }'
    snippet example
}

say "one version: version.hpp, vcpkg.json, meson, the single header"
version=$(python3 -c 'import re,sys; t=open(sys.argv[1]).read(); print(".".join(re.search(r"#define TMON_VERSION_" + k + r" (\d+)", t).group(1) for k in ("MAJOR","MINOR","PATCH")))' "$src/include/tmon/version.hpp")
vcpkg_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$src/ports/tmon/vcpkg.json")
[[ $vcpkg_version == "$version" ]] || fail "ports/tmon/vcpkg.json says $vcpkg_version, include/tmon/version.hpp $version"
python3 "$src/scripts/amalgamate.py" --out "$work/single/single_include/tmon/tmon.hpp"
head -1 "$work/single/single_include/tmon/tmon.hpp" | grep -q "^// tmon $version:" || fail "single header banner lacks the version"
grep -q "^// MIT License" "$work/single/single_include/tmon/tmon.hpp" || fail "single header banner lacks the licence"

# A clone tagged v0.1.0 of the tree under test (committed or not), for the README's URL.
say "local origin with tag v0.1.0"
mkdir -p "$origin"
(cd "$src" && git ls-files -z -c -o --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$origin" -xf -
git -C "$origin" init -q
git -C "$origin" add -A
git -C "$origin" -c user.name=tmon -c user.email=tmon@localhost commit -q -m "tmon $version"
git -C "$origin" tag v0.1.0

# README "CMake, installed", verbatim: builds tmon-server (the longest step), so it runs
# in the background while the header-only install below is exercised.
say "README install (background: builds tmon-server)"
mkdir -p "$work/user"
(cd "$work/user" && bash -euo pipefail -c "$(snippet install)") >"$work/readme-install.log" 2>&1 &
install_pid=$!

# meson's tmon-compiled (separate compilation) as a subproject through the README's wrap,
# then installed: compiles the library, so it runs in the background too (one job).
mc=$work/meson-compiled
meson_compiled() {
    mkdir -p "$mc/subprojects"
    snippet meson-wrap >"$mc/subprojects/tmon.wrap"
    cp "$here/meson_subproject/meson.build" "$mc/"
    cp -r "$here/consumers" "$mc/"
    meson setup "$mc/build" "$mc" -Doptimization=0 --prefix="$mc/prefix"
    meson compile -C "$mc/build" -j 1
    "$mc/build/consumer-compiled"
    "$mc/build/server-compiled"
    compiled_only "$(find "$mc/build/server-compiled.p" -name '*server_core.cpp.o')"
    # The option installs the library built above (nothing recompiles) and tmon-compiled.pc.
    meson configure "$mc/build" -Dtmon:compiled=true
    meson install -C "$mc/build" | tee "$mc/install.log"
    if grep -q 'Compiling C++ object' "$mc/install.log"; then fail "meson install -Dtmon:compiled=true recompiled"; fi
    [[ -n $(find "$mc/prefix" -name libtmon_compiled.a) ]] || fail "meson did not install libtmon_compiled.a"
    # The light program against the installed .pc: the monitor and memory_store come from the library.
    # shellcheck disable=SC2046  # pkg-config's flags are words
    c++ -std=c++20 -O0 "$here/consumers/light.cpp" -o "$mc/light-pc" \
        $(PKG_CONFIG_PATH=$mc/prefix/share/pkgconfig pkg-config --cflags --libs tmon-compiled)
    "$mc/light-pc"
}
if command -v meson >/dev/null && command -v ninja >/dev/null; then
    say "meson subproject: dependency('tmon-compiled'), installed (background)"
    (set -euo pipefail; meson_compiled) >"$mc.log" 2>&1 &
    meson_compiled_pid=$!
fi

say "install headers only, find_package per component"
cmake -S "$src" -B "$work/lib" -DTMON_DEVELOPER_MODE=OFF -DTMON_BUILD_SERVER=OFF >/dev/null
cmake --install "$work/lib" --prefix "$work/prefix" >/dev/null
for consumer in light client server_core; do
    cmake -S "$here/cmake_import" -B "$work/import-$consumer" "${fast[@]}" -DCONSUMER=$consumer \
        -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    cmake --build "$work/import-$consumer" -j "$jobs" >/dev/null
    "$work/import-$consumer/consumer"
    links_none "$work/import-$consumer/consumer" libsqlite3
done
links_none "$work/import-light/consumer" 'libz\.'

say "find_package without SQLite: light ok, server refused clearly"
mkdir -p "$work/nosqlite"
printf '%s\n' 'cmake_minimum_required(VERSION 3.20)' 'project(nosqlite CXX)' \
    'find_package(tmon REQUIRED COMPONENTS ${WANT})' >"$work/nosqlite/CMakeLists.txt"
cmake --no-warn-unused-cli -S "$work/nosqlite" -B "$work/nosqlite/light" -DWANT=tmon -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON \
    -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
if cmake -S "$work/nosqlite" -B "$work/nosqlite/server" -DWANT=server -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON \
    -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/nosqlite/server.log" 2>&1; then
    fail "find_package(tmon COMPONENTS server) succeeded without SQLite"
fi
grep -q "tmon::server needs SQLite3" "$work/nosqlite/server.log" || { cat "$work/nosqlite/server.log"; fail "no clear message"; }

say "tmon::compiled built and installed: find_package(tmon COMPONENTS compiled), pkg-config"
cmake -S "$src" -B "$work/lib-compiled" "${fast[@]}" -DTMON_DEVELOPER_MODE=OFF -DTMON_BUILD_SERVER=OFF \
    -DTMON_BUILD_COMPILED=ON >/dev/null
cmake --build "$work/lib-compiled" -j "$jobs" >/dev/null
cmake --install "$work/lib-compiled" --prefix "$work/prefix-compiled" >/dev/null
cmake -S "$here/cmake_import" -B "$work/import-compiled" "${fast[@]}" -DCONSUMER=compiled \
    -DCMAKE_PREFIX_PATH="$work/prefix-compiled" >/dev/null
cmake --build "$work/import-compiled" -j "$jobs" >/dev/null
"$work/import-compiled/consumer"
contains '-DTMON_SEPARATE_COMPILATION.*-ltmon_compiled|-ltmon_compiled.*-DTMON_SEPARATE_COMPILATION' \
    env PKG_CONFIG_PATH="$work/prefix-compiled/share/pkgconfig" pkg-config --cflags --libs tmon-compiled ||
    fail "tmon-compiled.pc lacks the define or the library"

say "vcpkg port's CMake options, features network and sqlite off"
port_options=$(grep -oE -- '-DTMON_[A-Z_]+=[A-Z]+' "$src/ports/tmon/portfile.cmake" | tr '\n' ' ')
[[ $port_options == *TMON_DEVELOPER_MODE=OFF* ]] || fail "portfile options not found"
# shellcheck disable=SC2086  # the options are words
cmake -S "$src" -B "$work/vcpkg-lib" $port_options -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_asio=ON -DCMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON >/dev/null
cmake --install "$work/vcpkg-lib" --prefix "$work/vcpkg-prefix" >/dev/null
installed=$(cd "$work/vcpkg-prefix/share/pkgconfig" && echo *.pc)
[[ $installed == "tmon-jsonl.pc tmon.pc" ]] || fail "port without features installed: $installed"
grep -q 'set(_tmon_installed tmon;jsonl)' "$work/vcpkg-prefix/share/cmake/tmon/tmonConfig.cmake" ||
    fail "port without features: the config offers more than tmon and jsonl"

say "Conan's test_package against the CMake install"
cmake -S "$src/test_package" -B "$work/test_package" "${fast[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/test_package" -j "$jobs" >/dev/null
"$work/test_package/test_package"

say "add_subdirectory (and tmon::compiled: separate compilation)"
cmake -S "$here/cmake_subdir" -B "$work/subdir" "${fast[@]}" -DTMON_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/subdir" -j "$jobs" >/dev/null
"$work/subdir/consumer"
links_none "$work/subdir/consumer" 'libsqlite3|libz\.'
"$work/subdir/consumer-compiled"
"$work/subdir/server-compiled"
compiled_only "$(find "$work/subdir/CMakeFiles/server-compiled.dir" -name server_core.cpp.o)"

say "README FetchContent (GIT_TAG v0.1.0)"
mkdir -p "$work/fetch"
snippet fetchcontent >"$work/fetch/CMakeLists.txt"
readme_example >"$work/fetch/train.cpp"  # the README's target is tmon::server (built, not run: it serves :8000)
cmake -S "$work/fetch" -B "$work/fetch/build" "${fast[@]}" >/dev/null
[[ ! -e $work/fetch/build/_deps/tmon-build/tests ]] || fail "FetchContent built tmon's tests"
cmake --build "$work/fetch/build" -j "$jobs" >/dev/null
contains libsqlite3 ldd "$work/fetch/build/train" || fail "README FetchContent consumer does not link SQLite?"

if command -v meson >/dev/null && command -v ninja >/dev/null; then
    say "README meson subproject (wrap, v0.1.0)"
    mkdir -p "$work/meson/subprojects"
    snippet meson-wrap >"$work/meson/subprojects/tmon.wrap"
    snippet meson-build >"$work/meson/meson.build"
    readme_example >"$work/meson/train.cpp"  # dependency('tmon-server'): built, not run (it serves :8000)
    meson setup "$work/meson/build" "$work/meson" -Doptimization=0 >"$work/meson/setup.log" 2>&1 ||
        { tail -30 "$work/meson/setup.log"; fail "meson setup"; }
    # tmon defines tmon_compiled, built only when something links it.
    targets=$(meson introspect --targets "$work/meson/build" | python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin) if t["build_by_default"]))')
    [[ $targets == train ]] || fail "the meson subproject builds more than the user's target: $targets"
    meson compile -C "$work/meson/build" >/dev/null
    [[ -z $(find "$work/meson/build" -type f -path '*libtmon_compiled*') ]] || fail "the meson subproject built tmon-compiled, which nothing uses"
    contains libsqlite3 ldd "$work/meson/build/train" || fail "README meson consumer does not link SQLite?"
    # Every dependency name the wrap provides resolves (configure only: no more compiling).
    for dep in tmon tmon-sqlite tmon-jsonl tmon-client tmon-server-core tmon-full tmon-compiled; do
        sed -i "s/dependency('[a-z-]*')/dependency('$dep')/" "$work/meson/meson.build"
        meson setup --reconfigure "$work/meson/build" "$work/meson" >/dev/null 2>&1 || fail "meson: dependency('$dep')"
    done
    say "meson subproject: dependency('tmon-compiled') finished (background), its tmon-compiled.pc"
    wait $meson_compiled_pid || { tail -40 "$mc.log"; fail "meson subproject with tmon-compiled"; }
    mpc() { PKG_CONFIG_PATH=$mc/prefix/share/pkgconfig pkg-config "$@" tmon-compiled; }
    cpc() { PKG_CONFIG_PATH=$work/prefix-compiled/share/pkgconfig pkg-config "$@" tmon-compiled; }
    [[ $(mpc --print-requires) == "$(cpc --print-requires)" ]] ||
        fail "meson's tmon-compiled.pc requires $(mpc --print-requires | tr '\n' ' '), CMake's $(cpc --print-requires | tr '\n' ' ')"
    [[ $(mpc --cflags-only-other) == "$(cpc --cflags-only-other)" && $(mpc --libs-only-l) == "$(cpc --libs-only-l)" ]] ||
        fail "meson's tmon-compiled.pc: $(mpc --cflags --libs); CMake's: $(cpc --cflags --libs)"

    say "meson install: pkg-config files"
    meson setup "$work/meson-lib" "$src" -Dtests=false -Dexamples=false --prefix="$work/meson-prefix" >/dev/null
    meson install -C "$work/meson-lib" >/dev/null
    contains -lsqlite3 env PKG_CONFIG_PATH="$work/meson-prefix/share/pkgconfig" pkg-config --libs tmon-server ||
        fail "meson's tmon-server.pc lacks SQLite"
    [[ -z $(find "$work/meson-prefix" -name 'libtmon_compiled*' -o -name tmon-compiled.pc) ]] ||
        fail "meson installed tmon-compiled without -Dcompiled=true"
else
    echo "meson/ninja missing: scripts/install_deps.sh test installs them" >&2
    exit 1
fi

say "single header, g++ and clang++ (README line), and its #error below C++20"
# single_include/tmon/ mirrors the umbrellas: README's example includes tmon/server.hpp (all of tmon)
readme_example >"$work/single/train.cpp"
line=$(snippet single-header)
[[ $line == "c++ "* ]] || fail "README single-header line does not start with c++"
(cd "$work/single" && ${line/#c++ /g++ } -O0 && mv train train-gcc) >"$work/single/gcc.log" 2>&1 &
gcc_pid=$!
if command -v clang++ >/dev/null; then
    (cd "$work/single" && mkdir -p clang && cd clang && ln -sf ../single_include ../train.cpp . &&
        ${line/#c++ /clang++ } -O0) >"$work/single/clang.log" 2>&1 || { cat "$work/single/clang.log"; fail "clang++"; }
fi
wait $gcc_pid || { cat "$work/single/gcc.log"; fail "g++"; }
# The light one file holds no SQLite, Asio or RapidJSON (light.cpp #errors if it does).
g++ -std=c++20 -O0 -I "$work/single/single_include" "$here/consumers/light.cpp" -o "$work/single/light" -lfmt -pthread -ldl
"$work/single/light"
printf '#include <tmon/tmon.hpp>\nint main() {}\n' >"$work/single/cxx17.cpp"
for cxx in g++ clang++; do
    command -v $cxx >/dev/null || continue
    if $cxx -std=c++17 -I "$work/single/single_include" -c "$work/single/cxx17.cpp" -o /dev/null 2>"$work/single/cxx17.log"; then
        fail "$cxx -std=c++17 compiled the single header"
    fi
    [[ $(grep -c 'error:' "$work/single/cxx17.log") == 1 ]] && grep -q 'tmon needs C++20' "$work/single/cxx17.log" ||
        { cat "$work/single/cxx17.log"; fail "$cxx -std=c++17: not one clear #error"; }
done

say "README install finished: tmon-server in bin/, README consumer (tmon::server + sqlite_store)"
wait $install_pid || { tail -40 "$work/readme-install.log"; fail "README install"; }
contains --port "$HOME/.local/bin/tmon-server" --help || fail "installed tmon-server --help"
mkdir -p "$work/user/app"
snippet cmake-consumer >"$work/user/app/CMakeLists.txt"
readme_example >"$work/user/app/train.cpp"
(cd "$work/user/app" && bash -euo pipefail -c "$(snippet cmake-consumer-build)") >"$work/user/app.log" 2>&1 ||
    { tail -40 "$work/user/app.log"; fail "README find_package consumer"; }
contains libsqlite3 ldd "$work/user/app/build/train" || fail "README consumer does not link SQLite?"

say "README pkg-config (the CMake install)"
mkdir -p "$work/pc" "$work/pc-light"
readme_example >"$work/pc/train.cpp"
(cd "$work/pc" && bash -euo pipefail -c "$(snippet pkg-config | sed 's/ -O2 / -O0 /')") || fail "README pkg-config line"
contains libsqlite3 ldd "$work/pc/train" || fail "README pkg-config consumer does not link SQLite?"
# The same line for the light core: runs, and links neither SQLite nor zlib.
cp "$here/consumers/light.cpp" "$work/pc-light/train.cpp"
(cd "$work/pc-light" && bash -euo pipefail -c "$(snippet pkg-config | sed 's/ -O2 / -O0 /; s/--libs tmon-server)/--libs tmon)/')") ||
    fail "README pkg-config line with tmon"
"$work/pc-light/train"
links_none "$work/pc-light/train" 'libsqlite3|libz\.'
contains -lsqlite3 env PKG_CONFIG_PATH="$HOME/.local/share/pkgconfig" pkg-config --libs tmon-server || fail "tmon-server.pc lacks SQLite"
if contains -lsqlite3 env PKG_CONFIG_PATH="$HOME/.local/share/pkgconfig" pkg-config --libs tmon-client; then
    fail "tmon-client.pc pulls SQLite"
fi

say "packaging ok"

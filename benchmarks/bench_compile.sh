#!/usr/bin/env bash
# Compile time of a user's translation unit, against baselines compiled in the same run:
#   light        tmon/tmon.hpp + a monitor over memory_store (a training loop's TU)
#   light_sep    the same, separate compilation (TMON_SEPARATE_COMPILATION, tmon::compiled)
#   server       tmon/server.hpp + server<sqlite_store> (README's example)
#   server_sep   the same, separate compilation: linked against src/*.cpp compiled once
#   single light the light TU through single_include/tmon/tmon.hpp (generated fresh)
#   floors       server_lib: src/server.cpp alone, the server<sqlite_store> a header-only
#                server TU compiles too (its floor); floor_sep: the light TU plus
#                sqlite_store.hpp and server_config.hpp in separate compilation, what a TU
#                would still parse if server.hpp held declarations only (server_sep's floor)
#   baselines    whichever is installed: spdlog hello (libspdlog-dev), fmt hello,
#                <asio.hpp> alone, nlohmann/json (nlohmann-json3-dev), cpp-httplib hello
#
#   benchmarks/bench_compile.sh [RUNS]     (default 3; CXX, CXXFLAGS as usual)
#
# Each TU is compiled to an object file (-std=c++20 -O2 unless CXXFLAGS says otherwise)
# RUNS times, round-robin over the TUs; the figure is the median of user+sys CPU seconds,
# which a busy machine disturbs far less than wall time. Ratios are against spdlog hello
# (or fmt hello when spdlog is not installed) and <asio.hpp> alone. The separate-compilation
# library itself (src/*.cpp, compiled once per build of tmon) is timed once, "compiled_lib".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-3}
cxx=${CXX:-g++}
flags=(-std=c++20 ${CXXFLAGS:--O2})
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 scripts/amalgamate.py --out "$work/single/tmon/tmon.hpp"
# The light training TU: tests/packaging's, which also checks that nothing heavy is included.
cp tests/packaging/consumers/light.cpp "$work/light.cpp"
# README's example with the functions it leaves to the reader.
{
    printf '%s\n' '#include <string>' 'static double train_step() { return 0.5; }' \
        'static double lr(long step) { return 0.1 / double(step + 1); }' \
        'static std::string save(const char* path) { return path; }'
    python3 tests/packaging/readme_snippet.py README.md example
} >"$work/server.cpp"
{
    printf '%s\n' '#include <tmon/storage/sqlite_store.hpp>' '#include <tmon/server/server_config.hpp>'
    grep -v -e 'SQLITE_VERSION' -e '^#error' -e '^#endif' tests/packaging/consumers/light.cpp
} >"$work/floor_sep.cpp"
cat >"$work/fmt_hello.cpp" <<'EOF'
#include <fmt/format.h>
int main() { fmt::print("hello {}\n", 42); }
EOF
cat >"$work/spdlog_hello.cpp" <<'EOF'
#include <spdlog/spdlog.h>
int main() { spdlog::info("hello {}", 42); }
EOF
cat >"$work/asio.cpp" <<'EOF'
#include <asio.hpp>
int main() { asio::io_context io; io.run(); }
EOF
cat >"$work/nlohmann.cpp" <<'EOF'
#include <nlohmann/json.hpp>
int main() { auto j = nlohmann::json::parse(R"({"a": 1})"); return j["a"].get<int>() == 1 ? 0 : 1; }
EOF
cat >"$work/httplib.cpp" <<'EOF'
#include <httplib.h>
int main() { httplib::Server s; s.Get("/", [](const httplib::Request&, httplib::Response& r) { r.set_content("hi", "text/plain"); }); }
EOF

# Each TU is "NAME|FILE|FLAGS". The runs go round-robin over every TU (not each TU's
# runs back to back), so a change of load on a shared machine falls on all of them.
sep=-DTMON_SEPARATE_COMPILATION
tus=("light|$work/light.cpp|-Iinclude"
     "light_sep|$work/light.cpp|-Iinclude $sep"
     "server|$work/server.cpp|-Iinclude -DASIO_STANDALONE"
     "server_sep|$work/server.cpp|-Iinclude -DASIO_STANDALONE $sep"
     "single_light|$work/light.cpp|-I$work/single"
     "floor_sep|$work/floor_sep.cpp|-Iinclude $sep")
# Debian's spdlog is the compiled library over the system fmt: its pkg-config flags say so.
[[ -d /usr/include/spdlog ]] && tus+=("spdlog_hello|$work/spdlog_hello.cpp|$(pkg-config --cflags spdlog 2>/dev/null)")
tus+=("fmt_hello|$work/fmt_hello.cpp|" "asio|$work/asio.cpp|-DASIO_STANDALONE")
[[ -f /usr/include/nlohmann/json.hpp ]] && tus+=("nlohmann|$work/nlohmann.cpp|")
[[ -f /usr/include/httplib.h ]] && tus+=("httplib|$work/httplib.cpp|")

declare -A times failed
for ((i = 0; i < runs; ++i)); do
    for tu in "${tus[@]}"; do
        IFS='|' read -r name file extra <<<"$tu"
        [[ -z ${failed[$name]:-} ]] || continue
        # shellcheck disable=SC2086  # extra holds several flags
        if /usr/bin/time -f '%U %S' -o "$work/time" "$cxx" "${flags[@]}" $extra -c "$file" -o "$work/out.o" \
            2>"$work/$name.err"; then
            times[$name]+="$(awk '{printf "%.2f", $1 + $2}' "$work/time") "
        else
            failed[$name]=1
        fi
    done
done
declare -A secs
order=(light light_sep server server_lib server_sep floor_sep single_light spdlog_hello fmt_hello asio nlohmann httplib compiled_lib)
for tu in "${tus[@]}"; do
    name=${tu%%|*}
    [[ -z ${failed[$name]:-} ]] || continue
    secs[$name]=$(printf '%s\n' ${times[$name]} | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
done

# tmon::compiled's sources, once (two at a time), and the separate-compilation TUs linked against them.
mkdir -p "$work/lib"
for f in src/*.cpp; do
    /usr/bin/time -f '%U %S' -o "$work/lib/$(basename "$f" .cpp).time" "$cxx" "${flags[@]}" -Iinclude -DASIO_STANDALONE \
        $sep -c "$f" -o "$work/lib/$(basename "$f" .cpp).o" 2>"$work/lib/$(basename "$f" .cpp).err" &
    (($(jobs -r | wc -l) < 2)) || wait -n
done
wait
secs[compiled_lib]=$(cat "$work"/lib/*.time | awk '{s += $1 + $2} END {printf "%.2f", s}')
secs[server_lib]=$(awk '{printf "%.2f", $1 + $2}' "$work/lib/server.time")
"$cxx" "${flags[@]}" -Iinclude -DASIO_STANDALONE $sep -c "$work/server.cpp" -o "$work/server_sep.o"
"$cxx" "$work/server_sep.o" "$work"/lib/*.o -o "$work/server_sep" -lfmt -lsqlite3 -lz -pthread -ldl ||
    { echo "server_sep did not link against src/*.cpp"; exit 1; }
"$cxx" "${flags[@]}" -Iinclude $sep -c "$work/light.cpp" -o "$work/light_sep.o"
"$cxx" "$work/light_sep.o" "$work/lib/memory_store.o" -o "$work/light_sep" -lfmt -pthread -ldl ||
    { echo "light_sep did not link against src/memory_store.cpp"; exit 1; }

hello=spdlog_hello
[[ -n ${secs[spdlog_hello]:-} ]] || hello=fmt_hello
echo "compile time, $cxx ${flags[*]}, median of $runs, CPU seconds (user+sys), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-14s %8s %12s %10s\n' TU seconds "x $hello" "x asio"
for name in "${order[@]}"; do
    s=${secs[$name]:-}
    [[ -n $s ]] || continue
    if [[ $name == compiled_lib ]]; then  # a one-off per build of tmon, not per user TU
        printf '%-14s %8s %12s %10s\n' "$name" "$s" "(once)" ""
        continue
    fi
    printf '%-14s %8s %12s %10s\n' "$name" "$s" \
        "$(awk -v a="$s" -v b="${secs[$hello]:-}" 'BEGIN {if (b > 0) printf "%.1fx", a / b}')" \
        "$(awk -v a="$s" -v b="${secs[asio]:-}" 'BEGIN {if (b > 0) printf "%.1fx", a / b}')"
done
for name in light light_sep server server_sep single_light floor_sep; do
    [[ -n ${secs[$name]:-} ]] || { echo "$name did not compile:"; tail -20 "$work/$name.err"; exit 1; }
done

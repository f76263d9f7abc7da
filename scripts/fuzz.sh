#!/usr/bin/env bash
# Builds tmon's libFuzzer targets (clang, ASan+UBSan) and runs each one for a
# while, starting from its checked-in seed corpus (tests/fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh                 10 s per target (about a minute and a half in all)
#   scripts/fuzz.sh 60              60 s per target
#   scripts/fuzz.sh --long          10 minutes per target
#   scripts/fuzz.sh --keep-going    go on past crashes (libFuzzer -fork), collecting them all
#   scripts/fuzz.sh 30 fuzz_ws_frames fuzz_http_parser    only these
#
# One line per target; exits non-zero if any target crashed, hung, leaked or
# broke an invariant, printing the input that did it (kept in $build/crashes/).
# Inputs that grew coverage accumulate in $build/corpus/, so later runs start
# further on. A crash that is not fixed yet is kept as
# tests/fuzz/corpus/<target>/crash-<what>: each is replayed first, and the
# target fails while it still crashes (fuzzing then goes on from the seeds).
#
# Environment: TMON_FUZZ_BUILD (build folder, default build-fuzz),
# TMON_JOBS (compile jobs, default 2), CXX (a clang++, default clang++).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=10
keep_going=0
targets=()
for arg in "$@"; do
    case $arg in
        --long) seconds=600 ;;
        --keep-going) keep_going=1 ;;
        ''|*[!0-9]*)
            if [[ $arg == fuzz_* ]]; then targets+=("$arg")
            else sed -n '2,21s/^# \{0,1\}//p' "$0"; exit 2; fi ;;
        *) seconds=$arg ;;
    esac
done
((${#targets[@]})) || targets=(fuzz_http_parser fuzz_ws_frames fuzz_ws_handshake fuzz_json_bodies fuzz_jsonl_replay
                               fuzz_http_response fuzz_client_journal)

# Longest input per target: enough for a pipelined request with a body, a run
# of frames, a store folder of a few runs; short enough for hundreds of
# executions a second.
max_len_of() {
    case $1 in
        fuzz_http_parser) echo 16384 ;;
        fuzz_ws_frames) echo 8192 ;;
        fuzz_ws_handshake) echo 4096 ;;
        fuzz_json_bodies) echo 16384 ;;
        fuzz_jsonl_replay) echo 16384 ;;
        fuzz_http_response) echo 16384 ;;
        fuzz_client_journal) echo 8192 ;;
        *) echo 4096 ;;
    esac
}
dict_of() {
    case $1 in
        fuzz_http_parser | fuzz_ws_handshake) echo tests/fuzz/dict/http.dict ;;
        fuzz_http_response) echo tests/fuzz/dict/http_response.dict ;;
        fuzz_json_bodies | fuzz_jsonl_replay) echo tests/fuzz/dict/json.dict ;;
    esac
}

build=${TMON_FUZZ_BUILD:-$root/build-fuzz}
jobs=${TMON_JOBS:-2}
cxx=${CXX:-clang++}
if ! "$cxx" --version 2>/dev/null | grep -qi clang; then
    echo "fuzz.sh needs clang++ (libFuzzer); CXX=$cxx is not (scripts/install_deps.sh test installs it)"
    exit 1
fi
mkdir -p "$build/logs" "$build/crashes"
generator=()
[[ -f $build/CMakeCache.txt ]] || ! command -v ninja >/dev/null || generator=(-G Ninja)
if ! cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug \
    -DTMON_BUILD_TESTS=OFF -DTMON_BUILD_EXAMPLES=OFF -DTMON_BUILD_BENCHMARKS=OFF -DTMON_FUZZ=ON \
    >"$build/logs/configure.log" 2>&1; then
    tail -n 30 "$build/logs/configure.log"
    echo "fuzz: configure failed (log: $build/logs/configure.log)"
    exit 1
fi
if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$build/logs/build.log" 2>&1; then
    grep -E 'error|Error' "$build/logs/build.log" | head -n 30
    echo "fuzz: build failed (log: $build/logs/build.log)"
    exit 1
fi

# Any sanitizer report is a crash; leaks too. A hang past -timeout is one.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:handle_abort=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for t in "${targets[@]}"; do
    bin=$build/tests/fuzz/$t
    work=$build/corpus/$t
    seeds=$build/seeds/$t
    log=$build/logs/$t.log
    mkdir -p "$work" "$build/crashes/$t"
    rm -rf "$seeds" && mkdir -p "$seeds"
    start=$SECONDS
    problems=()

    # Known crashes first: each one still crashing fails the target.
    for known in tests/fuzz/corpus/$t/crash-*; do
        [[ -f $known ]] || continue
        # (in a subshell that outlives the target, so bash's "Aborted" notice goes to /dev/null)
        if ! ("$bin" -artifact_prefix="$build/logs/" "$known" >"$build/logs/$t.$(basename "$known").log" 2>&1; exit $?) 2>/dev/null; then
            problems+=("still crashes: $known (log: $build/logs/$t.$(basename "$known").log)")
        fi
    done

    # Then fuzz, from the seeds (not the known crashes) and what earlier runs found.
    find "tests/fuzz/corpus/$t" -maxdepth 1 -type f ! -name 'crash-*' -exec cp {} "$seeds/" \;
    dict=$(dict_of "$t")
    args=(-max_total_time="$seconds" -max_len="$(max_len_of "$t")" -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix="$build/crashes/$t/" -seed="${TMON_FUZZ_SEED:-1}")  # same mutations each run: a red CI is a real finding
    [[ -n $dict && -f $dict ]] && args+=(-dict="$dict")
    ((keep_going)) && args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    ("$bin" "${args[@]}" "$work" "$seeds" >"$log" 2>&1; exit $?) 2>/dev/null
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [[ -z $runs ]]; then  # -fork prints progress lines only: "#N: cov: .. exec/s R .."
        runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1)
        rate=$(sed -n 's/^#[0-9]*: cov:.* exec\/s \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    corpus=$(find "$work" -type f | wc -l)
    while IFS= read -r crash; do
        problems+=("new crash: $crash (log: $log)")
    done < <(find "$build/crashes/$t" -type f -newer "$seeds" | sort)
    if ((rc != 0)) && ((${#problems[@]} == 0)); then problems+=("exit $rc (log: $log)"); fi

    if ((${#problems[@]} == 0)); then
        printf 'ok    %-20s %4ds  %9s runs  %6s exec/s  corpus %s\n' "$t" $((SECONDS - start)) "${runs:-?}" "${rate:-?}" "$corpus"
    else
        failed=$((failed + 1))
        printf 'FAIL  %-20s %4ds  %9s runs  %6s exec/s  corpus %s\n' "$t" $((SECONDS - start)) "${runs:-?}" "${rate:-?}" "$corpus"
        for p in "${problems[@]}"; do printf '      %s\n' "$p"; done
        grep -hE 'ERROR:|runtime error|invariant broken|what\(\)|^    #[0-9]+ .* in tmon' "$log" | head -n 12 | cut -c1-240 | sed 's/^/        /'
    fi
done
((failed == 0))

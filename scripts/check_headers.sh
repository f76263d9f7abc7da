#!/usr/bin/env bash
# Compiles every public header under include/tmon on its own (-fsyntax-only, in
# parallel), so each one includes what it uses: a header that only builds after
# some other header is a bug a user meets with a different include order.
#   scripts/check_headers.sh [header...]      (CXX, TMON_JOBS, CXXFLAGS respected)
set -uo pipefail
cd "$(dirname "$0")/.."
cxx=${CXX:-g++}
jobs=${TMON_JOBS:-$(nproc)}
if (($#)); then headers=("$@"); else mapfile -t headers < <(cd include && find tmon -name '*.hpp' | sort); fi
export cxx flags="-std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -DASIO_STANDALONE -Iinclude ${CXXFLAGS:-}"
check_one() {  # prints the header's errors, or nothing
  local out
  if ! out=$(printf '#include <%s>\n' "$1" | $cxx $flags -x c++ - -o /dev/null 2>&1); then
    printf 'FAIL %s\n%s\n' "$1" "$(head -n 20 <<<"$out")"
    return 1
  fi
}
export -f check_one
printf '%s\n' "${headers[@]}" | xargs -P "$jobs" -I{} bash -c 'check_one "$1"' _ {}
rc=$?
echo "${#headers[@]} headers checked with $cxx"
exit $((rc != 0))

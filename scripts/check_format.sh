#!/usr/bin/env bash
# Every C++ file of the tree is as .clang-format lays it out (clang-format 14, Debian 12's).
#   scripts/check_format.sh          # list the files that differ, exit 1 if any
#   scripts/check_format.sh --fix    # format them in place
# Generated files are left out: single_include/ (scripts/amalgamate.py) and the
# dashboard's embedded assets (npm run embed).
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format || true)
[[ -n $cf ]] || { echo "clang-format not found (apt-get install clang-format-14)"; exit 1; }
mapfile -t files < <(git ls-files '*.hpp' '*.cpp' '*.h' | grep -v -e '^single_include/' -e '^include/tmon/dashboard/assets.hpp$')
if [[ ${1:-} == --fix ]]; then
  "$cf" -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$cf" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf '%s\n' "${bad[@]}"
  echo "${#bad[@]} of ${#files[@]} files differ from .clang-format: scripts/check_format.sh --fix (or git clang-format on your change)"
  exit 1
fi
echo "${#files[@]} files formatted"

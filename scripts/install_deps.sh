#!/usr/bin/env bash
# Installs what tmon's build, tests and demo need from Debian, only if missing.
# Idempotent and quiet: prints nothing when everything is already there.
# Usage: scripts/install_deps.sh [core|test|bench]   (each includes the previous)
set -euo pipefail
level=${1:-test}

pkgs=(g++ cmake make pkg-config libasio-dev libsqlite3-dev libfmt-dev rapidjson-dev catch2 zlib1g-dev python3)
if [[ $level == test || $level == bench ]]; then
  pkgs+=(python3-websockets curl chromium meson ninja-build)
  # the Python client's tests: pip (installs python/ into a folder) and the PyTorch example on CPU
  pkgs+=(python3-pip python3-setuptools python3-torch)
  # clang's libFuzzer and ThreadSanitizer runtimes are only Recommended by
  # clang (installs skip those), hence libclang-rt-14-dev by name; llvm brings
  # llvm-symbolizer, for sanitizer stacks with file:line.
  pkgs+=(clang libclang-rt-14-dev llvm)
  # scripts/check_format.sh: the formatter .clang-format is written for
  pkgs+=(clang-format-14)
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi
if [[ $level == bench ]]; then
  # bench_compile.sh baselines: spdlog hello, nlohmann/json
  pkgs+=(wrk nginx-light libcpp-httplib-dev libwebsocketpp-dev libspdlog-dev nlohmann-json3-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) == 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

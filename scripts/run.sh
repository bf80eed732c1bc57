#!/usr/bin/env bash
# Builds the release binary and runs gregor. With no arguments it starts the local
# development cluster once that command exists; until then it prints the command list.
#   scripts/run.sh [gregor arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target gregor
if [ $# -eq 0 ]; then
  exec build/release/gregor --help
fi
exec build/release/gregor "$@"

#!/usr/bin/env bash
# Builds gregor and its benchmarks and runs every test suite: unit, compat and integration
# tests under ASan+UBSan (ctest), then runs each fuzzer (clang, -O2) for a bounded time (one
# per core at a time). Warnings are errors in both builds. The optimised release build is
# the one scripts/run.sh and benchmark figures use; it is not rebuilt here (it only warns).
# Exit code 0 iff all passed.
#   scripts/test.sh            everything
#   GREGOR_FUZZ_SECONDS=0      skip the fuzzing step
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
fuzz_seconds=${GREGOR_FUZZ_SECONDS:-20}

echo "== build (debug: ASan + UBSan, with the benchmarks)"
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$jobs"

echo "== tests"
ctest --test-dir build/debug --output-on-failure -j "$jobs" --timeout 300

if [ "$fuzz_seconds" != "0" ]; then
  echo "== fuzz (${fuzz_seconds}s per target)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs" --target fuzzers
  scripts/fuzz.sh "$fuzz_seconds"
fi
echo "== all tests passed"

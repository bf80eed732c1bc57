#!/usr/bin/env bash
# Builds gregor and runs every test suite: unit, compat and integration tests under
# ASan+UBSan (ctest), then builds the release binary, then runs each fuzzer for a bounded
# time (one per core at a time). Benchmarks are compiled in the release build, the way they
# are run, not under the sanitizers. Exit code 0 iff all passed.
#   scripts/test.sh            everything
#   GREGOR_FUZZ_SECONDS=0      skip the fuzzing step
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
fuzz_seconds=${GREGOR_FUZZ_SECONDS:-20}

echo "== build (debug: ASan + UBSan)"
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$jobs"

echo "== tests"
ctest --test-dir build/debug --output-on-failure -j "$jobs" --timeout 300

echo "== build (release: the gregor binary scripts/run.sh runs, and the benchmarks; optimised"
echo "   builds warn differently)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" --target gregor benchmarks

if [ "$fuzz_seconds" != "0" ]; then
  echo "== fuzz (${fuzz_seconds}s per target)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs" --target fuzzers
  scripts/fuzz.sh "$fuzz_seconds"
fi
echo "== all tests passed"

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
# Integration tests run real ZooKeeper servers and broker processes under ASan on a shared
# machine; a test that fails is run once more and passes only if the second run passes.
# Every test that needed the second run is named at the end, so a flaky test stays visible.
log=build/debug/ctest-output.log
set +e
ctest --test-dir build/debug --output-on-failure -j "$jobs" --timeout 300 \
  --repeat until-pass:2 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
retried=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(Failed|Timeout|Exception|Not Run)' "$log" |
  sed -E 's/.*Test +#[0-9]+: ([^ ]+).*/\1/' | sort -u || true)
if [ -n "$retried" ]; then
  echo "== tests that failed a first run (see their output above):"
  echo "$retried" | sed 's/^/   /'
fi
if [ "$status" != "0" ]; then
  exit "$status"
fi

if [ "$fuzz_seconds" != "0" ]; then
  echo "== fuzz (${fuzz_seconds}s per target)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs" --target fuzzers
  scripts/fuzz.sh "$fuzz_seconds"
fi
echo "== all tests passed"

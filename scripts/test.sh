#!/usr/bin/env bash
# Builds gregor with AddressSanitizer and UndefinedBehaviorSanitizer and runs every test that
# decides correctness: the unit, compat and integration tiers (ctest labels), then each fuzzer
# (clang, -O2) for a bounded time, one per core at once, then the whole-cluster simulation
# (src/sim) in the release build for a bounded time on every core (scripts/simulate.sh).
# Warnings are errors in the debug and fuzz builds.
# Compiles go through ccache when it is installed (cmake/ccache.cmake), so a second run, even
# in another clone, recompiles only what changed. The fuzz build overlaps the integration
# tier at low priority. Prints how long each phase took at the end.
# Exit code 0 iff all passed.
#   scripts/test.sh            the default tiers and fuzzing (what CI runs)
#   scripts/test.sh --long     also the long tier: simulation seeds far beyond CI's count
#   GREGOR_FUZZ_SECONDS=0      skip the fuzzing step
#   GREGOR_SIM_SECONDS=0       skip the release-build simulation step (default 30 s)
# Benchmarks are not built here: scripts/bench.sh builds and runs them (release build).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
fuzz_seconds=${GREGOR_FUZZ_SECONDS:-20}
sim_seconds=${GREGOR_SIM_SECONDS:-30}
labels=(unit compat integration)
if [ "${1:-}" = "--long" ]; then
  labels+=(long)
elif [ $# -gt 0 ]; then
  echo "usage: scripts/test.sh [--long]" >&2
  exit 2
fi

# Phase timings, printed at the end whatever happens (a failed phase shows how far it got).
phases=()
if [ -n "${GREGOR_SETUP_SECONDS:-}" ]; then
  phases+=("setup ${GREGOR_SETUP_SECONDS}s")
fi
started=$SECONDS
phase_started=$SECONDS
phase_end() {  # phase_end <name>: records the time since the previous phase ended
  phases+=("$1 $((SECONDS - phase_started))s")
  phase_started=$SECONDS
}
print_times() {
  echo "== time per phase"
  for p in "${phases[@]}"; do
    echo "   $p"
  done
  echo "   total (this script) $((SECONDS - started))s"
}
# The fuzz build (clang) and the simulation's release build start in the background, at the
# lowest CPU priority, when the integration tier starts: those tests mostly wait for brokers
# and ZooKeeper and leave about 0.8 of 2 cores idle, which the compilers then use (a cold
# fuzz build is ~140 s of 2 cores). Each later phase waits for its build and finishes
# whatever is left in the foreground.
declare -A bg_pid=()
start_background_build() {  # start_background_build <preset> <target>
  if [ -n "${bg_pid[$1]:-}" ]; then
    return
  fi
  mkdir -p build
  # Its own process group (setsid), so that an early exit stops the compilers too.
  setsid -w bash -c 'cmake --preset "$1" >/dev/null &&
    exec nice -n 19 cmake --build --preset "$1" -j "$3" --target "$2"' _ "$1" "$2" "$jobs" \
    >"build/$1-background.log" 2>&1 &
  bg_pid[$1]=$!
}
finish_build() {  # finish_build <preset> <target>: waits for the background part, then the rest
  if [ -n "${bg_pid[$1]:-}" ]; then
    # Its result does not matter: the build below redoes whatever failed and shows why.
    wait "${bg_pid[$1]}" ||
      echo "test.sh: the background $1 build failed (build/$1-background.log); building again"
    unset "bg_pid[$1]"
  fi
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$jobs" --target "$2"
  phase_end "build $1 (the rest of it, after the part overlapped with integration)"
}
on_exit() {
  for pid in "${bg_pid[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    fi
  done
  print_times
}
trap on_exit EXIT

echo "== build (debug: ASan + UBSan)"
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$jobs"
phase_end "build debug"

# Integration tests run real ZooKeeper servers and broker processes under ASan on a shared
# machine; a test that fails is run once more and passes only if the second run passes.
# Every test that needed the second run is named at the end, so a flaky test stays visible.
untiered=$(ctest --test-dir build/debug -N -LE '^(unit|compat|integration|long)$' |
  grep -E '^ *Test +#' || true)
if [ -n "$untiered" ]; then
  echo "test.sh: these tests have no tier label (unit, compat, integration, long), so none runs them:"
  echo "$untiered"
  exit 1
fi
log=build/debug/ctest-output.log
: >"$log"
status=0
for label in "${labels[@]}"; do
  echo "== tests: $label"
  # Integration tests mostly wait for brokers and ZooKeeper (at two per core the tier kept
  # 1.2 of 2 cores busy), so they run two per core; the others are CPU-bound.
  label_jobs=$jobs
  if [ "$label" = "integration" ]; then
    label_jobs=$((2 * jobs))
    [ "$fuzz_seconds" = "0" ] || start_background_build fuzz fuzzers
    [ "$sim_seconds" = "0" ] || start_background_build release cluster_sim_test
  fi
  set +e
  ctest --test-dir build/debug --output-on-failure -j "$label_jobs" --timeout 300 \
    -L "^${label}\$" --repeat until-pass:2 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  set -e
  phase_end "tests $label"
  [ "$rc" = "0" ] || status=$rc
done
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
  echo "== build (fuzz: clang, only the fuzz targets)"
  finish_build fuzz fuzzers
  echo "== fuzz (${fuzz_seconds}s per target)"
  scripts/fuzz.sh "$fuzz_seconds"
  phase_end "fuzz"
fi
if [ "$sim_seconds" != "0" ]; then
  echo "== build (release: the whole-cluster simulation)"
  finish_build release cluster_sim_test
  echo "== whole-cluster simulation (${sim_seconds}s on each of $jobs cores)"
  scripts/simulate.sh "$sim_seconds"
  phase_end "simulation"
fi
echo "== all tests passed"

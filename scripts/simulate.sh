#!/usr/bin/env bash
# Runs the whole-cluster simulation (src/sim, cluster_sim_test) from the release build for
# the given number of seconds on every core: one process per core, on interleaved seeds
# (process i of n runs seeds i, i + n, i + 2n, ...), so together they cover seeds 0..N.
# A failing seed is printed with the command that replays it. Exit code 0 iff all passed.
#   scripts/simulate.sh [seconds] [build-dir]   (defaults: 30, build/release)
#   GREGOR_SIM_JOBS   processes (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=${2:-build/release}
jobs=${GREGOR_SIM_JOBS:-$(nproc)}
bin="$build/src/sim/cluster_sim_test"
[ -x "$bin" ] || { echo "simulate: missing $bin (cmake --build --preset release --target cluster_sim_test)" >&2; exit 2; }

logs=()
pids=()
for i in $(seq 0 $((jobs - 1))); do
  log="$build/src/sim/simulate-$i.log"
  logs+=("$log")
  GREGOR_CLUSTER_FIRST=$i GREGOR_CLUSTER_STRIDE=$jobs GREGOR_CLUSTER_SECONDS=$seconds \
    "$bin" --gtest_brief=1 >"$log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed=1
    grep -v '^\[' "${logs[$i]}" | tail -20
  fi
  grep -h '^seeds=' "${logs[$i]}" | sed "s/^/   process $i: /" || true
done
if [ "$failed" != "0" ]; then
  echo "simulate: FAILED (replay a seed with GREGOR_CLUSTER_SEED=<seed> GREGOR_CLUSTER_TRACE=1 $bin)"
  exit 1
fi
echo "simulate: every seed passed"

#!/usr/bin/env bash
# Runs every libFuzzer target built in build/fuzz for the given number of seconds each,
# starting from its committed seed corpus (tests/fuzz/corpus/<target>). A crash fails.
# Each fuzzer is single-threaded, so GREGOR_FUZZ_JOBS (default: the number of cores) of them
# run at once; every target still gets its full time on a core of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
jobs=${GREGOR_FUZZ_JOBS:-$(nproc)}

fuzz_one() {  # fuzz_one <binary> <name>: runs it, then records its exit code
  local bin=$1 name=$2
  local seeds="tests/fuzz/corpus/${name}" work="build/fuzz/corpus-work/${name}"
  mkdir -p "$work"
  local args=("$work")
  [ -d "$seeds" ] && args+=("$seeds")
  local rc=0
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    "${args[@]}" 2>"build/fuzz/${name}.log" || rc=$?
  echo "$rc" >"build/fuzz/${name}.rc"
}

names=()
running=0
for bin in build/fuzz/tests/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  names+=("$name")
  rm -f "build/fuzz/${name}.rc"
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  echo "-- $name (${seconds}s)"
  fuzz_one "$bin" "$name" &
  running=$((running + 1))
done
wait
[ ${#names[@]} -gt 0 ] || { echo "fuzz: no fuzz targets were built"; exit 1; }

failed=0
for name in "${names[@]}"; do
  rc=$(cat "build/fuzz/${name}.rc" 2>/dev/null || echo missing)
  if [ "$rc" != "0" ]; then
    tail -50 "build/fuzz/${name}.log"
    echo "fuzz: $name FAILED (exit $rc)"
    failed=1
    continue
  fi
  echo "-- $name: $(grep -E "stat::number_of_executed_units" "build/fuzz/${name}.log" || true)"
done
exit "$failed"

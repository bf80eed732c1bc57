#!/usr/bin/env bash
# Runs every libFuzzer target built in build/fuzz for the given number of seconds each,
# starting from its committed seed corpus (tests/fuzz/corpus/<target>). A crash fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
found=0
for bin in build/fuzz/tests/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin")
  seeds="tests/fuzz/corpus/${name}"
  work="build/fuzz/corpus-work/${name}"
  mkdir -p "$work"
  echo "-- $name (${seconds}s)"
  args=("$work")
  [ -d "$seeds" ] && args+=("$seeds")
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    "${args[@]}" 2>"build/fuzz/${name}.log" || {
      tail -50 "build/fuzz/${name}.log"; echo "fuzz: $name FAILED"; exit 1; }
  grep -E "stat::number_of_executed_units" "build/fuzz/${name}.log" || true
done
[ "$found" = 1 ] || { echo "fuzz: no fuzz targets were built"; exit 1; }

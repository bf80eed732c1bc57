#!/usr/bin/env bash
# Builds the release preset (the optimised binary and every google benchmark) and runs
# benchmarks. Figures belong in bench/README.md with the command that produced them.
#   scripts/bench.sh                 build, then list the benchmarks
#   scripts/bench.sh NAME [ARGS...]  build, then run build/release/bench/*/NAME with ARGS
#                                    (google benchmark flags, e.g. --benchmark_filter=...)
#   scripts/bench.sh --all           build, then run every micro benchmark once
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target gregor benchmarks

mapfile -t benches < <(find build/release/bench -mindepth 2 -maxdepth 2 -type f -perm -u+x \
  -name '*_bench' | sort)
if [ $# -eq 0 ]; then
  echo "benchmarks (run one with scripts/bench.sh NAME):"
  printf '   %s\n' "${benches[@]}"
  exit 0
fi
if [ "$1" = "--all" ]; then
  for b in "${benches[@]}"; do
    echo "== $b"
    "$b"
  done
  exit 0
fi
name=$1
shift
for b in "${benches[@]}"; do
  if [ "$(basename "$b")" = "$name" ]; then
    exec "$b" "$@"
  fi
done
echo "bench.sh: no benchmark named $name (scripts/bench.sh lists them)" >&2
exit 2

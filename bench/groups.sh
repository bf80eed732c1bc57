#!/usr/bin/env bash
# The consumer-group measurements of bench/README.md ("Consumer groups"): on a fresh
# `gregor cluster up` with 3 brokers (replication factor 3, group.initial.rebalance.delay.ms
# 3000, Kafka's default), RUNS (3) runs each of
#   - consume:   3 members of one group read 5,000,000 100-byte records (6 partitions, written
#                by the first run), then one assign() consumer reads the same topic;
#   - rebalance: 10 members join one new group at once;
#   - commit:    10,000 synchronous then 100,000 pipelined OffsetCommits (window 256), with
#                each broker's CPU per commit (--cluster-dir);
# then RUNS takeover runs, each on its own fresh cluster: 100,000 offsets committed (1,000
# partitions x 100 rounds), the group's coordinator killed (SIGKILL through the supervisor),
# timed until the new coordinator answers every offset. Every report is saved as JSON in the
# work directory, with the load average before each run.
#
# Usage: bench/groups.sh [build-dir] [work-dir]   (defaults: build/release, a mktemp directory
# under the current one). RUNS (3); MODES ("consume rebalance commit takeover").
set -euo pipefail

build=$(realpath "${1:-build/release}")
work=$(realpath "${2:-$(mktemp -d "$PWD/gregor-groups-XXXXXX")}")
mkdir -p "$work"
runs=${RUNS:-3}
modes=${MODES:-consume rebalance commit takeover}
gregor="$build/gregor"
[[ -x $gregor ]] || { echo "missing $gregor: cmake --build $build --target gregor" >&2; exit 2; }

up=""
cluster=""
bootstrap=""
cleanup() {
  if [[ -n $up ]]; then
    "$gregor" cluster down --dir "$cluster" > /dev/null 2>&1 || kill "$up" 2>/dev/null || true
    wait "$up" 2>/dev/null || true
    up=""
  fi
}
trap cleanup EXIT

# A fresh cluster in $work/$1; sets cluster, up and bootstrap.
start_cluster() {
  cluster="$work/$1"
  "$gregor" cluster up -n 3 --dir "$cluster" --base-port 0 > "$cluster.out" 2>&1 &
  up=$!
  for _ in $(seq 600); do grep -q "^ready" "$cluster.out" && break; sleep 0.2; done
  bootstrap=$(awk '/bootstrap servers:/ {print $3}' "$cluster.out")
  [[ -n $bootstrap ]] || { echo "the cluster did not start:" >&2; cat "$cluster.out" >&2; exit 1; }
}

# One bench run: the report in $work/<name>.json, the load average in <name>.load.
bench() {
  local name=$1
  shift
  cut -d' ' -f1-3 /proc/loadavg > "$work/$name.load"
  echo "$name: load $(cat "$work/$name.load")"
  "$gregor" bench group -b "$bootstrap" --format json "$@" > "$work/$name.json" || true
}

shared_modes=$(tr ' ' '\n' <<< "$modes" | grep -v takeover || true)
if [[ -n $shared_modes ]]; then
  start_cluster shared
  for i in $(seq "$runs"); do
    for mode in $shared_modes; do
      case $mode in
        consume) bench "consume-$i" -t groupread --members 3 --partitions 6 --records 5000000 ;;
        rebalance) bench "rebalance-$i" -t join --join-members 10 --initial-delay-ms 3000 ;;
        commit) bench "commit-$i" -t commits --commits 100000 --sync-commits 10000 \
          --cluster-dir "$cluster" ;;
      esac
    done
  done
  cleanup
fi
if grep -qw takeover <<< "$modes"; then
  for i in $(seq "$runs"); do
    start_cluster "takeover-$i-cluster"
    bench "takeover-$i" -t takeover --takeover --cluster-dir "$cluster" --partitions 1000 \
      --commits 100000
    cleanup
  done
fi
echo "reports in $work"

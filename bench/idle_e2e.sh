#!/usr/bin/env bash
# End-to-end latency and the leader's CPU per record for one small record per request
# (linger.ms 0, acks=all, RF 3) on a cluster that also holds many idle partitions (issue 21):
# what an idle partition costs the busy ones. Starts `gregor cluster up -n 3` (its own
# ZooKeeper, base port 0), creates TOPICS topics (idle-1, ...) of PARTITIONS partitions with
# replication factor 3, waits until every partition is led and none is under-replicated,
# creates the one-partition topic e2e (RF 3), then runs `gregor bench e2e` RUNS times at
# RATE records per second for DURATION seconds, with the e2e leader's CPU (--broker-pid).
# Everything started here is stopped on exit.
#
# Usage: bench/idle_e2e.sh [gregor-binary] [work-dir]   (defaults: build/release/gregor, a
# mktemp directory under the current one). TOPICS (3), PARTITIONS (20000), RATE (1000),
# DURATION (15), RUNS (2).
set -euo pipefail

bin=$(realpath "${1:-build/release/gregor}")
work=${2:-$(mktemp -d "$PWD/idle-e2e.XXXXXX")}
topics=${TOPICS:-3}
partitions=${PARTITIONS:-20000}
rate=${RATE:-1000}
duration=${DURATION:-15}
runs=${RUNS:-2}
dir="$work/cluster"

cleanup() { "$bin" cluster down --dir "$dir" > /dev/null 2>&1 || true; }
trap cleanup EXIT

mkdir -p "$work"
setsid "$bin" cluster up -n 3 -d "$dir" --base-port 0 > "$work/up.log" 2>&1 &
for _ in $(seq 120); do
    grep -q '^ready' "$work/up.log" && break
    sleep 1
done
grep -q '^ready' "$work/up.log" || { echo "cluster did not start: $work/up.log" >&2; exit 1; }

for t in $(seq "$topics"); do
    "$bin" topics create "idle-$t" --partitions "$partitions" --replication-factor 3 \
        --dir "$dir" --request-timeout 600 > /dev/null || true
done
for _ in $(seq 300); do
    "$bin" cluster health --dir "$dir" 2>&1 | grep -q 'all led, none under-replicated' && break
    sleep 2
done
"$bin" cluster health --dir "$dir" 2>&1 | head -1
"$bin" topics create e2e --partitions 1 --replication-factor 3 --dir "$dir" > /dev/null
sleep 10

bootstrap=$(grep -o 'bootstrap servers: .*' "$work/up.log" | awk '{print $3}')
leader=$("$bin" topics describe e2e --dir "$dir" --format json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["topics"][0]["partition_details"][0]["leader"])')
pid=$(pgrep -f "broker --config $dir/broker-$leader/" | head -1)
echo "e2e: $rate records/s of 100 bytes, linger.ms 0, acks=all, RF 3; leader broker $leader"
for r in $(seq "$runs"); do
    echo "run $r"
    "$bin" bench e2e -b "$bootstrap" -t e2e --rate "$rate" --duration "$duration" --linger-ms 0 \
        --acks all --no-limits --broker-pid "$pid" 2>&1 |
        grep -E -A1 'broker_cpu_us_per_record|p50 +p99'
done

#!/usr/bin/env bash
# The standard single-broker measurements of bench/README.md, reproducible on any machine:
# starts a ZooKeeper and one gregor broker (log.dirs under the work directory, so on the
# disk the limits pass measures), creates a 1-partition topic and a
# 1,000-partition idle topic, then runs `gregor bench` limits, produce (acks=1), consume and
# e2e with librdkafka defaults, 100-byte records, and reads the broker's RSS. Every report
# is saved as JSON in the work directory; everything started here is stopped on exit.
#
# Usage: bench/single_broker.sh [build-dir] [work-dir]   (defaults: build/release, a mktemp
# directory under the current one). RUNS=3 repeats produce and consume; RECORDS sets their
# size (default 5,000,000). The broker is its own controller; topics are created by
# `gregor bench --partitions` through CreateTopics.
set -euo pipefail

build=$(realpath "${1:-build/release}")
work=$(realpath "${2:-$(mktemp -d "$PWD/gregor-bench-XXXXXX")}")
mkdir -p "$work"
runs=${RUNS:-3}
records=${RECORDS:-5000000}
gregor="$build/gregor"
[[ -x $gregor ]] || { echo "missing $gregor: cmake --build $build --target gregor" >&2; exit 2; }

# shellcheck source=bench/zookeeper.sh
source "$(dirname "$0")/zookeeper.sh"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start_zookeeper "$work"

port=$(free_port)
printf 'broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:%s\nlog.dirs=%s/data\nzookeeper.connect=127.0.0.1:%s\nauto.create.topics.enable=false\n' \
  "$port" "$work" "$zk_port" > "$work/server.properties"
"$gregor" broker --config "$work/server.properties" > "$work/broker.log" 2>&1 &
broker=$!
pids+=($broker)
for _ in $(seq 100); do nc -z 127.0.0.1 "$port" && break; sleep 0.1; done
bootstrap="127.0.0.1:$port"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$gregor" bench limits --dir "$work" --format json > "$work/limits.json"
summary() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j["results"]; l=j.get("latency") or {}; print(sys.argv[1].rsplit("/",1)[-1], {k: round(v, 3) for k, v in {**r, **{"p50": l.get("p50"), "p99": l.get("p99"), "p99_9": l.get("p99_9"), "max": l.get("max")}, **j["ratios"]}.items() if v is not None})' "$1"; }
python3 -c 'import json,sys; print("limits", json.load(open(sys.argv[1]))["limits"])' "$work/limits.json"

common=(-b "$bootstrap" -t bench --limits-from "$work/limits.json" --broker-pid "$broker" --format json)
for i in $(seq "$runs"); do
  "$gregor" bench produce "${common[@]}" --partitions 1 --records "$records" --acks 1 > "$work/produce-$i.json"
  summary "$work/produce-$i.json"
done
for i in $(seq "$runs"); do
  "$gregor" bench consume "${common[@]}" > "$work/consume-$i.json"
  summary "$work/consume-$i.json"
done
"$gregor" bench e2e -b "$bootstrap" -t e2e --partitions 1 --limits-from "$work/limits.json" --broker-pid "$broker" \
  --format json --rate 10000 --duration 10 --acks 1 > "$work/e2e.json"
summary "$work/e2e.json"
# Kafka's 2014 end-to-end figures were for records sent one at a time: linger.ms=0.
"$gregor" bench e2e -b "$bootstrap" -t e2e --limits-from "$work/limits.json" --broker-pid "$broker" \
  --format json --rate 1000 --duration 10 --acks 1 --linger-ms 0 > "$work/e2e-linger0.json"
summary "$work/e2e-linger0.json"

rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$broker/status")
# 1,000 more partitions, one record each, then idle.
"$gregor" bench produce -b "$bootstrap" -t idle --partitions 1000 --records 1000 --no-limits \
  --format json > "$work/idle.json"
sleep 2
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$broker/status")
echo "broker RSS: ${rss_before} KiB before, ${rss_after} KiB with 1,000 more idle partitions"
echo "reports in $work"

#!/usr/bin/env bash
# The replicated-cluster measurements of bench/README.md (issue 6), reproducible on any
# machine: `gregor cluster up` with 3 brokers (ZooKeeper included, data under the work
# directory), a 3-partition topic with replication factor 3 and min.insync.replicas=2, then
# `gregor bench` produce with acks=all (RUNS times, RECORDS records of 100 bytes), end-to-end
# latency with acks=all at RATE records/s, and a failover run: 100 partitions (RF 3,
# min.insync.replicas=2) with an acks=all producer while the controller, which leads about a
# third of them, is killed with kill -9. Every report is saved as JSON in the work directory;
# the cluster is stopped on exit.
#
# Usage: bench/replicated.sh [build-dir] [work-dir]   (defaults: build/release, a mktemp
# directory under the current one). RUNS (3), RECORDS (5,000,000), RATE (250,000);
# ONLY=failover runs just the failover part.
set -euo pipefail

build=$(realpath "${1:-build/release}")
work=$(realpath "${2:-$(mktemp -d "$PWD/gregor-bench-XXXXXX")}")
mkdir -p "$work"
runs=${RUNS:-3}
records=${RECORDS:-5000000}
rate=${RATE:-250000}
gregor="$build/gregor"
[[ -x $gregor ]] || { echo "missing $gregor: cmake --build $build --target gregor" >&2; exit 2; }

# shellcheck source=bench/cluster.sh
source "$(dirname "$0")/cluster.sh"
start_cluster "$gregor" "$work"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$gregor" bench limits --dir "$work" --format json > "$work/limits.json"
python3 -c 'import json,sys; print("limits", json.load(open(sys.argv[1]))["limits"])' "$work/limits.json"
summary() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j["results"]; l=j.get("latency") or {}; print(sys.argv[1].rsplit("/",1)[-1], {k: round(v, 3) for k, v in {**r, **{"p50": l.get("p50"), "p99": l.get("p99"), "p99_9": l.get("p99_9"), "max": l.get("max")}, **(j.get("ratios") or {})}.items() if isinstance(v, (int, float))})' "$1"; }

if [[ ${ONLY:-} != failover ]]; then
"$gregor" topics create acks-all --partitions 3 --replication-factor 3 \
  --config min.insync.replicas=2 -b "$bootstrap"
for i in $(seq "$runs"); do
  "$gregor" bench produce -b "$bootstrap" -t acks-all --limits-from "$work/limits.json" \
    --format json --records "$records" --acks all > "$work/produce-acks-all-$i.json"
  summary "$work/produce-acks-all-$i.json"
done

"$gregor" topics create e2e-acks-all --partitions 3 --replication-factor 3 \
  --config min.insync.replicas=2 -b "$bootstrap"
"$gregor" bench e2e -b "$bootstrap" -t e2e-acks-all --limits-from "$work/limits.json" \
  --format json --rate "$rate" --duration 10 --acks all > "$work/e2e-acks-all.json"
summary "$work/e2e-acks-all.json"
fi

"$gregor" topics create failover --partitions 100 --replication-factor 3 \
  --config min.insync.replicas=2 -b "$bootstrap"
"$gregor" bench failover -b "$bootstrap" -t failover --format json \
  --kill-cmd "$gregor cluster kill {id} --dir $cluster >&2" --produce --rate 2000 --acks all \
  > "$work/failover.json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("failover phases", j.get("phases")); print("unavailability", j.get("latency"), j.get("results"))' "$work/failover.json"
echo "reports in $work"

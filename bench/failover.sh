#!/usr/bin/env bash
# The failover measurements of bench/README.md with a victim other than the controller:
# for each run, a fresh `gregor cluster up` with 3 brokers (ZooKeeper included,
# zookeeper.session.timeout.ms=6000), a topic of 100 partitions with replication factor 3 and
# min.insync.replicas=2, an acks=all producer at 2,000 rec/s, and `gregor bench failover
# --victim VICTIM` with
#   - kill:  `gregor cluster kill {id}` (SIGKILL through the supervisor), then
#   - clean: `kill -TERM <pid of broker {id}>` (the broker's own controlled shutdown).
# Every report is saved as JSON in the work directory; each cluster is stopped after its run.
#
# Usage: bench/failover.sh [build-dir] [work-dir]   (defaults: build/release, a mktemp
# directory under the current one). RUNS (2) runs of each kind; VICTIM (leader): controller,
# leader or a broker id; KINDS ("kill clean"); PARTITIONS (100). The reports include the
# controller's own phases (state loaded, LeaderAndIsr sent, ...) read from its broker.log.
set -euo pipefail

build=$(realpath "${1:-build/release}")
work=$(realpath "${2:-$(mktemp -d "$PWD/gregor-failover-XXXXXX")}")
mkdir -p "$work"
runs=${RUNS:-2}
victim=${VICTIM:-leader}
partitions=${PARTITIONS:-100}
kinds=${KINDS:-kill clean}
gregor="$build/gregor"
[[ -x $gregor ]] || { echo "missing $gregor: cmake --build $build --target gregor" >&2; exit 2; }
command -v jq > /dev/null || { echo "missing jq: run scripts/setup.sh" >&2; exit 2; }

up=""
cluster=""
cleanup() {
  if [[ -n $up ]]; then
    "$gregor" cluster down --dir "$cluster" > /dev/null 2>&1 || kill "$up" 2>/dev/null || true
    wait "$up" 2>/dev/null || true
    up=""
  fi
}
trap cleanup EXIT

# One run: a fresh cluster in $work/<kind>-<i>, the topic, the bench; the report in <kind>-<i>.json.
run_one() {
  local kind=$1 i=$2
  cluster="$work/$kind-$i"
  "$gregor" cluster up --dir "$cluster" --base-port 0 > "$cluster.out" 2>&1 &
  up=$!
  for _ in $(seq 600); do grep -q "^ready" "$cluster.out" && break; sleep 0.2; done
  local bootstrap
  bootstrap=$(awk '/bootstrap servers:/ {print $3}' "$cluster.out")
  [[ -n $bootstrap ]] || { echo "the cluster did not start:" >&2; cat "$cluster.out" >&2; exit 1; }
  "$gregor" topics create failover --partitions "$partitions" --replication-factor 3 \
    --config min.insync.replicas=2 -b "$bootstrap" > /dev/null
  local how
  if [[ $kind == kill ]]; then
    how=(--kill-cmd "$gregor cluster kill {id} --dir $cluster >&2")
  else
    how=(--stop-cmd "kill -TERM \$(jq '.brokers[] | select(.id == {id}) | .pid' $cluster/cluster.json)")
  fi
  echo "$kind run $i: load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$gregor" bench failover -b "$bootstrap" -t failover --format json --victim "$victim" \
    "${how[@]}" --produce --rate 2000 --acks all --cluster-dir "$cluster" \
    > "$work/$kind-$i.json" || true
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); p=j["parameters"]; l=j.get("latency") or {}; print(" victim", p["victim"], p["victim_role"], "led", p["partitions_led_by_killed"], "controller", p["controller_before"], "failure", j.get("failure")); [print("  {:>9.0f} ms  {}".format(x["at_ms"], x["name"])) for x in j["phases"]]; print("  unavailability ms p50 {} p99 {} max {}".format(l.get("p50"), l.get("p99"), l.get("max")), j["results"])' "$work/$kind-$i.json"
  cleanup
}

echo "machine: $(nproc) cores; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for kind in $kinds; do
  for i in $(seq "$runs"); do
    run_one "$kind" "$i"
  done
done
echo "reports in $work"

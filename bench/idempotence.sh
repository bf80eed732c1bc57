#!/usr/bin/env bash
# Idempotent vs plain produce at replication factor 3, acks=all (issue 18's ratio), with the
# CPU split between the client and each broker, so that a gap can be placed: on a fresh
# `gregor cluster up` with 3 brokers, RUNS rounds each run
#   gregor bench produce --partitions 6 --replication-factor 3 --acks all --records RECORDS
#     --record-size 100 --no-limits   [--idempotent]
# plain first, then idempotent, one new topic per run (deleted after it). Per run it prints
# the rate, the client's CPU per record (user + system, /usr/bin/time) and each broker's
# (/proc/<pid>/stat over the run), and, sampled for one second in the middle of the run,
# the CPU of each of the client's threads (librdkafka's rdk:broker<N> threads are the ones
# that differ). The end prints the medians and their ratio. Reports are kept as JSON in the
# work directory; the cluster is stopped on exit.
#
# Usage: bench/idempotence.sh [build-dir] [work-dir]   (defaults: build/release, a mktemp
# directory under the current one). RUNS (3), RECORDS (3,000,000).
set -euo pipefail

build=$(realpath "${1:-build/release}")
work=$(realpath "${2:-$(mktemp -d "$PWD/gregor-idempotence-XXXXXX")}")
mkdir -p "$work"
runs=${RUNS:-3}
records=${RECORDS:-3000000}
gregor="$build/gregor"
[[ -x $gregor ]] || { echo "missing $gregor: cmake --build $build --target gregor" >&2; exit 2; }

# shellcheck source=bench/cluster.sh
source "$(dirname "$0")/cluster.sh"
start_cluster "$gregor" "$work"
mapfile -t brokers < <(grep -oP 'pid \K[0-9]+(?=  log)' "$work/cluster.out")
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); broker pids ${brokers[*]}"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, clock ticks
hz=$(getconf CLK_TCK)

# Prints "<thread name> <ticks>" for each thread of $1 that used CPU within one second.
thread_split() {
  local pid=$1 t
  declare -A before
  for t in /proc/"$pid"/task/*; do before[${t##*/}]=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0); done
  sleep 1
  for t in /proc/"$pid"/task/*; do
    local now
    now=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null) || continue
    local d=$((now - ${before[${t##*/}]:-now}))
    ((d > 0)) && printf '%s=%s ' "$(cat "$t/comm")" "$d"
  done
  echo
}

for i in $(seq "$runs"); do
  for mode in plain idempotent; do
    flag=()
    [[ $mode == idempotent ]] && flag=(--idempotent)
    topic="rf3-$mode-$i"
    before=()
    for p in "${brokers[@]}"; do before+=("$(ticks "$p")"); done
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%U %S" -o "$work/$topic.time" "$gregor" bench produce -b "$bootstrap" \
      -t "$topic" --partitions 6 --replication-factor 3 --acks all --records "$records" \
      --record-size 100 --no-limits "${flag[@]}" --format json > "$work/$topic.json" &
    client=$!
    sleep 1.5
    threads=$(thread_split "$(pgrep -P "$client" || echo "$client")" 2>/dev/null || true)
    wait "$client"
    line="run $i $mode (load $load):"
    line+=" $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"]["records_per_s"]))' "$work/$topic.json") rec/s,"
    read -r cu cs < "$work/$topic.time"
    line+=" client $(python3 -c "print(round(($cu + $cs) * 1e6 / $records, 3))") us/rec, brokers"
    for k in "${!brokers[@]}"; do
      line+=" $(python3 -c "print(round(($(ticks "${brokers[$k]}") - ${before[$k]}) / $hz * 1e6 / $records, 3))")"
    done
    echo "$line us/rec"
    echo "  client threads, ticks of $hz in 1 s: $threads"
    "$gregor" topics delete "$topic" -b "$bootstrap" > /dev/null 2>&1 || true
  done
done

python3 - "$work" "$runs" <<'EOF'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
rate = {m: [json.load(open(f"{work}/rf3-{m}-{i}.json"))["results"]["records_per_s"]
            for i in range(1, runs + 1)] for m in ("plain", "idempotent")}
p, d = statistics.median(rate["plain"]), statistics.median(rate["idempotent"])
print(f"median plain {p:,.0f} rec/s, idempotent {d:,.0f} rec/s, ratio {d / p:.3f} "
      f"(per round {[round(b / a, 3) for a, b in zip(rate['plain'], rate['idempotent'])]})")
EOF
echo "reports in $work"

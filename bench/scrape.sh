#!/usr/bin/env bash
# What a Prometheus scrape costs a broker (issue 19): on a fresh one-broker `gregor cluster
# up`, SHAPE=partitions creates one topic of COUNT partitions, SHAPE=topics COUNT topics of one
# partition, each given one record (confluent-kafka), so that every topic has its series.
# Then it prints
#   - 6 scrapes' time and size (curl),
#   - the broker's CPU per scrape, per thread, over 50 scrapes (the loop is the process's
#     first thread; the renderer is the thread that is busy only while scraping),
#   - PAIRS pairs of `gregor bench produce -t load --duration 5` (6 partitions, acks=all,
#     100-byte records) with and without a scrape every second alongside, in ABBA order
#     (the machine drifts over a run), and each pair's throughput ratio scraped / not.
# The cluster is stopped on exit.
#
# Usage: bench/scrape.sh [build-dir] [work-dir]   (defaults: build/release, a mktemp directory
# under the current one). SHAPE (partitions), COUNT (10000), PAIRS (4).
set -euo pipefail

build=$(realpath "${1:-build/release}")
work=$(realpath "${2:-$(mktemp -d "$PWD/gregor-scrape-XXXXXX")}")
mkdir -p "$work"
shape=${SHAPE:-partitions}
count=${COUNT:-10000}
pairs=${PAIRS:-4}
gregor="$build/gregor"
[[ -x $gregor ]] || { echo "missing $gregor: cmake --build $build --target gregor" >&2; exit 2; }

# shellcheck source=bench/cluster.sh
source "$(dirname "$0")/cluster.sh"
start_cluster "$gregor" "$work" 1
pid=$(grep -oP 'pid \K[0-9]+(?=  log)' "$work/cluster.out" | head -1)
metrics=$(grep -oP 'metrics \Khttp://\S+' "$work/cluster.out" | head -1)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); broker pid $pid, $metrics"

/usr/bin/python3 - "$bootstrap" "$shape" "$count" <<'PY'
import sys, time
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka import Producer
bootstrap, shape, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
admin = AdminClient({'bootstrap.servers': bootstrap})
if shape == 'partitions':
    names = ['big']
    batches = [[NewTopic('big', count, 1)]]
else:
    names = [f't{i:05d}' for i in range(count)]
    batches = [[NewTopic(n, 1, 1) for n in names[i:i + 500]] for i in range(0, count, 500)]
began = time.time()
for b in batches:
    for f in admin.create_topics(b, request_timeout=300).values():
        f.result()
print(f'created {shape}: {count} in {time.time() - began:.1f} s')
p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 50})
for i in range(count):
    topic, part = (names[0], i) if shape == 'partitions' else (names[i], 0)
    while True:
        try:
            p.produce(topic, b'x' * 100, partition=part)
            break
        except BufferError:
            p.poll(0.1)
    p.poll(0)
left = p.flush(300)
print(f'one record to each partition; {left} unsent')
PY

echo "scrapes (seconds, bytes):"
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -w '  %{time_total} %{size_download}\n' "$metrics"; done

thread_ticks() { for t in /proc/"$pid"/task/*; do echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat")"; done; }
hz=$(getconf CLK_TCK)
before=$(thread_ticks)
for _ in $(seq 50); do curl -s -o /dev/null "$metrics"; done
after=$(thread_ticks)
echo "broker CPU per scrape over 50 scrapes, by thread (ms; the first is the loop):"
join <(echo "$before" | sort) <(echo "$after" | sort) | sort -n |
  awk -v hz="$hz" '$3 > $2 {printf "  thread %s: %.1f ms\n", $1, ($3 - $2) * 1000 / hz / 50}'

produce() {
  "$gregor" bench produce -b "$bootstrap" -t load --partitions 6 --replication-factor 1 \
    --duration 5 --broker-pid "$pid" --no-limits --format json > "$work/produce.json" 2>&1
  /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(round(r["records_per_s"]), round(r["broker_cpu_us_per_record"], 4))' "$work/produce.json"
}
echo "produce pairs (records/s and broker CPU us/record; scraped vs not):"
for round in $(seq "$pairs"); do
  order="off on"; (( round % 2 == 0 )) && order="on off"
  declare -A rate
  for mode in $order; do
    scraper=
    if [[ $mode == on ]]; then
      (while true; do curl -s -o /dev/null "$metrics"; sleep 1; done) & scraper=$!
    fi
    read -r r cpu < <(produce)
    [[ -n $scraper ]] && kill "$scraper"
    rate[$mode]=$r
    echo "  pair $round $mode: $r rec/s, $cpu us/record"
  done
  awk -v a="${rate[on]}" -v b="${rate[off]}" 'BEGIN {printf "  pair ratio scraped/not: %.3f\n", a / b}'
done

#!/usr/bin/env bash
# Produce throughput while the log cleaner compacts a big dirty topic at its I/O throttle,
# against the same produce with the cleaner off (the issue: within 10%). Reproducible on any
# machine: starts a ZooKeeper and one gregor broker (log.dirs under the work directory,
# replication factor 1), then
#   a. with log.cleaner.enable=false, creates the compacted topic `dirty` (cleanup.policy=
#      compact, segment.bytes 64 MiB, 1 partition) and fills it with FILL_RECORDS keyed records
#      (`gregor bench produce --keys 10000`, 100-byte values: ~600 MB), creates the plain topic
#      `load` (1 partition), stops the broker cleanly and keeps a copy of its log dirs;
#   b. restores that copy, starts the broker with the cleaner on at THROTTLE bytes/s
#      (log.cleaner.io.max.bytes.per.second), waits for its "dirty-0: cleaning from" line and
#      runs `gregor bench produce -t load --acks all --duration 10` at once; then waits for the
#      pass's "cleaned up to" line and checks that the pass spanned the whole produce run;
#   c. the same with log.cleaner.enable=false (the baseline): same data, same command.
# RUNS rounds alternate b and c; the end prints the medians, their ratio, the cleaner's own
# figures (bytes read, ms, MB/s) and the broker's CPU (`--broker-pid`). Every report is kept
# as JSON in the work directory; everything started here is stopped on exit.
#
# Usage: bench/compaction.sh [build-dir] [work-dir]   (defaults: build/release, a mktemp
# directory under the current one). RUNS (3), THROTTLE (50000000 bytes/s), FILL_RECORDS
# (5,000,000), KEYS (10,000), DURATION (10 s), SEGMENT_BYTES (64 MiB); WAIT: a shell command
# run before each measurement (e.g. one that waits until the machine is quiet).
set -euo pipefail

build=$(realpath "${1:-build/release}")
work=$(realpath "${2:-$(mktemp -d "$PWD/gregor-bench-XXXXXX")}")
mkdir -p "$work"
runs=${RUNS:-3}
throttle=${THROTTLE:-50000000}
fill_records=${FILL_RECORDS:-5000000}
keys=${KEYS:-10000}
duration=${DURATION:-10}
segment_bytes=${SEGMENT_BYTES:-67108864}
gregor="$build/gregor"
[[ -x $gregor ]] || { echo "missing $gregor: cmake --build $build --target gregor" >&2; exit 2; }

# shellcheck source=bench/zookeeper.sh
source "$(dirname "$0")/zookeeper.sh"
now() { date +%Y-%m-%dT%H:%M:%S.%3N; }  # the broker log's timestamp format
pids=()
broker=
cleanup() {
  [[ -n $broker ]] && kill "$broker" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

start_zookeeper "$work"

port=$(free_port)
bootstrap="127.0.0.1:$port"

# start_broker NAME CLEANER(true|false): the broker on $work/data, log in $work/NAME.log.
start_broker() {
  printf 'broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:%s\nlog.dirs=%s/data\nzookeeper.connect=127.0.0.1:%s\nauto.create.topics.enable=false\nlog.cleaner.enable=%s\nlog.cleaner.io.max.bytes.per.second=%s\n' \
    "$port" "$work" "$zk_port" "$2" "$throttle" > "$work/server.properties"
  "$gregor" broker --config "$work/server.properties" > "$work/$1.log" 2>&1 &
  broker=$!
  for _ in $(seq 300); do nc -z 127.0.0.1 "$port" && return 0; sleep 0.1; done
  echo "the broker did not listen; $work/$1.log:" >&2; tail -20 "$work/$1.log" >&2; exit 1
}
stop_broker() {  # SIGTERM: a clean stop (checkpoints written); the port must be free again
  kill -TERM "$broker"; wait "$broker" || true; broker=
  for _ in $(seq 100); do nc -z 127.0.0.1 "$port" || return 0; sleep 0.1; done
}
# wait_line FILE PATTERN SECONDS: 0 iff a line matching PATTERN appears in FILE in time.
wait_line() {
  for _ in $(seq $(($3 * 10))); do grep -q "$2" "$1" && return 0; sleep 0.1; done
  return 1
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "== a. fill: $fill_records records, $keys keys, 100-byte values, into the compacted topic dirty"
start_broker fill false
"$gregor" topics create dirty --partitions 1 --replication-factor 1 -b "$bootstrap" \
  --config cleanup.policy=compact --config segment.bytes="$segment_bytes"
"$gregor" topics create load --partitions 1 --replication-factor 1 -b "$bootstrap"
"$gregor" bench produce -b "$bootstrap" -t dirty --keys "$keys" --records "$fill_records" \
  --acks 1 --no-limits --format json > "$work/fill.json"
stop_broker
echo "dirty: $(du -sm "$work/data/dirty-0" | cut -f1) MiB in $(ls "$work/data/dirty-0"/*.log | wc -l) segments"
cp -a "$work/data" "$work/data.filled"

summary() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j["results"]; print(" ", {k: round(v, 3) for k, v in r.items() if isinstance(v, (int, float))})' "$1"; }

# measure NAME CLEANER: one produce run on a fresh copy of the filled data.
measure() {
  local name=$1 cleaner=$2 log="$work/$1.log"
  rm -rf "$work/data"; cp -a "$work/data.filled" "$work/data"; sync
  if [[ -n ${WAIT:-} ]]; then bash -c "$WAIT"; fi
  start_broker "$name" "$cleaner"
  if [[ $cleaner == true ]]; then
    wait_line "$log" "dirty-0: cleaning from" 60 || { echo "no cleaning pass started" >&2; exit 1; }
  else
    sleep 1  # the cleaner's first tick comes about a second after the start
  fi
  local load_before t0 t1
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(now)
  "$gregor" bench produce -b "$bootstrap" -t load --acks all --duration "$duration" \
    --broker-pid "$broker" --no-limits --format json > "$work/$name.json"
  t1=$(now)
  echo "$name: produce from $t0 to $t1, load $load_before -> $(cut -d' ' -f1 /proc/loadavg)"
  summary "$work/$name.json"
  if [[ $cleaner == true ]]; then
    wait_line "$log" "dirty-0: cleaned up to" 600 || echo "  the pass did not finish in 600 s" >&2
    grep -E "dirty-0: (cleaning from|cleaned up to)" "$log" | sed 's/^/  /'
    python3 - "$log" "$t0" "$t1" "$work/$name.cleaner.json" <<'EOF'
import json, re, sys
log, t0, t1, out = sys.argv[1:]
lines = open(log).read().splitlines()
start = next(l[:23] for l in lines if "dirty-0: cleaning from" in l)
done = [l for l in lines if "dirty-0: cleaned up to" in l]
end = done[0][:23] if done else None
covered = start <= t0 and end is not None and end >= t1
print(f"  pass {start} -> {end}: {'spans' if covered else 'does NOT span'} the produce run {t0} -> {t1}")
r = {"start": start, "end": end, "covers": covered}
if done:
    m = re.search(r"indexed (\d+) bytes.*recopied (\d+) bytes.*kept (\d+) bytes.*"
                  r"index (\d+) ms, clean (\d+) ms", done[0])
    indexed, recopied, kept, index_ms, clean_ms = map(int, m.groups())
    read = indexed + recopied  # both phases' reads
    r.update(read=read, kept=kept, index_ms=index_ms, clean_ms=clean_ms,
             mb_per_s=read / 1e6 / ((index_ms + clean_ms) / 1e3))
    print(f"  cleaner: read {read / 1e6:.0f} MB (index and clean phases), kept {kept / 1e6:.1f} MB, "
          f"index {index_ms} ms + clean {clean_ms} ms = {r['mb_per_s']:.1f} MB/s read")
json.dump(r, open(out, "w"))
EOF
  fi
  stop_broker
}

for i in $(seq "$runs"); do
  echo "== round $i: b. cleaner on at $throttle bytes/s, c. cleaner off"
  measure "cleaner-$i" true
  measure "baseline-$i" false
done

python3 - "$work" "$runs" <<'EOF'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
def fig(name, key):
    return [json.load(open(f"{work}/{name}-{i}.json"))["results"][key] for i in range(1, runs + 1)]
on, off = fig("cleaner", "records_per_s"), fig("baseline", "records_per_s")
cpu_on, cpu_off = fig("cleaner", "broker_cpu_s"), fig("baseline", "broker_cpu_s")
passes = [json.load(open(f"{work}/cleaner-{i}.cleaner.json")) for i in range(1, runs + 1)]
print("== results (median of", runs, "runs; each run's figures in brackets)")
print(f"produce, cleaner on : {statistics.median(on):,.0f} rec/s {[round(x) for x in on]}")
print(f"produce, cleaner off: {statistics.median(off):,.0f} rec/s {[round(x) for x in off]}")
print(f"ratio on / off      : {statistics.median(on) / statistics.median(off):.3f} "
      f"(per round: {[round(a / b, 3) for a, b in zip(on, off)]})")
print(f"broker CPU s, on / off: {statistics.median(cpu_on):.2f} / {statistics.median(cpu_off):.2f} "
      f"{[round(x, 2) for x in cpu_on]} / {[round(x, 2) for x in cpu_off]}")
rates = [p["mb_per_s"] for p in passes if "mb_per_s" in p]
if rates:
    print(f"cleaner MB/s read   : {statistics.median(rates):.1f} {[round(x, 1) for x in rates]}")
print(f"passes spanning the produce run: {sum(p['covers'] for p in passes)} of {runs}")
EOF
echo "reports and broker logs in $work"

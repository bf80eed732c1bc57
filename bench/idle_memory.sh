#!/usr/bin/env bash
# Memory per idle replica (issue 21: under 2 KiB). Starts `gregor cluster up -n BROKERS` (its
# own ZooKeeper, base port 0), reads each broker's memory, creates TOPICS topics (idle-1, ...)
# of PARTITIONS partitions each with replication factor BROKERS (or RF), waits until every
# partition is led and none is under-replicated, waits SETTLE seconds more, reads the memory
# again and prints, per broker, the growth divided by the replicas it holds (TOPICS x
# PARTITIONS x RF / BROKERS: the controller spreads replicas evenly):
#   - RssAnon (/proc/PID/status): what the kernel charges the process;
#   - jemalloc's allocated, active and resident bytes (malloc_stats_print, called through gdb,
#     written to the broker's log), when gdb is installed: what the objects themselves take
#     (allocated), the pages holding them (active), and every page the allocator holds
#     (resident: also its metadata and freed pages not yet given back).
# It also prints each broker's idle CPU: the share of one core its process used (user and
# system time, /proc/PID/stat) over the last CPU_WINDOW seconds of the settling time.
# The controller is named: it also holds the controller's context and decision journal.
# Everything started here is stopped on exit.
#
# Usage: bench/idle_memory.sh [gregor-binary] [work-dir]   (defaults: build/release/gregor, a
# mktemp directory under the current one). BROKERS (3), PARTITIONS (20000), TOPICS (1; a
# topic's assignment is one znode of about 16 bytes per partition with RF 3, so ZooKeeper's
# 1 MB ends near 65,000: keep topics at 20,000 and add topics), RF (BROKERS), SETTLE (30 s), CPU_WINDOW (20 s, at most SETTLE).
set -euo pipefail

bin=$(realpath "${1:-build/release/gregor}")
work=${2:-$(mktemp -d "$PWD/idle-memory.XXXXXX")}
brokers=${BROKERS:-3}
partitions=${PARTITIONS:-20000}
topics=${TOPICS:-1}
rf=${RF:-$brokers}
settle=${SETTLE:-30}
cpu_window=${CPU_WINDOW:-20}
[ "$cpu_window" -le "$settle" ] || cpu_window=$settle
dir="$work/cluster"

cleanup() { "$bin" cluster down --dir "$dir" > /dev/null 2>&1 || true; }
trap cleanup EXIT

mkdir -p "$work"
setsid "$bin" cluster up -n "$brokers" -d "$dir" --base-port 0 > "$work/up.log" 2>&1 &
for _ in $(seq 120); do
    grep -q '^ready' "$work/up.log" && break
    sleep 1
done
grep -q '^ready' "$work/up.log" || { echo "cluster did not start: $work/up.log" >&2; exit 1; }
sleep 5

broker_pid() { pgrep -f "broker --config $dir/broker-$1/" | head -1; }
rss_kib() { awk '/RssAnon/ {print $2}' "/proc/$1/status"; }
# User plus system time in clock ticks (fields 14 and 15 of /proc/PID/stat; the command name
# in field 2 holds no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# "allocated active resident" in bytes, or nothing without gdb.
jemalloc_bytes() {
    command -v gdb > /dev/null || return 0
    local log="$dir/broker-$2/broker.log" before
    before=$(wc -l < "$log")
    gdb -p "$1" -batch -ex 'call (void)malloc_stats_print(0, 0, "gdalxbl")' > /dev/null 2>&1 || true
    for _ in $(seq 20); do
        if tail -n +$((before + 1)) "$log" | grep -q '^Allocated:'; then
            tail -n +$((before + 1)) "$log" | grep -m1 '^Allocated:' | tr -d ',' |
                awk '{print $2, $4, $10}'
            return 0
        fi
        sleep 0.5
    done
    echo "broker $2: no jemalloc statistics in $log" >&2
}

declare -A rss0 jem0
for b in $(seq "$brokers"); do
    pid=$(broker_pid "$b")
    rss0[$b]=$(rss_kib "$pid")
    jem0[$b]=$(jemalloc_bytes "$pid" "$b")
done

# Older binaries resent a CreateTopics that outlasted --request-timeout and then reported the
# topic as existing: the topic's presence decides, not the exit code.
for t in $(seq "$topics"); do
    "$bin" topics create "idle-$t" --partitions "$partitions" --replication-factor "$rf" \
        --dir "$dir" > /dev/null || true
    for _ in $(seq 300); do
        "$bin" topics describe "idle-$t" --dir "$dir" > /dev/null 2>&1 && break
        sleep 2
    done
done
for _ in $(seq 300); do
    "$bin" cluster health --dir "$dir" 2>&1 | grep -q 'all led, none under-replicated' && break
    sleep 2
done
health=$("$bin" cluster health --dir "$dir" 2>&1 | head -1)
echo "$health"
sleep $((settle - cpu_window))
declare -A cpu0
for b in $(seq "$brokers"); do
    cpu0[$b]=$(cpu_ticks "$(broker_pid "$b")")
done
sleep "$cpu_window"
declare -A cpu1
for b in $(seq "$brokers"); do
    cpu1[$b]=$(cpu_ticks "$(broker_pid "$b")")
done
hz=$(getconf CLK_TCK)

controller=$(echo "$health" | grep -o 'controller [0-9]*' | awk '{print $2}')
replicas=$((topics * partitions * rf / brokers))
echo "per idle replica ($replicas on each broker; $topics x $partitions partitions, RF $rf," \
    "$brokers brokers)"
for b in $(seq "$brokers"); do
    pid=$(broker_pid "$b")
    rss1=$(rss_kib "$pid")
    jem1=$(jemalloc_bytes "$pid" "$b")
    role=$([ "$b" = "$controller" ] && echo " (controller)" || true)
    line=$(awk -v a="${rss0[$b]}" -v b="$rss1" -v n="$replicas" \
        'BEGIN {printf "RssAnon %.2f KiB", (b - a) / n}')
    if [ -n "${jem0[$b]}" ] && [ -n "$jem1" ]; then
        line+=$(awk -v a="${jem0[$b]}" -v b="$jem1" -v n="$replicas" 'BEGIN {
            split(a, x, " "); split(b, y, " ");
            printf ", jemalloc allocated %.2f, active %.2f, resident %.2f KiB",
                (y[1] - x[1]) / 1024 / n, (y[2] - x[2]) / 1024 / n, (y[3] - x[3]) / 1024 / n}')
    fi
    line+=$(awk -v a="${cpu0[$b]}" -v b="${cpu1[$b]}" -v hz="$hz" -v w="$cpu_window" \
        'BEGIN {printf "; idle CPU %.1f %% of a core", 100 * (b - a) / hz / w}')
    echo "broker $b$role: $line"
done

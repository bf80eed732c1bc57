// group: the pieces of `gregor bench group` shared by its modes (group.cc dispatches).
//
// A group_member is one librdkafka consumer with its own handle, subscribed to the topic in
// one group, run by its own thread: its rebalance callback (on that thread, inside
// rd_kafka_consumer_poll) assigns what the coordinator's leader handed out and stamps the
// time; the main thread reads the stamps and a copy of the assignment under the member's
// mutex. Members never commit (enable.auto.commit=false), so a rerun with the same --group
// reads the topic again.
#pragma once

#include "base/result.h"
#include "bench/kafka.h"
#include "bench/options.h"
#include "bench/report.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace gregor::bench {

using group_clock = std::chrono::steady_clock;

std::int64_t group_now_ns();

// --group, or "gregor-bench-<what>-<pid>-<unix ms>": a fresh group per run.
std::string group_id_of(const options& o, const char* what);

// CPU seconds (user + system) this process has used so far, every thread included.
double process_cpu_s();

// Every running broker's pid by id, from <--cluster-dir>/cluster.json (`gregor cluster up`'s
// state file); empty without --cluster-dir or a readable file.
std::map<int, pid_t> broker_pids(const options& o);

// It is a client_log so that librdkafka's one opaque pointer serves the log callbacks (which
// see the client_log) and the rebalance callback (which sees the member).
struct group_member : client_log {
    int index = 0;
    kafka_handle rk;
    std::atomic<std::int64_t> subscribed_ns{0};
    std::atomic<std::int64_t> assigned_ns{0};  // the last assignment; 0 while it holds none
    std::atomic<int> rebalances{0};            // assignments received
    std::atomic<bool> holding{false};          // its last rebalance event was an assignment

    // A copy of its current partitions (of the one topic).
    std::vector<int> partitions() const;
    void set_partitions(std::vector<int> p);

private:
    mutable std::mutex mutex_;
    std::vector<int> partitions_;
};

// A consumer in `group` with the rebalance callback above, auto.offset.reset=earliest and no
// commits; not yet subscribed.
result<void> open_member(const options& o, const std::string& group, group_member& m);
// Subscribes to o.topic and stamps subscribed_ns.
result<void> subscribe_member(const options& o, group_member& m);

// Whether the members' current assignments are disjoint and together cover partitions
// 0..partitions-1, every member holding one.
struct assignment_check {
    bool all_holding = false;
    int covered = 0;  // distinct partitions assigned
    int shared = 0;   // partitions assigned to more than one member
    bool complete(int partitions) const {
        return all_holding && covered == partitions && shared == 0;
    }
};
assignment_check check_assignment(const std::vector<std::unique_ptr<group_member>>& members,
                                  int partitions);

// One member's read, for the report: its own records and the times on group_now_ns().
struct member_read {
    std::int64_t records = 0;
    std::int64_t bytes = 0;
    std::int64_t subscribed_ns = 0;
    std::int64_t first_ns = 0;  // its first record
    std::int64_t last_ns = 0;   // its last record
    int partitions = 0;         // held at the end
};
// records, elapsed_s, records_per_s and mb_per_s of the group as a whole (from the first
// record of any member to the last of any), join_ms (first subscribe to first record), then
// member_<i>_records, _records_per_s, _mb_per_s (its first record to its last), _partitions.
std::vector<figure> group_read_figures(const std::vector<member_read>& members);

// A coordinator's "__consumer_offsets-<partition>: loaded in epoch E: G groups, N offsets,
// B batches, ..." log line (src/group/service_load.cc); times are the log's local time.
struct load_line {
    std::int64_t unix_ms = 0;
    std::int64_t epoch = 0;
    std::int64_t offsets = 0;
    std::int64_t batches = 0;
    std::int64_t loading_unix_ms = 0;  // its "loading partition=<p>" line before, 0: not seen
};
std::optional<load_line> parse_load_line(std::string_view line, int partition);
// The time of a "loading partition=<partition> epoch=E" line (group_coordinator.cc).
std::optional<std::int64_t> parse_loading_line(std::string_view line, int partition);
// The time at the start of a broker.log line, "2026-12-06T05:42:10.123 ...", as local time.
std::optional<std::int64_t> parse_log_time(std::string_view line);
// The __consumer_offsets partition of `group` (Kafka's partitionFor: the absolute value of
// Java's String.hashCode, modulo the partition count).
int offsets_partition_of(const std::string& group, int partitions);

result<report> run_group_consume(const options& o);
result<report> run_group_rebalance(const options& o);
result<report> run_group_commit(const options& o);
result<report> run_group_takeover(const options& o);

}  // namespace gregor::bench

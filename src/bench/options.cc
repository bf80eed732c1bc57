#include "bench/options.h"

#include "bench/errc.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>

namespace gregor::bench {
namespace {

constexpr std::int64_t record_size_max = 1'000'000;  // Kafka's default message.max.bytes
constexpr std::int64_t records_max = std::int64_t{1} << 40;
constexpr double duration_max_s = 86'400;
constexpr int producers_max = 64;
constexpr std::int64_t keys_max = 1'000'000'000;
constexpr int partitions_max = 100'000;
constexpr std::int64_t disk_bytes_min = std::int64_t{1} << 20;
constexpr std::int64_t disk_bytes_max = std::int64_t{1} << 40;
constexpr double rate_max = 10'000'000;
constexpr std::size_t topic_length_max = 249;
constexpr std::int64_t e2e_record_size_min = 16;  // send timestamp and sequence number
constexpr int group_members_max = 64;             // one thread and one client each
constexpr int join_members_max = 256;
constexpr std::int64_t commits_max = 1'000'000'000;
constexpr int commit_window_max = 100'000;
constexpr std::int64_t initial_delay_max_ms = 300'000;  // Kafka's max.poll.interval.ms default
constexpr std::size_t group_length_max = 255;

error bad(std::string what) {
    return {errc::bad_argument, std::move(what)};
}

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
    return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; });
}

bool valid_topic(const std::string& t) {
    if (t.empty() || t.size() > topic_length_max || t == "." || t == "..") {
        return false;
    }
    return std::all_of(t.begin(), t.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

result<void> validate_amounts(const options& o) {
    if (o.records && o.duration_s) {
        return bad("--records and --duration exclude each other");
    }
    if (o.records && (*o.records < 1 || *o.records > records_max)) {
        return bad(fmt::format("--records {} is out of range 1..{}", *o.records, records_max));
    }
    if (o.duration_s && !(*o.duration_s > 0 && *o.duration_s <= duration_max_s)) {
        return bad(fmt::format("--duration {} is out of range (0, {}] seconds", *o.duration_s,
                               duration_max_s));
    }
    std::int64_t size_min = o.kind == workload::e2e ? e2e_record_size_min : 1;
    if (o.record_size < size_min || o.record_size > record_size_max) {
        return bad(fmt::format("--record-size {} is out of range {}..{}", o.record_size, size_min,
                               record_size_max));
    }
    return ok();
}

result<void> validate_producer(const options& o) {
    if (!one_of(o.acks, {"0", "1", "all", "-1"})) {
        return bad(fmt::format("--acks '{}': expected 0, 1 or all", o.acks));
    }
    if (!one_of(o.compression, {"none", "gzip", "snappy", "lz4", "zstd"})) {
        return bad(fmt::format("--compression '{}': expected none, gzip, snappy, lz4 or zstd",
                               o.compression));
    }
    if (o.idempotent && !one_of(o.acks, {"all", "-1"})) {
        return bad(fmt::format("--idempotent needs --acks all (got '{}'), as Kafka producers do",
                               o.acks));
    }
    if (o.keys && (*o.keys < 1 || *o.keys > keys_max)) {
        return bad(fmt::format("--keys {} is out of range 1..{}", *o.keys, keys_max));
    }
    if (o.producers < 1 || o.producers > producers_max) {
        return bad(fmt::format("--producers {} is out of range 1..{}", o.producers, producers_max));
    }
    if (o.linger_ms && (*o.linger_ms < 0 || *o.linger_ms > 900'000)) {
        return bad(fmt::format("--linger-ms {} is out of range 0..900000", *o.linger_ms));
    }
    if (o.batch_size && *o.batch_size < 1) {
        return bad(fmt::format("--batch-size {} must be positive", *o.batch_size));
    }
    if (o.partitions && (*o.partitions < 1 || *o.partitions > partitions_max)) {
        return bad(
            fmt::format("--partitions {} is out of range 1..{}", *o.partitions, partitions_max));
    }
    if (o.replication_factor && (*o.replication_factor < 1 || *o.replication_factor > 32)) {
        return bad(
            fmt::format("--replication-factor {} is out of range 1..32", *o.replication_factor));
    }
    if ((o.kind == workload::e2e || o.kind == workload::failover) &&
        !(o.rate > 0 && o.rate <= rate_max)) {
        return bad(fmt::format("--rate {} is out of range (0, {}]", o.rate, rate_max));
    }
    return ok();
}

result<void> validate_common(const options& o) {
    if (!one_of(o.format, {"text", "json"})) {
        return bad(fmt::format("--format '{}': expected text or json", o.format));
    }
    if (!(o.timeout_s > 0 && o.timeout_s <= duration_max_s)) {
        return bad(
            fmt::format("--timeout {} is out of range (0, {}]", o.timeout_s, duration_max_s));
    }
    for (const auto& kv : o.client_settings) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            return bad(fmt::format("-X '{}': expected key=value", kv));
        }
    }
    if (o.broker_pid < 0) {
        return bad(fmt::format("--broker-pid {} is not a process id", o.broker_pid));
    }
    if (!o.limits_from.empty() && o.no_limits) {
        return bad("--limits-from and --no-limits exclude each other");
    }
    if (o.bytes < disk_bytes_min || o.bytes > disk_bytes_max) {
        return bad(fmt::format("--bytes {} is out of range {}..{}", o.bytes, disk_bytes_min,
                               disk_bytes_max));
    }
    return ok();
}

// --victim: "controller", "leader" or a broker id (a non-negative integer).
bool valid_victim(const std::string& v) {
    if (v == "controller" || v == "leader") {
        return true;
    }
    int id = -1;
    const char* last = v.data() + v.size();
    return !v.empty() && std::from_chars(v.data(), last, id).ptr == last && id >= 0;
}

result<void> validate_failover(const options& o) {
    if (!o.kill_cmd.empty() && !o.stop_cmd.empty()) {
        return bad("--kill-cmd and --stop-cmd exclude each other");
    }
    if (o.kill_cmd.empty() && o.stop_cmd.empty()) {
        return bad(
            "--kill-cmd (or --stop-cmd) is required for failover (e.g. \"kill -9 $(cat "
            "b{id}.pid)\")");
    }
    const bool kill = !o.kill_cmd.empty();
    const std::string& cmd = kill ? o.kill_cmd : o.stop_cmd;
    if (cmd.find("{id}") == std::string::npos) {
        return bad(fmt::format("{} must contain {{id}} (the broker id to {})",
                               kill ? "--kill-cmd" : "--stop-cmd", kill ? "kill" : "stop"));
    }
    if (!valid_victim(o.victim)) {
        return bad(fmt::format("--victim '{}': expected controller, leader or a broker id",
                               o.victim));
    }
    if (!o.cluster_dir.empty() && !std::filesystem::is_directory(o.cluster_dir)) {
        return bad(fmt::format("--cluster-dir {}: not a directory", o.cluster_dir));
    }
    return ok();
}

result<void> validate_group_modes(const options& o) {
    if (o.join_members && o.commits && !o.takeover) {
        return bad("--join-members and --commits exclude each other (one measurement per run)");
    }
    if (o.takeover && o.join_members) {
        return bad("--takeover and --join-members exclude each other (one measurement per run)");
    }
    if (o.takeover && o.cluster_dir.empty()) {
        return bad(
            "--takeover needs --cluster-dir (the `gregor cluster up` directory: the "
            "coordinator's pid and broker.log)");
    }
    if (!o.cluster_dir.empty() && !std::filesystem::is_directory(o.cluster_dir)) {
        return bad(fmt::format("--cluster-dir {}: not a directory", o.cluster_dir));
    }
    if (o.sync_commits && group_mode_of(o) != group_mode::commit) {
        return bad("--sync-commits goes with --commits (the commit rate)");
    }
    if (o.duration_s && group_mode_of(o) != group_mode::consume) {
        return bad("--duration bounds the group read: it goes with the consume mode only");
    }
    return ok();
}

result<void> validate_group(const options& o) {
    if (o.members < 1 || o.members > group_members_max) {
        return bad(fmt::format("--members {} is out of range 1..{}", o.members, group_members_max));
    }
    if (o.join_members && (*o.join_members < 1 || *o.join_members > join_members_max)) {
        return bad(fmt::format("--join-members {} is out of range 1..{}", *o.join_members,
                               join_members_max));
    }
    if (o.initial_delay_ms &&
        (*o.initial_delay_ms < 0 || *o.initial_delay_ms > initial_delay_max_ms)) {
        return bad(fmt::format("--initial-delay-ms {} is out of range 0..{}", *o.initial_delay_ms,
                               initial_delay_max_ms));
    }
    if (o.commits && (*o.commits < 1 || *o.commits > commits_max)) {
        return bad(fmt::format("--commits {} is out of range 1..{}", *o.commits, commits_max));
    }
    if (o.sync_commits && (*o.sync_commits < 0 || *o.sync_commits > commits_max)) {
        return bad(
            fmt::format("--sync-commits {} is out of range 0..{}", *o.sync_commits, commits_max));
    }
    if (o.commit_window < 1 || o.commit_window > commit_window_max) {
        return bad(fmt::format("--commit-window {} is out of range 1..{}", o.commit_window,
                               commit_window_max));
    }
    if (o.group.size() > group_length_max ||
        std::any_of(o.group.begin(), o.group.end(), [](char c) { return c < 0x21 || c > 0x7e; })) {
        return bad(fmt::format("--group '{}': expected 1..{} printable characters without spaces",
                               o.group, group_length_max));
    }
    if (group_mode_of(o) == group_mode::consume && o.partitions && *o.partitions < o.members) {
        return bad(
            fmt::format("--partitions {} is fewer than --members {}: some members would "
                        "have nothing to read",
                        *o.partitions, o.members));
    }
    return validate_group_modes(o);
}

}  // namespace

group_mode group_mode_of(const options& o) {
    if (o.takeover) {
        return group_mode::takeover;
    }
    if (o.join_members) {
        return group_mode::rebalance;
    }
    return o.commits ? group_mode::commit : group_mode::consume;
}

const char* group_mode_name(group_mode m) {
    switch (m) {
        case group_mode::consume:
            return "consume";
        case group_mode::rebalance:
            return "rebalance";
        case group_mode::commit:
            return "commit";
        case group_mode::takeover:
            return "takeover";
    }
    return "?";
}

const char* workload_name(workload w) {
    switch (w) {
        case workload::produce:
            return "produce";
        case workload::consume:
            return "consume";
        case workload::e2e:
            return "e2e";
        case workload::limits:
            return "limits";
        case workload::failover:
            return "failover";
        case workload::group:
            return "group";
    }
    return "?";
}

result<std::vector<std::pair<std::string, int>>> parse_bootstrap(const std::string& list) {
    std::vector<std::pair<std::string, int>> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t end = std::min(list.find(',', start), list.size());
        std::string entry = list.substr(start, end - start);
        std::size_t colon = entry.rfind(':');
        int port = 0;
        const char* first = entry.data() + colon + 1;
        const char* last = entry.data() + entry.size();
        if (colon == std::string::npos || colon == 0 ||
            std::from_chars(first, last, port).ptr != last || first == last || port < 1 ||
            port > 65535) {
            return bad(fmt::format("--bootstrap '{}': expected host:port[,host:port...]", list));
        }
        out.emplace_back(entry.substr(0, colon), port);
        start = end + 1;
    }
    return out;
}

std::string acks_setting(const std::string& acks) {
    return acks == "all" ? "-1" : acks;
}

result<void> validate(const options& o) {
    GREGOR_TRY_VOID(validate_common(o));
    if (o.kind != workload::limits) {
        if (o.bootstrap.empty()) {
            return bad("--bootstrap is required (host:port[,host:port...])");
        }
        GREGOR_TRY_VOID(parse_bootstrap(o.bootstrap));
        if (!valid_topic(o.topic)) {
            return bad(fmt::format("--topic '{}': a Kafka topic name is 1..249 of [a-zA-Z0-9._-]",
                                   o.topic));
        }
    }
    GREGOR_TRY_VOID(validate_amounts(o));
    GREGOR_TRY_VOID(validate_producer(o));
    if (o.kind == workload::failover) {
        GREGOR_TRY_VOID(validate_failover(o));
    }
    if (o.kind == workload::group) {
        GREGOR_TRY_VOID(validate_group(o));
    }
    return ok();
}

}  // namespace gregor::bench

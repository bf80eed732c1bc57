#include "broker/config.h"

#include "broker/errc.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace gregor::broker {
namespace {

using std::chrono::milliseconds;

// Keys gregor reads. Each is read by exactly one field of broker_config.
constexpr std::string_view used_keys[] = {
    "broker.id",
    "broker.id.generation.enable",
    "reserved.broker.max.id",
    "broker.rack",
    "listeners",
    "advertised.listeners",
    "listener.security.protocol.map",
    "inter.broker.listener.name",
    "security.inter.broker.protocol",
    "log.dirs",
    "log.dir",
    "zookeeper.connect",
    "zookeeper.session.timeout.ms",
    "zookeeper.connection.timeout.ms",
    "zookeeper.max.in.flight.requests",
    "socket.request.max.bytes",
    "message.max.bytes",
    "connections.max.idle.ms",
    "request.timeout.ms",
    "num.partitions",
    "default.replication.factor",
    "auto.create.topics.enable",
    "delete.topic.enable",
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "replica.lag.time.max.ms",
    "replica.fetch.max.bytes",
    "replica.fetch.response.max.bytes",
    "replica.fetch.wait.max.ms",
    "replica.fetch.min.bytes",
    "replica.fetch.backoff.ms",
    "replica.socket.timeout.ms",
    "num.replica.fetchers",
    "max.incremental.fetch.session.cache.slots",
    "replica.high.watermark.checkpoint.interval.ms",
    "log.segment.bytes",
    "log.roll.ms",
    "log.roll.hours",
    "log.retention.ms",
    "log.retention.minutes",
    "log.retention.hours",
    "log.retention.bytes",
    "log.retention.check.interval.ms",
    "log.index.interval.bytes",
    "log.index.size.max.bytes",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.flush.offset.checkpoint.interval.ms",
    "log.flush.start.offset.checkpoint.interval.ms",
    "log.message.timestamp.type",
    // cleanup.policy's broker default and the log cleaner (read by storage: log_config.h).
    "log.cleanup.policy",
    "log.cleaner.enable",
    "num.recovery.threads.per.data.dir",
    "log.cleaner.threads",
    "log.cleaner.dedupe.buffer.size",
    "log.cleaner.io.buffer.load.factor",
    "log.cleaner.io.buffer.size",
    "log.cleaner.io.max.bytes.per.second",
    "log.cleaner.backoff.ms",
    "log.cleaner.min.cleanable.ratio",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms",
    "log.cleaner.delete.retention.ms",
    "controlled.shutdown.enable",
    "controlled.shutdown.max.retries",
    "controlled.shutdown.retry.backoff.ms",
    "auto.leader.rebalance.enable",
    "leader.imbalance.per.broker.percentage",
    "leader.imbalance.check.interval.seconds",
    "controller.socket.timeout.ms",
    "offsets.topic.replication.factor",
    "offsets.topic.num.partitions",
    "offsets.retention.minutes",
    "group.initial.rebalance.delay.ms",
    "group.min.session.timeout.ms",
    "group.max.session.timeout.ms",
    "group.max.size",
    "offsets.topic.segment.bytes",
    "offsets.topic.compression.codec",
    "offsets.retention.check.interval.ms",
    "offsets.commit.timeout.ms",
    "offsets.commit.required.acks",
    "offsets.load.buffer.size",
    "offset.metadata.max.bytes",
    "producer.id.expiration.ms",
    // gregor's own: the operator HTTP listener (/metrics), host:port; off when unset.
    "gregor.http.listener",
    // gregor's own: the controller replaces a broker whose process is provably gone without
    // waiting for its ZooKeeper session to expire (src/controller/README.md).
    "gregor.controller.fast.crash.detection.enable",
};

// Kafka broker keys that gregor accepts but that have no effect: thread pools (gregor runs
// one event loop), socket buffer sizes (the kernel autotunes), features not built yet.
constexpr std::string_view ignored_keys[] = {
    "num.network.threads",
    "num.io.threads",
    "background.threads",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "queued.max.requests",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "transaction.state.log.num.partitions",
    "log.preallocate",
    "compression.type",
    "inter.broker.protocol.version",
    "log.message.format.version",
    "zookeeper.set.acl",
    "metric.reporters",
    "log.flush.scheduler.interval.ms",
    "log.segment.delete.delay.ms",
    "replica.fetch.min.bytes.override",
    // Idle producers expire on the retention timer (log.retention.check.interval.ms).
    "producer.id.expiration.check.interval.ms",
};

bool is_used(std::string_view key) {
    return std::find(std::begin(used_keys), std::end(used_keys), key) != std::end(used_keys);
}
bool is_ignored(std::string_view key) {
    return std::find(std::begin(ignored_keys), std::end(ignored_keys), key) !=
           std::end(ignored_keys);
}

// Levenshtein distance, for "did you mean" hints on unknown keys.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1U : 0U)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string suggestion(std::string_view key) {
    std::string_view best;
    std::size_t best_distance = 4;  // suggest only close misspellings
    for (auto candidate : used_keys) {
        std::size_t d = distance(key, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    return best.empty() ? std::string{} : fmt::format(" (did you mean '{}'?)", best);
}

std::string where(const property& p) {
    return p.line > 0 ? fmt::format(" at line {}", p.line) : std::string(" in --set");
}

// Typed access to the merged settings; each getter validates and names the key on error.
class reader {
public:
    explicit reader(std::map<std::string, property> settings) : settings_(std::move(settings)) {}

    bool has(std::string_view key) const { return settings_.contains(std::string(key)); }
    const property* find(std::string_view key) const {
        auto it = settings_.find(std::string(key));
        return it == settings_.end() ? nullptr : &it->second;
    }

    result<std::int64_t> integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) const {
        const property* p = find(key);
        if (p == nullptr) {
            return fallback;
        }
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(p->value.data(), p->value.data() + p->value.size(), v);
        if (ec != std::errc{} || end != p->value.data() + p->value.size()) {
            return bad(*p, "an integer");
        }
        if (v < min || v > max) {
            return bad(*p, fmt::format("an integer in [{}, {}]", min, max));
        }
        return v;
    }

    template <class T>
    result<T> number(std::string_view key, T fallback, std::int64_t min,
                     std::int64_t max = std::numeric_limits<T>::max()) const {
        GREGOR_TRY(std::int64_t v, integer(key, fallback, min, max));
        return static_cast<T>(v);
    }

    result<milliseconds> ms(std::string_view key, milliseconds fallback,
                            std::int64_t min = 0) const {
        GREGOR_TRY(std::int64_t v, integer(key, fallback.count(), min, INT64_MAX));
        return milliseconds(v);
    }

    result<bool> boolean(std::string_view key, bool fallback) const {
        const property* p = find(key);
        if (p == nullptr) {
            return fallback;
        }
        if (p->value == "true") {
            return true;
        }
        if (p->value == "false") {
            return false;
        }
        return bad(*p, "true or false");
    }

    std::string text(std::string_view key, std::string_view fallback) const {
        const property* p = find(key);
        return p == nullptr ? std::string(fallback) : p->value;
    }

    error bad(const property& p, std::string_view expected) const {
        return error(errc::config_bad_value,
                     fmt::format("{}={}{}: expected {}", p.key, p.value, where(p), expected));
    }

private:
    std::map<std::string, property> settings_;
};

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t comma = s.find(',', start);
        std::string_view item =
            s.substr(start, comma == std::string_view::npos ? s.npos : comma - start);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (!item.empty()) {
            out.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

// "NAME://host:port" entries; the protocol map gives each listener's security protocol.
result<std::vector<endpoint>> parse_endpoints(const reader& r, std::string_view key,
                                              const std::map<std::string, std::string>& protocols) {
    std::vector<endpoint> out;
    const property* p = r.find(key);
    for (const auto& item : split_list(r.text(key, "PLAINTEXT://:9092"))) {
        auto sep = item.find("://");
        auto colon = item.rfind(':');
        if (sep == std::string::npos || colon == std::string::npos || colon < sep + 3) {
            return r.bad(p ? *p : property{std::string(key), item, 0}, "NAME://host:port");
        }
        endpoint e;
        e.listener = item.substr(0, sep);
        e.host = item.substr(sep + 3, colon - sep - 3);
        if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') {
            e.host = e.host.substr(1, e.host.size() - 2);  // [::1]
        }
        std::string port = item.substr(colon + 1);
        unsigned v = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc{} || end != port.data() + port.size() || v > 65535) {
            return r.bad(p ? *p : property{std::string(key), item, 0}, "a port in [0, 65535]");
        }
        e.port = static_cast<std::uint16_t>(v);
        auto proto = protocols.find(e.listener);
        if (proto == protocols.end()) {
            return error(errc::config_bad_value, fmt::format("{}: listener {} has no entry in "
                                                             "listener.security.protocol.map",
                                                             key, e.listener));
        }
        if (proto->second != "PLAINTEXT") {
            return error(errc::config_unsupported,
                         fmt::format("{}: listener {} uses {}; gregor supports PLAINTEXT only", key,
                                     e.listener, proto->second));
        }
        e.security_protocol = proto->second;
        out.push_back(std::move(e));
    }
    return out;
}

result<std::map<std::string, std::string>> protocol_map(const reader& r) {
    std::map<std::string, std::string> out;
    std::string_view key = "listener.security.protocol.map";
    for (const auto& item : split_list(r.text(
             key, "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"))) {
        auto colon = item.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
            return r.bad(*r.find(key), "LISTENER:PROTOCOL pairs");
        }
        out[item.substr(0, colon)] = item.substr(colon + 1);
    }
    return out;
}

result<void> read_identity(const reader& r, broker_config& c) {
    GREGOR_TRY(c.broker_id_generation_enable, r.boolean("broker.id.generation.enable", true));
    GREGOR_TRY(c.reserved_broker_max_id, r.number<std::int32_t>("reserved.broker.max.id", 1000, 0));
    std::int64_t id_max = c.broker_id_generation_enable ? c.reserved_broker_max_id : INT32_MAX;
    GREGOR_TRY(std::int32_t id, r.number<std::int32_t>("broker.id", -1, -1, id_max));
    if (id < 0 && !c.broker_id_generation_enable) {
        return error(errc::config_missing_key,
                     "broker.id must be set when broker.id.generation.enable=false");
    }
    c.broker_id = model::node_id(id);
    if (r.has("broker.rack")) {
        c.rack = r.text("broker.rack", "");
    }
    if (r.has("gregor.http.listener")) {
        c.http_listener = r.text("gregor.http.listener", "");
    }
    std::string dirs =
        r.has("log.dirs") ? r.text("log.dirs", "") : r.text("log.dir", "/tmp/kafka-logs");
    c.log_dirs = split_list(dirs);
    if (c.log_dirs.empty()) {
        return error(errc::config_bad_value, "log.dirs: expected at least one directory");
    }
    return ok();
}

result<void> read_network(const reader& r, broker_config& c) {
    GREGOR_TRY(auto protocols, protocol_map(r));
    GREGOR_TRY(c.listeners, parse_endpoints(r, "listeners", protocols));
    if (r.has("advertised.listeners")) {
        GREGOR_TRY(c.advertised_listeners, parse_endpoints(r, "advertised.listeners", protocols));
    } else {
        c.advertised_listeners = c.listeners;
    }
    c.inter_broker_listener_name =
        r.text("inter.broker.listener.name", r.text("security.inter.broker.protocol", "PLAINTEXT"));
    bool found =
        std::any_of(c.advertised_listeners.begin(), c.advertised_listeners.end(),
                    [&](const endpoint& e) { return e.listener == c.inter_broker_listener_name; });
    if (!found) {
        return error(errc::config_bad_value,
                     fmt::format("inter.broker.listener.name={} is not one of the advertised "
                                 "listeners",
                                 c.inter_broker_listener_name));
    }
    GREGOR_TRY(c.socket_request_max_bytes,
               r.number<std::int32_t>("socket.request.max.bytes", 104857600, 1));
    GREGOR_TRY(c.message_max_bytes, r.number<std::int32_t>("message.max.bytes", 1048588, 0));
    GREGOR_TRY(c.connections_max_idle, r.ms("connections.max.idle.ms", c.connections_max_idle));
    GREGOR_TRY(c.request_timeout, r.ms("request.timeout.ms", c.request_timeout));
    return ok();
}

result<void> read_zookeeper(const reader& r, broker_config& c) {
    if (!r.has("zookeeper.connect") || r.text("zookeeper.connect", "").empty()) {
        return error(errc::config_missing_key,
                     "zookeeper.connect is required (e.g. zookeeper.connect=127.0.0.1:2181)");
    }
    c.zookeeper_connect = r.text("zookeeper.connect", "");
    GREGOR_TRY(c.zookeeper_session_timeout,
               r.ms("zookeeper.session.timeout.ms", c.zookeeper_session_timeout, 1));
    GREGOR_TRY(c.zookeeper_connection_timeout,
               r.ms("zookeeper.connection.timeout.ms", c.zookeeper_session_timeout, 1));
    GREGOR_TRY(c.zookeeper_max_in_flight_requests,
               r.number<std::int32_t>("zookeeper.max.in.flight.requests", 10, 1));
    return ok();
}

// Kafka's precedence: *.ms over *.minutes over *.hours.
result<milliseconds> read_duration(const reader& r, std::string_view ms_key,
                                   std::string_view minutes_key, std::string_view hours_key,
                                   std::int64_t default_hours, std::int64_t min) {
    if (r.has(ms_key)) {
        return r.ms(ms_key, milliseconds(0), min);
    }
    if (!minutes_key.empty() && r.has(minutes_key)) {
        GREGOR_TRY(std::int64_t m, r.integer(minutes_key, 0, min, INT64_MAX / 60000));
        return milliseconds(m * 60000);
    }
    GREGOR_TRY(std::int64_t h, r.integer(hours_key, default_hours, min, INT64_MAX / 3600000));
    return milliseconds(h * 3600000);
}

result<void> read_log(const reader& r, broker_config& c) {
    GREGOR_TRY(c.log_segment_bytes,
               r.number<std::int32_t>("log.segment.bytes", c.log_segment_bytes, 14));
    GREGOR_TRY(c.log_roll, read_duration(r, "log.roll.ms", "", "log.roll.hours", 168, 1));
    GREGOR_TRY(c.log_retention, read_duration(r, "log.retention.ms", "log.retention.minutes",
                                              "log.retention.hours", 168, -1));
    GREGOR_TRY(c.log_retention_bytes, r.integer("log.retention.bytes", -1, -1, INT64_MAX));
    GREGOR_TRY(c.log_retention_check_interval,
               r.ms("log.retention.check.interval.ms", c.log_retention_check_interval, 1));
    GREGOR_TRY(c.log_index_interval_bytes,
               r.number<std::int32_t>("log.index.interval.bytes", 4096, 0));
    GREGOR_TRY(c.log_index_size_max_bytes,
               r.number<std::int32_t>("log.index.size.max.bytes", 10485760, 4));
    GREGOR_TRY(c.log_flush_interval_messages,
               r.integer("log.flush.interval.messages", INT64_MAX, 1, INT64_MAX));
    if (r.has("log.flush.interval.ms")) {
        GREGOR_TRY(c.log_flush_interval, r.ms("log.flush.interval.ms", milliseconds(0)));
    }
    GREGOR_TRY(
        c.log_flush_offset_checkpoint_interval,
        r.ms("log.flush.offset.checkpoint.interval.ms", c.log_flush_offset_checkpoint_interval));
    GREGOR_TRY(c.log_flush_start_offset_checkpoint_interval,
               r.ms("log.flush.start.offset.checkpoint.interval.ms",
                    c.log_flush_start_offset_checkpoint_interval));
    std::string ts = r.text("log.message.timestamp.type", "CreateTime");
    if (ts != "CreateTime" && ts != "LogAppendTime") {
        return r.bad(*r.find("log.message.timestamp.type"), "CreateTime or LogAppendTime");
    }
    c.log_message_timestamp_log_append_time = ts == "LogAppendTime";
    return ok();
}

result<void> read_topics_and_replication(const reader& r, broker_config& c) {
    GREGOR_TRY(c.num_partitions, r.number<std::int32_t>("num.partitions", 1, 1));
    GREGOR_TRY(c.default_replication_factor,
               r.number<std::int16_t>("default.replication.factor", 1, 1));
    GREGOR_TRY(c.auto_create_topics_enable, r.boolean("auto.create.topics.enable", true));
    GREGOR_TRY(c.delete_topic_enable, r.boolean("delete.topic.enable", true));
    GREGOR_TRY(c.min_insync_replicas, r.number<std::int32_t>("min.insync.replicas", 1, 1));
    GREGOR_TRY(c.unclean_leader_election_enable,
               r.boolean("unclean.leader.election.enable", false));
    GREGOR_TRY(c.replica_lag_time_max, r.ms("replica.lag.time.max.ms", c.replica_lag_time_max, 1));
    GREGOR_TRY(c.replica_fetch_max_bytes,
               r.number<std::int32_t>("replica.fetch.max.bytes", 1048576, 0));
    GREGOR_TRY(c.replica_fetch_response_max_bytes,
               r.number<std::int32_t>("replica.fetch.response.max.bytes", 10485760, 0));
    GREGOR_TRY(c.replica_fetch_wait_max,
               r.ms("replica.fetch.wait.max.ms", c.replica_fetch_wait_max));
    GREGOR_TRY(c.replica_fetch_min_bytes, r.number<std::int32_t>("replica.fetch.min.bytes", 1, 0));
    GREGOR_TRY(c.replica_fetch_backoff, r.ms("replica.fetch.backoff.ms", c.replica_fetch_backoff));
    GREGOR_TRY(c.replica_socket_timeout,
               r.ms("replica.socket.timeout.ms", c.replica_socket_timeout, 1));
    GREGOR_TRY(c.num_replica_fetchers, r.number<std::int32_t>("num.replica.fetchers", 1, 1));
    GREGOR_TRY(c.max_incremental_fetch_session_cache_slots,
               r.number<std::int32_t>("max.incremental.fetch.session.cache.slots", 1000, 0));
    GREGOR_TRY(c.replica_high_watermark_checkpoint_interval,
               r.ms("replica.high.watermark.checkpoint.interval.ms",
                    c.replica_high_watermark_checkpoint_interval, 1));
    return ok();
}

result<void> read_controller_and_groups(const reader& r, broker_config& c) {
    GREGOR_TRY(c.controlled_shutdown_enable, r.boolean("controlled.shutdown.enable", true));
    GREGOR_TRY(c.controlled_shutdown_max_retries,
               r.number<std::int32_t>("controlled.shutdown.max.retries", 3, 0));
    GREGOR_TRY(c.controlled_shutdown_retry_backoff,
               r.ms("controlled.shutdown.retry.backoff.ms", c.controlled_shutdown_retry_backoff));
    GREGOR_TRY(c.auto_leader_rebalance_enable, r.boolean("auto.leader.rebalance.enable", true));
    GREGOR_TRY(c.fast_crash_detection,
               r.boolean("gregor.controller.fast.crash.detection.enable", true));
    GREGOR_TRY(c.leader_imbalance_per_broker_percentage,
               r.number<std::int32_t>("leader.imbalance.per.broker.percentage", 10, 0, 100));
    GREGOR_TRY(std::int64_t check_s,
               r.integer("leader.imbalance.check.interval.seconds", 300, 1, INT32_MAX));
    c.leader_imbalance_check_interval = std::chrono::seconds(check_s);
    GREGOR_TRY(c.controller_socket_timeout,
               r.ms("controller.socket.timeout.ms", c.controller_socket_timeout, 1));
    GREGOR_TRY(c.offsets_topic_replication_factor,
               r.number<std::int16_t>("offsets.topic.replication.factor", 3, 1));
    GREGOR_TRY(c.offsets_topic_num_partitions,
               r.number<std::int32_t>("offsets.topic.num.partitions", 50, 1));
    GREGOR_TRY(std::int64_t retention_min,
               r.integer("offsets.retention.minutes", 10080, 1, INT32_MAX));
    c.offsets_retention = std::chrono::minutes(retention_min);
    GREGOR_TRY(c.group_initial_rebalance_delay,
               r.ms("group.initial.rebalance.delay.ms", c.group_initial_rebalance_delay));
    GREGOR_TRY(c.group_min_session_timeout,
               r.ms("group.min.session.timeout.ms", c.group_min_session_timeout));
    GREGOR_TRY(c.group_max_session_timeout,
               r.ms("group.max.session.timeout.ms", c.group_max_session_timeout));
    GREGOR_TRY(c.group_max_size, r.number<std::int32_t>("group.max.size", INT32_MAX, 1));
    GREGOR_TRY(c.num_recovery_threads_per_data_dir,
               r.number<std::int32_t>("num.recovery.threads.per.data.dir", 1, 1));
    GREGOR_TRY(c.offsets_topic_segment_bytes,
               r.number<std::int32_t>("offsets.topic.segment.bytes", 104857600, 1));
    GREGOR_TRY(c.offsets_topic_compression_codec,
               r.number<std::int32_t>("offsets.topic.compression.codec", 0, 0, 4));
    GREGOR_TRY(c.offsets_retention_check_interval,
               r.ms("offsets.retention.check.interval.ms", c.offsets_retention_check_interval, 1));
    GREGOR_TRY(c.offsets_commit_timeout,
               r.ms("offsets.commit.timeout.ms", c.offsets_commit_timeout, 1));
    // Deprecated in Kafka 3.8; the coordinator always waits for the ISR (-1).
    GREGOR_TRY(std::int16_t required_acks,
               r.number<std::int16_t>("offsets.commit.required.acks", -1, -1, -1));
    (void)required_acks;
    GREGOR_TRY(c.offsets_load_buffer_size,
               r.number<std::int32_t>("offsets.load.buffer.size", 5242880, 1));
    GREGOR_TRY(c.offset_metadata_max_bytes,
               r.number<std::int32_t>("offset.metadata.max.bytes", 4096, 0));
    if (c.group_min_session_timeout > c.group_max_session_timeout) {
        return error(errc::config_bad_value,
                     "group.min.session.timeout.ms must not exceed group.max.session.timeout.ms");
    }
    return ok();
}

}  // namespace

std::string endpoint::to_string() const {
    return fmt::format("{}://{}:{}", listener, host, port);
}

result<broker_config> build_config(const std::vector<property>& settings) {
    broker_config c;
    std::map<std::string, property> merged;
    for (const auto& p : settings) {
        if (is_ignored(p.key)) {
            c.ignored_keys.push_back(p.key);
        } else if (!is_used(p.key)) {
            return error(errc::config_unknown_key, fmt::format("unknown config key '{}'{}{}", p.key,
                                                               where(p), suggestion(p.key)));
        }
        merged[p.key] = p;
    }
    for (const auto& [key, p] : merged) {
        c.explicit_settings.push_back(p);
    }
    reader r(std::move(merged));
    GREGOR_TRY_VOID(read_identity(r, c));
    GREGOR_TRY_VOID(read_network(r, c));
    GREGOR_TRY_VOID(read_zookeeper(r, c));
    GREGOR_TRY_VOID(read_log(r, c));
    GREGOR_TRY_VOID(read_topics_and_replication(r, c));
    GREGOR_TRY_VOID(read_controller_and_groups(r, c));
    return c;
}

result<broker_config> load_config(const std::string& path,
                                  const std::vector<std::string>& overrides) {
    std::vector<property> settings;
    if (!path.empty()) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            return error(errc::config_io, fmt::format("cannot open config file {}", path));
        }
        std::stringstream text;
        text << in.rdbuf();
        GREGOR_TRY(settings, parse_properties(text.str()));
    }
    for (const auto& o : overrides) {
        GREGOR_TRY(property p, parse_override(o));
        settings.push_back(std::move(p));
    }
    return build_config(settings);
}

std::string describe(const broker_config& c) {
    std::string out = fmt::format("broker.id={} zookeeper.connect={} log.dirs={}", c.broker_id,
                                  c.zookeeper_connect, fmt::join(c.log_dirs, ","));
    for (const auto& e : c.advertised_listeners) {
        out += fmt::format(" advertised={}", e.to_string());
    }
    for (const auto& p : c.explicit_settings) {
        out += fmt::format("\n  {}={}", p.key, p.value);
    }
    if (!c.ignored_keys.empty()) {
        out +=
            fmt::format("\n  ignored (no effect in gregor): {}", fmt::join(c.ignored_keys, ", "));
    }
    return out;
}

}  // namespace gregor::broker

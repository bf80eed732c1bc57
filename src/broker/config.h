// Broker configuration: Kafka's server.properties keys, defaults and validation.
//
// load_config() reads a properties file plus `--set key=value` overrides and returns a
// typed broker_config, or one clear error naming the offending key (and its line). Every key
// Kafka's broker defines that gregor implements is typed and range-checked here; keys that
// Kafka defines but gregor has no use for (thread pool sizes and the like, which appear in
// Kafka's sample server.properties) are accepted and listed as ignored, so an existing Kafka
// config works; anything else is an unknown key. Built once at start-up on the main thread.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "broker/properties.h"
#include "model/fundamental.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gregor::broker {

struct endpoint {
    std::string listener;  // listener name, e.g. "PLAINTEXT" or "INTERNAL"
    std::string host;      // empty = all interfaces (bind) / the canonical host name (advertise)
    std::uint16_t port = 0;
    std::string security_protocol;  // PLAINTEXT (the only one gregor implements today)

    std::string to_string() const;  // "LISTENER://host:port"
};

struct broker_config {
    model::node_id broker_id{-1};
    bool broker_id_generation_enable = true;
    std::int32_t reserved_broker_max_id = 1000;
    std::optional<std::string> rack;
    std::vector<endpoint> listeners;
    std::vector<endpoint> advertised_listeners;
    std::string inter_broker_listener_name;
    std::vector<std::string> log_dirs;

    std::string zookeeper_connect;
    std::chrono::milliseconds zookeeper_session_timeout{18000};
    std::chrono::milliseconds zookeeper_connection_timeout{18000};
    std::int32_t zookeeper_max_in_flight_requests = 10;

    std::int32_t socket_request_max_bytes = 104857600;
    std::int32_t message_max_bytes = 1048588;
    std::chrono::milliseconds connections_max_idle{600000};
    std::chrono::milliseconds request_timeout{30000};

    std::int32_t num_partitions = 1;
    std::int16_t default_replication_factor = 1;
    bool auto_create_topics_enable = true;
    bool delete_topic_enable = true;
    std::int32_t min_insync_replicas = 1;
    bool unclean_leader_election_enable = false;

    std::chrono::milliseconds replica_lag_time_max{30000};
    std::int32_t replica_fetch_max_bytes = 1048576;
    std::int32_t replica_fetch_response_max_bytes = 10485760;
    std::chrono::milliseconds replica_fetch_wait_max{500};
    std::int32_t replica_fetch_min_bytes = 1;
    std::chrono::milliseconds replica_fetch_backoff{1000};
    std::chrono::milliseconds replica_socket_timeout{30000};
    std::int32_t num_replica_fetchers = 1;
    std::chrono::milliseconds replica_high_watermark_checkpoint_interval{5000};
    // Incremental fetch sessions (KIP-227) the broker keeps; 0 turns them off.
    std::int32_t max_incremental_fetch_session_cache_slots = 1000;

    std::int32_t log_segment_bytes = 1073741824;
    std::chrono::milliseconds log_roll{168LL * 3600 * 1000};
    std::chrono::milliseconds log_retention{168LL * 3600 * 1000};  // negative = forever
    std::int64_t log_retention_bytes = -1;
    std::chrono::milliseconds log_retention_check_interval{300000};
    std::int32_t log_index_interval_bytes = 4096;
    std::int32_t log_index_size_max_bytes = 10485760;
    std::int64_t log_flush_interval_messages = INT64_MAX;
    std::optional<std::chrono::milliseconds> log_flush_interval;  // unset: the OS flushes
    std::chrono::milliseconds log_flush_offset_checkpoint_interval{60000};
    std::chrono::milliseconds log_flush_start_offset_checkpoint_interval{60000};
    bool log_message_timestamp_log_append_time = false;  // log.message.timestamp.type

    bool controlled_shutdown_enable = true;
    std::int32_t controlled_shutdown_max_retries = 3;
    std::chrono::milliseconds controlled_shutdown_retry_backoff{5000};
    bool auto_leader_rebalance_enable = true;
    // gregor.controller.fast.crash.detection.enable: see controller_config::fast_crash_detection.
    bool fast_crash_detection = true;
    std::int32_t leader_imbalance_per_broker_percentage = 10;
    std::chrono::seconds leader_imbalance_check_interval{300};
    std::chrono::milliseconds controller_socket_timeout{30000};

    std::int16_t offsets_topic_replication_factor = 3;
    std::int32_t offsets_topic_num_partitions = 50;
    std::chrono::minutes offsets_retention{10080};
    std::chrono::milliseconds group_initial_rebalance_delay{3000};
    std::chrono::milliseconds group_min_session_timeout{6000};
    std::chrono::milliseconds group_max_session_timeout{1800000};
    std::int32_t group_max_size = INT32_MAX;
    // Threads per log dir opening logs at start-up and closing them at shutdown.
    std::int32_t num_recovery_threads_per_data_dir = 1;
    std::int32_t offsets_topic_segment_bytes = 104857600;
    std::int32_t offsets_topic_compression_codec = 0;  // 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
    std::chrono::milliseconds offsets_retention_check_interval{600000};
    std::chrono::milliseconds offsets_commit_timeout{5000};
    std::int32_t offsets_load_buffer_size = 5242880;
    std::int32_t offset_metadata_max_bytes = 4096;

    // gregor.http.listener: host:port of the operator HTTP listener (/metrics); unset: off.
    std::optional<std::string> http_listener;

    // Keys that were set but have no effect in gregor, for the start-up log.
    std::vector<std::string> ignored_keys;
    // Every key that was set explicitly, with its value, for the start-up log.
    std::vector<property> explicit_settings;
};

// Builds the config from properties (file entries first, then overrides; the last setting
// of a key wins). Returns the config iff every key is known and every value valid.
result<broker_config> build_config(const std::vector<property>& settings);

// Reads `path` (if not empty), applies `overrides` ("key=value"), and builds the config.
result<broker_config> load_config(const std::string& path,
                                  const std::vector<std::string>& overrides);

// Multi-line description of the effective configuration, for the start-up log.
std::string describe(const broker_config& config);

}  // namespace gregor::broker

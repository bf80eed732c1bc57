// The per-log settings, named after Kafka's topic config keys, with Kafka's broker-level
// defaults. broker_log_defaults() reads the broker keys (log.segment.bytes, log.roll.ms |
// log.roll.hours, log.retention.ms | minutes | hours, producer.id.expiration.ms, ...);
// apply_topic_overrides() applies a topic's own keys (segment.bytes, retention.ms, ...) on
// top; broker_cleaner_config() reads the log cleaner's own keys. Keys that are not log keys are ignored (other modules own them); a log key with a
// malformed or out-of-range value is errc::invalid_config naming the key. Value type; any
// thread.
#pragma once

#include "base/result.h"
#include "model/record_batch.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>

namespace gregor::storage {

using config_map = std::map<std::string, std::string>;

inline constexpr std::int64_t hour_ms = 60LL * 60 * 1000;
inline constexpr std::int64_t no_limit = std::numeric_limits<std::int64_t>::max();

struct log_config {
    std::uint64_t segment_bytes = 1024ULL * 1024 * 1024;   // segment.bytes
    std::int64_t segment_ms = 168 * hour_ms;               // segment.ms
    std::int64_t retention_ms = 168 * hour_ms;             // retention.ms; -1: none
    std::int64_t retention_bytes = -1;                     // retention.bytes; -1: none
    std::uint32_t index_interval_bytes = 4096;             // index.interval.bytes
    std::uint32_t segment_index_bytes = 10 * 1024 * 1024;  // segment.index.bytes
    std::int64_t flush_messages = no_limit;                // flush.messages
    std::int64_t flush_ms = no_limit;                      // flush.ms
    model::timestamp_type timestamp_type = model::timestamp_type::create_time;
    std::uint32_t max_message_bytes = 1024 * 1024 + 12;  // max.message.bytes
    // Broker key only (no topic override, as in Kafka): idle producers' state expires.
    std::int64_t producer_id_expiration_ms = 24 * hour_ms;  // producer.id.expiration.ms

    // cleanup.policy (broker: log.cleanup.policy): "delete", "compact" or both.
    bool compact = false;  // the cleaner keeps the latest record of every key
    bool delete_ = true;   // retention.ms / retention.bytes delete old segments
    // Compaction (broker: log.cleaner.min.cleanable.ratio, log.cleaner.*.ms).
    double min_cleanable_dirty_ratio = 0.5;           // min.cleanable.dirty.ratio
    std::int64_t min_compaction_lag_ms = 0;           // min.compaction.lag.ms
    std::int64_t max_compaction_lag_ms = no_limit;    // max.compaction.lag.ms
    std::int64_t delete_retention_ms = 24 * hour_ms;  // delete.retention.ms

    // How long the active segment may stay open: segment.ms, or max.compaction.lag.ms for
    // compacted logs so a quiet partition's head becomes cleanable (Kafka's maxSegmentMs).
    std::int64_t roll_ms() const {
        return compact ? std::min(segment_ms, max_compaction_lag_ms) : segment_ms;
    }
    bool operator==(const log_config&) const = default;
};

// The log cleaner's broker settings (log.cleaner.*), with Kafka's defaults.
struct cleaner_config {
    bool enable = true;                                 // log.cleaner.enable
    std::int32_t threads = 1;                           // log.cleaner.threads
    std::int64_t dedupe_buffer_size = 128LL << 20;      // log.cleaner.dedupe.buffer.size
    double load_factor = 0.9;                           // log.cleaner.io.buffer.load.factor
    std::int64_t io_buffer_size = 512 * 1024;           // log.cleaner.io.buffer.size
    double io_max_bytes_per_second = 1.7976931348623157e308;  // log.cleaner.io.max.bytes.per.second
    std::int64_t backoff_ms = 15'000;                   // log.cleaner.backoff.ms

    // Offset map memory of one thread (the buffer is split evenly, at most 2 GiB each).
    std::size_t map_bytes_per_thread() const;
};

result<log_config> broker_log_defaults(const config_map& broker_props);
result<log_config> apply_topic_overrides(log_config base, const config_map& topic_configs);
result<cleaner_config> broker_cleaner_config(const config_map& broker_props);

}  // namespace gregor::storage

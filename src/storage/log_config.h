// The per-log settings, named after Kafka's topic config keys, with Kafka's broker-level
// defaults. broker_log_defaults() reads the broker keys (log.segment.bytes, log.roll.ms |
// log.roll.hours, log.retention.ms | minutes | hours, producer.id.expiration.ms, ...);
// apply_topic_overrides() applies a topic's own keys (segment.bytes, retention.ms, ...) on
// top. Keys that are not log keys are ignored (other modules own them); a log key with a
// malformed or out-of-range value is errc::invalid_config naming the key. Value type; any
// thread.
#pragma once

#include "base/result.h"
#include "model/record_batch.h"

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
};

result<log_config> broker_log_defaults(const config_map& broker_props);
result<log_config> apply_topic_overrides(log_config base, const config_map& topic_configs);

}  // namespace gregor::storage

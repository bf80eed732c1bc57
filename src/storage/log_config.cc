#include "storage/log_config.h"

#include "base/strings.h"
#include "storage/errc.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <optional>

namespace gregor::storage {
namespace {

// Smallest segment Kafka accepts (segment.bytes >= 14 bytes is Kafka's floor; we keep a
// saner floor so one header always fits).
constexpr std::int64_t segment_bytes_min = 1024;
constexpr std::int64_t segment_index_bytes_min = 64;

error bad(const std::string& key, const std::string& value) {
    return error(errc::invalid_config, fmt::format("{}={} is not valid", key, value));
}

// Reads an integer key in [lo, hi]; nullopt when absent.
result<std::optional<std::int64_t>> get_int(const config_map& m, const std::string& key,
                                            std::int64_t lo, std::int64_t hi) {
    auto it = m.find(key);
    if (it == m.end()) {
        return std::optional<std::int64_t>{};
    }
    std::int64_t v = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) {
        return bad(key, s);
    }
    return std::optional<std::int64_t>(v);
}

result<std::optional<model::timestamp_type>> get_ts_type(const config_map& m,
                                                         const std::string& key) {
    auto it = m.find(key);
    if (it == m.end()) {
        return std::optional<model::timestamp_type>{};
    }
    if (it->second == "CreateTime") {
        return std::optional(model::timestamp_type::create_time);
    }
    if (it->second == "LogAppendTime") {
        return std::optional(model::timestamp_type::log_append_time);
    }
    return bad(key, it->second);
}

// Reads a floating-point key in [lo, hi]; nullopt when absent.
result<std::optional<double>> get_double(const config_map& m, const std::string& key, double lo,
                                         double hi) {
    auto it = m.find(key);
    if (it == m.end()) {
        return std::optional<double>{};
    }
    const auto& s = it->second;
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || !(v >= lo && v <= hi)) {
        return bad(key, s);
    }
    return std::optional<double>(v);
}

// cleanup.policy: a comma-separated list of "compact" and "delete" (order, spaces and
// repeats do not matter, as in Kafka's ValidList); sets c.compact and c.delete_.
result<void> get_policy(log_config& c, const config_map& m, const std::string& key) {
    auto it = m.find(key);
    if (it == m.end()) {
        return ok();
    }
    bool compact = false;
    bool del = false;
    for (auto piece : split(it->second, ',')) {
        auto item = trim(piece);
        if (item == "compact") {
            compact = true;
        } else if (item == "delete") {
            del = true;
        } else if (!item.empty() || it->second.find(',') != std::string::npos) {
            return bad(key, it->second);
        }
    }
    // An empty list: neither policy (Kafka accepts it; nothing is ever removed).
    c.compact = compact;
    c.delete_ = del;
    return ok();
}

// Applies the keys common to both levels, under `prefix` naming ("log." or "").
struct key_names {
    std::string segment_bytes, retention_bytes, index_interval, index_bytes, flush_messages,
        flush_ms, ts_type, max_message, policy, dirty_ratio, min_lag, max_lag, delete_retention;
};

result<void> apply_common(log_config& c, const config_map& m, const key_names& k) {
    constexpr std::int64_t i32 = std::numeric_limits<std::int32_t>::max();
    GREGOR_TRY(auto seg, get_int(m, k.segment_bytes, segment_bytes_min, i32));
    GREGOR_TRY(auto ret_bytes, get_int(m, k.retention_bytes, -1, no_limit));
    GREGOR_TRY(auto interval, get_int(m, k.index_interval, 0, i32));
    GREGOR_TRY(auto idx_bytes, get_int(m, k.index_bytes, segment_index_bytes_min, i32));
    GREGOR_TRY(auto fmsg, get_int(m, k.flush_messages, 1, no_limit));
    GREGOR_TRY(auto fms, get_int(m, k.flush_ms, 0, no_limit));
    GREGOR_TRY(auto ts, get_ts_type(m, k.ts_type));
    GREGOR_TRY(auto max_msg, get_int(m, k.max_message, 0, i32));
    c.segment_bytes =
        static_cast<std::uint64_t>(seg.value_or(static_cast<std::int64_t>(c.segment_bytes)));
    c.retention_bytes = ret_bytes.value_or(c.retention_bytes);
    c.index_interval_bytes = static_cast<std::uint32_t>(interval.value_or(c.index_interval_bytes));
    c.segment_index_bytes = static_cast<std::uint32_t>(idx_bytes.value_or(c.segment_index_bytes));
    c.flush_messages = fmsg.value_or(c.flush_messages);
    c.flush_ms = fms.value_or(c.flush_ms);
    c.timestamp_type = ts.value_or(c.timestamp_type);
    c.max_message_bytes = static_cast<std::uint32_t>(max_msg.value_or(c.max_message_bytes));
    GREGOR_TRY_VOID(get_policy(c, m, k.policy));
    GREGOR_TRY(auto ratio, get_double(m, k.dirty_ratio, 0.0, 1.0));
    GREGOR_TRY(auto min_lag, get_int(m, k.min_lag, 0, no_limit));
    GREGOR_TRY(auto max_lag, get_int(m, k.max_lag, 1, no_limit));
    GREGOR_TRY(auto tomb, get_int(m, k.delete_retention, 0, no_limit));
    c.min_cleanable_dirty_ratio = ratio.value_or(c.min_cleanable_dirty_ratio);
    c.min_compaction_lag_ms = min_lag.value_or(c.min_compaction_lag_ms);
    c.max_compaction_lag_ms = max_lag.value_or(c.max_compaction_lag_ms);
    c.delete_retention_ms = tomb.value_or(c.delete_retention_ms);
    if (c.min_compaction_lag_ms > c.max_compaction_lag_ms) {
        return error(errc::invalid_config,
                     fmt::format("{}={} is greater than {}={}", k.min_lag,
                                 c.min_compaction_lag_ms, k.max_lag, c.max_compaction_lag_ms));
    }
    return ok();
}

}  // namespace

result<log_config> broker_log_defaults(const config_map& p) {
    log_config c;
    GREGOR_TRY_VOID(
        apply_common(c, p,
                     {"log.segment.bytes", "log.retention.bytes", "log.index.interval.bytes",
                      "log.index.size.max.bytes", "log.flush.interval.messages",
                      "log.flush.interval.ms", "log.message.timestamp.type", "message.max.bytes",
                      "log.cleanup.policy", "log.cleaner.min.cleanable.ratio",
                      "log.cleaner.min.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms",
                      "log.cleaner.delete.retention.ms"}));
    // The most precise unit wins, as in Kafka: ms over minutes over hours.
    GREGOR_TRY(auto roll_ms, get_int(p, "log.roll.ms", 1, no_limit));
    GREGOR_TRY(auto roll_h, get_int(p, "log.roll.hours", 1, no_limit / hour_ms));
    if (roll_ms) {
        c.segment_ms = *roll_ms;
    } else if (roll_h) {
        c.segment_ms = *roll_h * hour_ms;
    }
    GREGOR_TRY(auto ret_ms, get_int(p, "log.retention.ms", -1, no_limit));
    GREGOR_TRY(auto ret_min, get_int(p, "log.retention.minutes", -1, no_limit / 60000));
    GREGOR_TRY(auto ret_h, get_int(p, "log.retention.hours", -1, no_limit / hour_ms));
    // Kafka's producer.id.expiration.ms is an INT, at least 1.
    GREGOR_TRY(auto producer_exp,
               get_int(p, "producer.id.expiration.ms", 1, std::numeric_limits<std::int32_t>::max()));
    c.producer_id_expiration_ms = producer_exp.value_or(c.producer_id_expiration_ms);
    if (ret_ms) {
        c.retention_ms = *ret_ms;
    } else if (ret_min) {
        c.retention_ms = *ret_min < 0 ? -1 : *ret_min * 60000;
    } else if (ret_h) {
        c.retention_ms = *ret_h < 0 ? -1 : *ret_h * hour_ms;
    }
    return c;
}

result<log_config> apply_topic_overrides(log_config c, const config_map& t) {
    GREGOR_TRY_VOID(apply_common(
        c, t,
        {"segment.bytes", "retention.bytes", "index.interval.bytes", "segment.index.bytes",
         "flush.messages", "flush.ms", "message.timestamp.type", "max.message.bytes",
         "cleanup.policy", "min.cleanable.dirty.ratio", "min.compaction.lag.ms",
         "max.compaction.lag.ms", "delete.retention.ms"}));
    GREGOR_TRY(auto seg_ms, get_int(t, "segment.ms", 1, no_limit));
    GREGOR_TRY(auto ret_ms, get_int(t, "retention.ms", -1, no_limit));
    c.segment_ms = seg_ms.value_or(c.segment_ms);
    c.retention_ms = ret_ms.value_or(c.retention_ms);
    return c;
}

std::size_t cleaner_config::map_bytes_per_thread() const {
    auto per = dedupe_buffer_size / std::max(threads, std::int32_t{1});
    return static_cast<std::size_t>(std::min<std::int64_t>(per, std::numeric_limits<std::int32_t>::max()));
}

result<cleaner_config> broker_cleaner_config(const config_map& p) {
    cleaner_config c;
    if (auto it = p.find("log.cleaner.enable"); it != p.end()) {
        if (it->second != "true" && it->second != "false") {
            return bad(it->first, it->second);
        }
        c.enable = it->second == "true";
    }
    GREGOR_TRY(auto threads, get_int(p, "log.cleaner.threads", 0, 64));
    GREGOR_TRY(auto dedupe, get_int(p, "log.cleaner.dedupe.buffer.size", 0, no_limit));
    GREGOR_TRY(auto factor, get_double(p, "log.cleaner.io.buffer.load.factor", 0.0, 1.0));
    GREGOR_TRY(auto io_buf,
               get_int(p, "log.cleaner.io.buffer.size", 0, std::numeric_limits<std::int32_t>::max()));
    GREGOR_TRY(auto rate, get_double(p, "log.cleaner.io.max.bytes.per.second", 0.0,
                                     std::numeric_limits<double>::max()));
    GREGOR_TRY(auto backoff, get_int(p, "log.cleaner.backoff.ms", 0, no_limit));
    c.threads = static_cast<std::int32_t>(threads.value_or(c.threads));
    c.dedupe_buffer_size = dedupe.value_or(c.dedupe_buffer_size);
    c.load_factor = factor.value_or(c.load_factor);
    c.io_buffer_size = io_buf.value_or(c.io_buffer_size);
    c.io_max_bytes_per_second = rate.value_or(c.io_max_bytes_per_second);
    c.backoff_ms = backoff.value_or(c.backoff_ms);
    // Kafka refuses a map that cannot hold even one key (24 bytes a slot in its map).
    constexpr double slot_bytes = 24;
    if (c.enable && c.threads > 0 &&
        static_cast<double>(c.map_bytes_per_thread()) / slot_bytes * c.load_factor <= 1.0) {
        return error(errc::invalid_config,
                     fmt::format("log.cleaner.dedupe.buffer.size={} holds no key for {} thread(s)",
                                 c.dedupe_buffer_size, c.threads));
    }
    return c;
}

}  // namespace gregor::storage

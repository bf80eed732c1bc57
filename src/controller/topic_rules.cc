#include "controller/topic_rules.h"

#include "base/limits.h"
#include "base/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace gregor::controller {
namespace {

constexpr std::string_view long_max = "9223372036854775807";
constexpr std::int64_t minute_ms = 60'000;
constexpr std::int64_t hour_ms = 60 * minute_ms;

constexpr std::string_view cleanup_policies[] = {"compact", "delete"};
constexpr std::string_view compression_types[] = {"uncompressed", "zstd", "lz4",
                                                  "snappy",       "gzip", "producer"};
constexpr std::string_view timestamp_types[] = {"CreateTime", "LogAppendTime"};
// Releases message.format.version accepts (Kafka's MetadataVersion, by release).
constexpr std::string_view releases[] = {
    "0.8.0", "0.8.1", "0.8.2", "0.9.0", "0.10.0", "0.10.1", "0.10.2", "0.11.0", "1.0", "1.1",
    "2.0",   "2.1",   "2.2",   "2.3",   "2.4",    "2.5",    "2.6",    "2.7",    "2.8", "3.0",
    "3.1",   "3.2",   "3.3",   "3.4",   "3.5",    "3.6",    "3.7",    "3.8"};

using enum config_type;
using enum config_check;

constexpr std::array<broker_synonym, 3> from(std::string_view key) {
    return {broker_synonym{key, 1}, broker_synonym{}, broker_synonym{}};
}

// Kafka 3.8's LogConfig and ServerTopicConfigSynonyms, sorted by name. Columns: name, type,
// Kafka's default, check, min, max, choices, broker synonyms.
// clang-format off
constexpr topic_config_def defs[] = {
    {"cleanup.policy", list, "delete", list_of, 0, 0, cleanup_policies,
     from("log.cleanup.policy")},
    {"compression.gzip.level", int32, "-1", gzip_level, 1, 9, {},
     from("compression.gzip.level")},
    {"compression.lz4.level", int32, "9", between, 1, 17, {},
     from("compression.lz4.level")},
    {"compression.type", string, "producer", one_of, 0, 0, compression_types,
     from("compression.type")},
    {"compression.zstd.level", int32, "3", between, -131072, 22, {},
     from("compression.zstd.level")},
    {"delete.retention.ms", int64, "86400000", at_least, 0, 0, {},
     from("log.cleaner.delete.retention.ms")},
    {"file.delete.delay.ms", int64, "60000", at_least, 0, 0, {},
     from("log.segment.delete.delay.ms")},
    {"flush.messages", int64, long_max, at_least, 1, 0, {},
     from("log.flush.interval.messages")},
    {"flush.ms", int64, long_max, at_least, 0, 0, {},
     {{{"log.flush.interval.ms", 1}, {"log.flush.scheduler.interval.ms", 1}, {}}}},
    {"follower.replication.throttled.replicas", list, "", throttled_replicas, 0, 0, {}, {}},
    {"index.interval.bytes", int32, "4096", at_least, 0, 0, {},
     from("log.index.interval.bytes")},
    {"leader.replication.throttled.replicas", list, "", throttled_replicas, 0, 0, {}, {}},
    {"local.retention.bytes", int64, "-2", at_least, -2, 0, {},
     from("log.local.retention.bytes")},
    {"local.retention.ms", int64, "-2", at_least, -2, 0, {},
     from("log.local.retention.ms")},
    {"max.compaction.lag.ms", int64, long_max, at_least, 1, 0, {},
     from("log.cleaner.max.compaction.lag.ms")},
    {"max.message.bytes", int32, "1048588", at_least, 0, 0, {},
     from("message.max.bytes")},
    {"message.downconversion.enable", boolean, "true", none, 0, 0, {},
     from("log.message.downconversion.enable")},
    {"message.format.version", string, "3.0-IV1", message_format_version, 0, 0, {},
     from("log.message.format.version")},
    {"message.timestamp.after.max.ms", int64, long_max, at_least, 0, 0, {},
     from("log.message.timestamp.after.max.ms")},
    {"message.timestamp.before.max.ms", int64, long_max, at_least, 0, 0, {},
     from("log.message.timestamp.before.max.ms")},
    {"message.timestamp.difference.max.ms", int64, long_max, at_least, 0, 0, {},
     from("log.message.timestamp.difference.max.ms")},
    {"message.timestamp.type", string, "CreateTime", one_of, 0, 0, timestamp_types,
     from("log.message.timestamp.type")},
    {"min.cleanable.dirty.ratio", float64, "0.5", between, 0, 1, {},
     from("log.cleaner.min.cleanable.ratio")},
    {"min.compaction.lag.ms", int64, "0", at_least, 0, 0, {},
     from("log.cleaner.min.compaction.lag.ms")},
    {"min.insync.replicas", int32, "1", at_least, 1, 0, {},
     from("min.insync.replicas")},
    {"preallocate", boolean, "false", none, 0, 0, {},
     from("log.preallocate")},
    {"remote.storage.enable", boolean, "false", none, 0, 0, {}, {}},
    {"retention.bytes", int64, "-1", none, 0, 0, {},
     from("log.retention.bytes")},
    {"retention.ms", int64, "604800000", at_least, -1, 0, {},
     {{{"log.retention.ms", 1}, {"log.retention.minutes", minute_ms},
       {"log.retention.hours", hour_ms}}}},
    {"segment.bytes", int32, "1073741824", at_least, 14, 0, {},
     from("log.segment.bytes")},
    {"segment.index.bytes", int32, "10485760", at_least, 4, 0, {},
     from("log.index.size.max.bytes")},
    {"segment.jitter.ms", int64, "0", at_least, 0, 0, {},
     {{{"log.roll.jitter.ms", 1}, {"log.roll.jitter.hours", hour_ms}, {}}}},
    {"segment.ms", int64, "604800000", at_least, 1, 0, {},
     {{{"log.roll.ms", 1}, {"log.roll.hours", hour_ms}, {}}}},
    {"unclean.leader.election.enable", boolean, "false", none, 0, 0, {},
     from("unclean.leader.election.enable")},
};
// clang-format on

static_assert(std::is_sorted(std::begin(defs), std::end(defs),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));

// The text with every byte outside printable ASCII shown as \xNN, so that a hostile name
// cannot put control characters or invalid UTF-8 into an error message.
std::string printable(std::string_view name) {
    std::string out;
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out.push_back(c);
        } else {
            out += fmt::format("\\x{:02x}", byte);
        }
    }
    return out;
}

bool contains(std::span<const std::string_view> choices, std::string_view value) {
    return std::find(choices.begin(), choices.end(), value) != choices.end();
}

// A decimal integer in [lo, hi] as Java's parseInt/parseLong reads it (optional sign).
std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t lo, std::int64_t hi) {
    if (text.starts_with('+')) {
        text.remove_prefix(1);
    }
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || value < lo ||
        value > hi) {
        return std::nullopt;
    }
    return value;
}

std::optional<double> parse_double(std::string_view text) {
    if (text.starts_with('+')) {
        text.remove_prefix(1);
    }
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty() ||
        !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// Kafka's list syntax: empty text is the empty list, else comma-separated trimmed items.
std::vector<std::string_view> split_list(std::string_view text) {
    std::vector<std::string_view> items;
    if (text.empty()) {
        return items;
    }
    for (std::size_t start = 0;;) {
        auto comma = text.find(',', start);
        items.push_back(trim(text.substr(start, comma - start)));
        if (comma == std::string_view::npos) {
            return items;
        }
        start = comma + 1;
    }
}

std::string invalid_value(const topic_config_def& def, std::string_view value,
                          std::string_view reason) {
    return fmt::format("Invalid value {} for configuration {}: {}", printable(value), def.name,
                       reason);
}

template <class Number>
std::optional<std::string> check_range(const topic_config_def& def, std::string_view raw,
                                       Number value) {
    if (def.check == gzip_level) {
        if (value == -1 ||
            (value >= static_cast<Number>(def.min) && value <= static_cast<Number>(def.max))) {
            return std::nullopt;
        }
        return invalid_value(
            def, raw,
            fmt::format("Value must be between {} and {} or equal to -1", def.min, def.max));
    }
    if (def.check != at_least && def.check != between) {
        return std::nullopt;
    }
    if (value < static_cast<Number>(def.min)) {
        return invalid_value(def, raw, fmt::format("Value must be at least {}", def.min));
    }
    if (def.check == between && value > static_cast<Number>(def.max)) {
        return invalid_value(def, raw, fmt::format("Value must be no more than {}", def.max));
    }
    return std::nullopt;
}

std::optional<std::string> check_integer(const topic_config_def& def, std::string_view raw,
                                         std::string_view text) {
    std::int64_t lo = std::numeric_limits<std::int64_t>::min();
    std::int64_t hi = std::numeric_limits<std::int64_t>::max();
    if (def.type == int32) {
        lo = std::numeric_limits<std::int32_t>::min();
        hi = std::numeric_limits<std::int32_t>::max();
    } else if (def.type == int16) {
        lo = std::numeric_limits<std::int16_t>::min();
        hi = std::numeric_limits<std::int16_t>::max();
    }
    auto value = parse_integer(text, lo, hi);
    if (!value) {
        return invalid_value(def, raw,
                             fmt::format("Not a number of type {}", config_type_name(def.type)));
    }
    return check_range(def, raw, *value);
}

std::string choices_text(std::span<const std::string_view> choices) {
    return fmt::format("String must be one of: {}", fmt::join(choices, ", "));
}

bool known_message_format_version(std::string_view version) {
    // Kafka reads the release from the first three dot-separated parts of a 0.x version
    // and the first two otherwise ("2.8.1" is 2.8); "-IV<n>" names an internal version.
    std::size_t parts = version.starts_with("0.") ? 3 : 2;
    std::size_t end = 0;
    for (std::size_t i = 0; i < parts && end != std::string_view::npos; ++i) {
        end = version.find('.', i == 0 ? 0 : end + 1);
    }
    auto key = version.substr(0, end);
    auto dash = key.find("-IV");
    auto release = key.substr(0, dash);
    if (!contains(releases, release)) {
        return false;
    }
    auto internal = dash == std::string_view::npos ? std::string_view{} : key.substr(dash + 3);
    return dash == std::string_view::npos ||
           (!internal.empty() && std::all_of(internal.begin(), internal.end(),
                                             [](char c) { return c >= '0' && c <= '9'; }));
}

std::optional<std::string> check_string(const topic_config_def& def, std::string_view raw,
                                        std::string_view text) {
    if (def.check == one_of && !contains(def.choices, text)) {
        return invalid_value(def, raw, choices_text(def.choices));
    }
    if (def.check == message_format_version && !known_message_format_version(text)) {
        return invalid_value(def, raw, fmt::format("Version {} is not a valid version", text));
    }
    return std::nullopt;
}

bool is_replica_pair(std::string_view item) {
    auto colon = item.find(':');
    auto digits = [](std::string_view s) {
        return !s.empty() &&
               std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    return item.empty() || (colon != std::string_view::npos && digits(item.substr(0, colon)) &&
                            digits(item.substr(colon + 1)));
}

std::optional<std::string> check_list(const topic_config_def& def, std::string_view raw,
                                      std::string_view text) {
    auto items = split_list(text);
    if (def.check == list_of) {
        for (auto item : items) {
            if (!contains(def.choices, item)) {
                return invalid_value(def, item, choices_text(def.choices));
            }
        }
    }
    if (def.check == throttled_replicas && text != "*" &&
        !std::all_of(items.begin(), items.end(), is_replica_pair)) {
        return invalid_value(def, raw,
                             fmt::format("{} must be the literal '*' or a list of replicas in the "
                                         "following format: [partitionId]:[brokerId],"
                                         "[partitionId]:[brokerId],...",
                                         def.name));
    }
    return std::nullopt;
}

std::optional<std::string> check_value(const topic_config_def& def, std::string_view raw) {
    auto text = trim(raw);
    switch (def.type) {
        case boolean:
            if (equals_ignoring_case(text, "true") || equals_ignoring_case(text, "false")) {
                return std::nullopt;
            }
            return invalid_value(def, raw, "Expected value to be either true or false");
        case int16:
        case int32:
        case int64:
            return check_integer(def, raw, text);
        case float64: {
            auto value = parse_double(text);
            if (!value) {
                return invalid_value(def, raw, "Not a number of type DOUBLE");
            }
            return check_range(def, raw, *value);
        }
        case list:
            return check_list(def, raw, text);
        case unknown:
        case string:
        case class_name:
        case password:
            return check_string(def, raw, text);
    }
    return std::nullopt;
}

// The value of `key` in `configs`, else Kafka's default. REQUIRES: `key` is an int64 config
// and its value in `configs` is valid.
std::int64_t long_value(const std::map<std::string, std::string>& configs, std::string_view key) {
    const auto* def = find_topic_config(key);
    auto it = configs.find(std::string(key));
    auto text = it == configs.end() ? def->default_value : std::string_view(it->second);
    return parse_integer(trim(text), std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max())
        .value_or(0);
}

std::optional<std::string> check_across_keys(const std::map<std::string, std::string>& configs) {
    auto min_lag = long_value(configs, "min.compaction.lag.ms");
    auto max_lag = long_value(configs, "max.compaction.lag.ms");
    if (min_lag > max_lag) {
        return fmt::format(
            "conflict topic config setting min.compaction.lag.ms ({}) > "
            "max.compaction.lag.ms ({})",
            min_lag, max_lag);
    }
    auto remote = configs.find("remote.storage.enable");
    if (remote != configs.end() && equals_ignoring_case(trim(remote->second), "true")) {
        return std::string(
            "Tiered Storage functionality is disabled in the broker. Topic "
            "cannot be configured with remote log storage.");
    }
    return std::nullopt;
}

bool legal_topic_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

}  // namespace

std::optional<std::string> invalid_topic_name(std::string_view name) {
    if (name.empty()) {
        return std::string("Topic name is illegal, it can't be empty");
    }
    if (name == "." || name == "..") {
        return std::string(R"(Topic name cannot be "." or "..")");
    }
    if (name.size() > limits::topic_name_bytes_max) {
        return fmt::format(
            "Topic name is illegal, it can't be longer than {} characters, topic "
            "name: {}",
            limits::topic_name_bytes_max, printable(name));
    }
    if (!std::all_of(name.begin(), name.end(), legal_topic_char)) {
        return fmt::format(
            "Topic name \"{}\" is illegal, it contains a character other than "
            "ASCII alphanumerics, '.', '_' and '-'",
            printable(name));
    }
    return std::nullopt;
}

bool topic_names_collide(std::string_view a, std::string_view b) {
    auto unified = [](char c) { return c == '.' ? '_' : c; };
    return a != b && a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(),
                      [&](char x, char y) { return unified(x) == unified(y); });
}

std::string assignment_too_large(std::size_t partitions) {
    return fmt::format(
        "The assignment of {} partitions is larger than ZooKeeper accepts in one request (1 MiB, "
        "its jute.maxbuffer); a topic's assignment is one znode, so use fewer partitions per "
        "topic (about 60,000 with replication factor 3)",
        partitions);
}

std::string_view config_type_name(config_type type) {
    switch (type) {
        case boolean:
            return "BOOLEAN";
        case string:
            return "STRING";
        case int32:
            return "INT";
        case int16:
            return "SHORT";
        case int64:
            return "LONG";
        case float64:
            return "DOUBLE";
        case list:
            return "LIST";
        case class_name:
            return "CLASS";
        case password:
            return "PASSWORD";
        case unknown:
            return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::span<const topic_config_def> topic_config_defs() {
    return defs;
}

const topic_config_def* find_topic_config(std::string_view key) {
    auto it =
        std::lower_bound(std::begin(defs), std::end(defs), key,
                         [](const topic_config_def& d, std::string_view k) { return d.name < k; });
    return it != std::end(defs) && it->name == key ? &*it : nullptr;
}

std::optional<std::string> invalid_topic_config(std::string_view key, std::string_view value) {
    const auto* def = find_topic_config(key);
    if (def == nullptr) {
        return fmt::format("Unknown topic config name: {}", printable(key));
    }
    return check_value(*def, value);
}

std::optional<std::string> invalid_topic_configs(
    const std::map<std::string, std::string>& configs) {
    for (const auto& [key, value] : configs) {
        if (find_topic_config(key) == nullptr) {
            return fmt::format("Unknown topic config name: {}", printable(key));
        }
    }
    for (const auto& [key, value] : configs) {
        if (auto message = invalid_topic_config(key, value)) {
            return message;
        }
    }
    return check_across_keys(configs);
}

std::string topic_config_default(const topic_config_def& def,
                                 const std::map<std::string, std::string>& broker_props) {
    for (const auto& synonym : def.broker_keys) {
        auto it =
            synonym.key.empty() ? broker_props.end() : broker_props.find(std::string(synonym.key));
        if (it == broker_props.end()) {
            continue;
        }
        if (synonym.scale == 1) {
            return std::string(trim(it->second));
        }
        auto value = parse_integer(trim(it->second), std::numeric_limits<std::int64_t>::min(),
                                   std::numeric_limits<std::int64_t>::max());
        std::int64_t scaled = 0;
        if (value && !__builtin_mul_overflow(*value, synonym.scale, &scaled)) {
            return std::to_string(scaled);
        }
    }
    return std::string(def.default_value);
}

}  // namespace gregor::controller

// Kafka's rules for topic names and topic-level configs, as pure functions and a table.
//
// CreateTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs and DescribeConfigs
// all check names and configs the same way, so the rules live here once: which names Kafka
// accepts and which pairs collide, every topic config key Kafka 3.8 defines with its type,
// its validation, Kafka's default and the broker (server.properties) keys that supply the
// default when a broker sets them. Messages are Kafka's wording, ready for the error
// message of INVALID_TOPIC_EXCEPTION or INVALID_CONFIG responses. Values are checked the
// way Kafka's ConfigDef parses them: surrounding whitespace is ignored, booleans are
// case-insensitive, lists are comma separated. Pure functions over a constant table; any
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gregor::controller {

// Returns the INVALID_TOPIC_EXCEPTION message iff `name` breaks Kafka's rules (empty, "."
// or "..", longer than 249 characters, or a character outside [a-zA-Z0-9._-]); nullopt iff
// the name is valid.
std::optional<std::string> invalid_topic_name(std::string_view name);

// True iff `a` and `b` differ but are equal once every '.' is read as '_': Kafka refuses to
// create a topic whose name collides with an existing one (their metric names would clash).
bool topic_names_collide(std::string_view a, std::string_view b);

// Why a topic of `partitions` partitions cannot be written: its assignment, one znode as in
// Kafka, is larger than a ZooKeeper request may be (coord::errc::request_too_large).
std::string assignment_too_large(std::size_t partitions);

// A config's type, numbered as DescribeConfigs (v3+) reports it: Kafka's BOOLEAN, STRING,
// INT, SHORT, LONG, DOUBLE, LIST, CLASS, PASSWORD.
enum class config_type : std::int8_t {
    unknown = 0,
    boolean = 1,
    string = 2,
    int32 = 3,
    int16 = 4,
    int64 = 5,
    float64 = 6,
    list = 7,
    class_name = 8,
    password = 9,
};

// Kafka's upper-case name of the type ("INT", "LONG", ...).
std::string_view config_type_name(config_type type);

// How a value is validated once it parses as its type.
enum class config_check : std::uint8_t {
    none,
    at_least,                // number >= min
    between,                 // min <= number <= max
    gzip_level,              // min <= number <= max, or -1 (zlib's default level)
    one_of,                  // the string is one of `choices`
    list_of,                 // every list element is one of `choices`
    throttled_replicas,      // "*" or "partition:broker" pairs
    message_format_version,  // a Kafka release ("2.8", "0.10.2", "3.0-IV1", ...)
};

// A broker config that supplies a topic config's default; the broker value times `scale`
// is the topic value (log.retention.hours has scale 3600000 for retention.ms).
struct broker_synonym {
    std::string_view key;
    std::int64_t scale = 1;
};

struct topic_config_def {
    std::string_view name;
    config_type type = config_type::string;
    std::string_view default_value;  // Kafka's default when no broker synonym is set
    config_check check = config_check::none;
    std::int64_t min = 0;  // at_least and between
    std::int64_t max = 0;  // between
    std::span<const std::string_view> choices;
    // In priority order; the first one set wins. Empty keys are unused slots. A config with
    // no broker synonym (the throttled replica lists, remote.storage.enable) has none.
    std::array<broker_synonym, 3> broker_keys{};

    // The broker key Kafka names as this config's synonym (DescribeConfigs), or "".
    std::string_view broker_key() const { return broker_keys[0].key; }
};

// Every topic config key of Kafka 3.8's ZooKeeper mode, sorted by name (34 keys).
std::span<const topic_config_def> topic_config_defs();
// The definition of `key`, or nullptr iff Kafka has no topic config of that name. The
// pointer refers to static storage.
const topic_config_def* find_topic_config(std::string_view key);

// Returns the INVALID_CONFIG message iff `key=value` is not a valid topic config:
// "Unknown topic config name: <key>" or "Invalid value <value> for configuration <key>:
// <reason>". nullopt iff valid.
std::optional<std::string> invalid_topic_config(std::string_view key, std::string_view value);

// Checks a whole set of topic configs as Kafka does: unknown names first, then each value,
// then the rules across keys (min.compaction.lag.ms <= max.compaction.lag.ms, with Kafka's
// defaults for the one not given; remote.storage.enable=true is refused because gregor,
// like a Kafka broker without remote.log.storage.system.enable, has no tiered storage).
// Returns the first message, or nullopt iff all are valid.
std::optional<std::string> invalid_topic_configs(const std::map<std::string, std::string>& configs);

// The value a topic gets for `def` when it does not override it: the first broker synonym
// set in `broker_props` (server.properties keys, scaled to the topic's unit), else Kafka's
// default. A synonym that needs scaling but is not an integer, or overflows, is skipped.
std::string topic_config_default(const topic_config_def& def,
                                 const std::map<std::string, std::string>& broker_props);

}  // namespace gregor::controller

// config_entries: what DescribeConfigs reports for a topic or for this broker, as plain data.
//
// A topic's entries cover every topic config key Kafka defines (controller/topic_rules.h),
// or only the keys asked for. Each has its effective value and where it comes from, as
// Kafka's ZooKeeper-mode broker reports it: DYNAMIC_TOPIC_CONFIG when /config/topics/<t>
// overrides it, else STATIC_BROKER_CONFIG when server.properties sets one of its broker
// synonyms, else DEFAULT_CONFIG. The synonyms list the same chain in priority order: the
// topic override, each broker synonym set in server.properties (as written there), and the
// broker's default. This broker's own entries are its server.properties settings
// (STATIC_BROKER_CONFIG); secrets are reported as sensitive with no value. Pure functions;
// any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gregor::broker {

// DescribeConfigs' ConfigSource codes.
enum class config_source : std::int8_t {
    unknown = 0,
    dynamic_topic = 1,
    dynamic_broker = 2,
    dynamic_default_broker = 3,
    static_broker = 4,
    default_config = 5,
};

struct config_synonym {
    std::string name;
    std::optional<std::string> value;
    config_source source = config_source::unknown;
};

struct config_entry {
    std::string name;
    std::optional<std::string> value;  // null iff sensitive
    config_source source = config_source::unknown;
    bool sensitive = false;
    std::int8_t type = 0;  // DescribeConfigs v3+ ConfigType; 0 when unknown
    std::vector<config_synonym> synonyms;
};

using property_map = std::map<std::string, std::string>;
// The keys asked for; nullopt means all.
using key_filter = std::optional<std::vector<std::string>>;

// Every topic config (or those in `keys`, unknown names skipped), sorted by name.
std::vector<config_entry> topic_config_entries(const property_map& overrides,
                                               const property_map& broker_props,
                                               const key_filter& keys);

// The broker's server.properties settings (or those in `keys`), sorted by name.
std::vector<config_entry> broker_config_entries(const property_map& broker_props,
                                                const key_filter& keys);

// True iff Kafka treats `key`'s value as a secret (passwords, JAAS configs).
bool sensitive_config(const std::string& key);

}  // namespace gregor::broker

#include "broker/config_entries.h"

#include "controller/topic_rules.h"

#include <algorithm>
#include <charconv>

namespace gregor::broker {
namespace {

bool wanted(const key_filter& keys, std::string_view name) {
    return !keys || std::find(keys->begin(), keys->end(), name) != keys->end();
}

// The broker's own default for the last synonym (the one Kafka gives a default: hours for
// retention, bytes for segments), in that synonym's unit; nullopt when it does not divide.
std::optional<config_synonym> broker_default(const controller::topic_config_def& def) {
    const controller::broker_synonym* last = nullptr;
    for (const auto& s : def.broker_keys) {
        if (!s.key.empty()) {
            last = &s;
        }
    }
    if (last == nullptr) {
        return std::nullopt;
    }
    std::string value(def.default_value);
    if (last->scale != 1) {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc{} || end != value.data() + value.size() || n % last->scale != 0) {
            return std::nullopt;
        }
        value = std::to_string(n / last->scale);
    }
    return config_synonym{std::string(last->key), value, config_source::default_config};
}

config_entry topic_entry(const controller::topic_config_def& def, const property_map& overrides,
                         const property_map& broker_props) {
    config_entry e;
    e.name = std::string(def.name);
    e.type = static_cast<std::int8_t>(def.type);
    if (auto o = overrides.find(e.name); o != overrides.end()) {
        e.synonyms.push_back({e.name, o->second, config_source::dynamic_topic});
    }
    for (const auto& s : def.broker_keys) {
        auto b = s.key.empty() ? broker_props.end() : broker_props.find(std::string(s.key));
        if (b != broker_props.end()) {
            e.synonyms.push_back({b->first, b->second, config_source::static_broker});
        }
    }
    if (auto d = broker_default(def)) {
        e.synonyms.push_back(std::move(*d));
    }
    if (auto o = overrides.find(e.name); o != overrides.end()) {
        e.value = o->second;
        e.source = config_source::dynamic_topic;
        return e;
    }
    e.value = controller::topic_config_default(def, broker_props);
    bool static_set = !e.synonyms.empty() && e.synonyms.front().source == config_source::static_broker;
    e.source = static_set ? config_source::static_broker : config_source::default_config;
    return e;
}

}  // namespace

bool sensitive_config(const std::string& key) {
    return key.find("password") != std::string::npos || key.ends_with("jaas.config") ||
           key.ends_with(".secret") || key.find("secret.key") != std::string::npos;
}

std::vector<config_entry> topic_config_entries(const property_map& overrides,
                                               const property_map& broker_props,
                                               const key_filter& keys) {
    std::vector<config_entry> out;
    for (const auto& def : controller::topic_config_defs()) {
        if (wanted(keys, def.name)) {
            out.push_back(topic_entry(def, overrides, broker_props));
        }
    }
    return out;
}

std::vector<config_entry> broker_config_entries(const property_map& broker_props,
                                                const key_filter& keys) {
    std::vector<config_entry> out;
    for (const auto& [key, value] : broker_props) {
        if (!wanted(keys, key)) {
            continue;
        }
        config_entry e;
        e.name = key;
        e.sensitive = sensitive_config(key);
        e.source = config_source::static_broker;
        if (!e.sensitive) {
            e.value = value;
        }
        e.synonyms.push_back({key, e.value, config_source::static_broker});
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace gregor::broker

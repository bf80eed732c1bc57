#include "broker/topic_configs.h"

#include "broker/logger.h"

#include <charconv>

namespace gregor::broker {

void topic_configs::set(const std::string& topic, storage::config_map overrides) {
    overrides_[topic] = std::move(overrides);
}

storage::config_map topic_configs::overrides(const std::string& topic) const {
    auto it = overrides_.find(topic);
    return it == overrides_.end() ? storage::config_map{} : it->second;
}

std::vector<std::string> topic_configs::topics() const {
    std::vector<std::string> out;
    for (const auto& [topic, o] : overrides_) {
        out.push_back(topic);
    }
    return out;
}

storage::log_config topic_configs::log_config(const std::string& topic) const {
    auto it = overrides_.find(topic);
    if (it == overrides_.end()) {
        return log_defaults_;
    }
    auto cfg = storage::apply_topic_overrides(log_defaults_, it->second);
    if (cfg) {
        return *cfg;
    }
    // One bad value (say min.compaction.lag.ms above this broker's max) must not drop the
    // others: losing cleanup.policy=compact would let retention delete a table's data.
    storage::log_config out = log_defaults_;
    for (const auto& [key, value] : it->second) {
        auto one = storage::apply_topic_overrides(out, {{key, value}});
        if (one) {
            out = *one;
        } else {
            GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(60),
                                    "topic {}: ignoring {}: {}", topic, key, one.err().to_string());
        }
    }
    return out;
}

replication::replication_config topic_configs::replication(const std::string& topic) const {
    replication::replication_config out = defaults_;
    auto it = overrides_.find(topic);
    if (it == overrides_.end()) {
        return out;
    }
    if (auto v = it->second.find("min.insync.replicas"); v != it->second.end()) {
        std::int32_t n = 0;
        const std::string& text = v->second;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc{} || end != text.data() + text.size() || n < 1) {
            GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(60),
                                    "topic {}: min.insync.replicas={} is not a positive integer; "
                                    "using {}",
                                    topic, text, out.min_insync_replicas);
        } else {
            out.min_insync_replicas = n;
        }
    }
    return out;
}

}  // namespace gregor::broker

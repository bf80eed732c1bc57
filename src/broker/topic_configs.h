// topic_configs: the topic-level config overrides this broker applies (/config/topics/<t>).
//
// Like a Kafka broker in ZooKeeper mode, the broker reads a topic's overrides from ZooKeeper
// the first time it hosts one of its partitions (before applying the LeaderAndIsr), and
// builds each log's config as broker defaults plus the topic's keys, and each partition's
// replication settings (min.insync.replicas) the same way. A malformed override keeps the
// broker default and logs a warning naming the key. Later changes arrive through
// /config/changes (config_changes.h) and replace a topic's overrides with set(); the owner
// then reloads the logs' and partitions' configs. Loop thread only.
#pragma once

#include "replication/partition.h"
#include "storage/log_config.h"

#include <map>
#include <string>
#include <vector>

namespace gregor::broker {

class topic_configs {
public:
    topic_configs(storage::log_config log_defaults, replication::replication_config defaults)
        : log_defaults_(log_defaults), defaults_(defaults) {}

    bool known(const std::string& topic) const { return overrides_.contains(topic); }
    void set(const std::string& topic, storage::config_map overrides);
    void forget(const std::string& topic) { overrides_.erase(topic); }
    // The topic's overrides (empty when none or unknown).
    storage::config_map overrides(const std::string& topic) const;
    // Every topic whose overrides were read.
    std::vector<std::string> topics() const;

    storage::log_config log_config(const std::string& topic) const;
    replication::replication_config replication(const std::string& topic) const;

private:
    storage::log_config log_defaults_;
    replication::replication_config defaults_;
    std::map<std::string, storage::config_map> overrides_;
};

}  // namespace gregor::broker

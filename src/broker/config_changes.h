// config_change_follower: a broker's follower of /config/changes (Kafka's
// ZkNodeChangeNotificationListener with the TopicConfigHandler).
//
// Whoever changes a topic's overrides writes /config/topics/<t> and then a persistent-
// sequential /config/changes/config_change_NNNNNNNNNN naming the entity
// ({"version":2,"entity_path":"topics/<t>"}, or version 1 with entity_type/entity_name).
// The follower lists the children with a watch, reads each notification newer than the last
// sequence it processed, and re-reads /config/topics/<t> for each topic this broker hosts
// (`interested`), handing the new overrides to `apply` (an absent znode means no
// overrides). Watches are one-shot and changes can be missed while disconnected, so every
// `connected` event lists again; after a session expiry every hosted topic is re-read too
// (the notifications may have been purged meanwhile). Work per round is bounded
// (notifications and topic reads); a round that leaves work behind starts another.
//
// Callback style on the coord::client's loop (completions never run inline). Owned by the
// broker app; stop() before destroying the client. Loop thread only.
#pragma once

#include "coord/client.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace gregor::broker {

struct config_change_hooks {
    // The topic's overrides changed (or were re-read): apply them.
    std::function<void(const std::string& topic, std::map<std::string, std::string> overrides)>
        apply;
    // True iff this broker hosts (or has read the overrides of) `topic`.
    std::function<bool(const std::string& topic)> interested;
    // Every topic `interested` is true for (re-read after a session expiry).
    std::function<std::vector<std::string>()> known_topics;
};

struct config_change_limits {
    std::size_t notifications_per_round = 100;
    std::size_t topics_per_round = 100;
};

class config_change_follower {
public:
    config_change_follower(coord::client& zk, config_change_hooks hooks,
                           config_change_limits limits = {});
    ~config_change_follower();
    config_change_follower(const config_change_follower&) = delete;
    config_change_follower& operator=(const config_change_follower&) = delete;

    // Starts following: the first round processes every notification present.
    void start();
    // No more rounds or callbacks into the hooks.
    void stop();

    // The highest notification sequence processed, -1 before any.
    std::int64_t last_processed() const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

}  // namespace gregor::broker

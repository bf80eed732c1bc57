#include "broker/config_changes.h"

#include "broker/logger.h"
#include "coord/errc.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"

#include <algorithm>

namespace gregor::broker {

struct config_change_follower::state : std::enable_shared_from_this<state> {
    state(coord::client& z, config_change_hooks h, config_change_limits l)
        : zk(z), hooks(std::move(h)), limits(l) {}

    coord::client& zk;
    config_change_hooks hooks;
    config_change_limits limits;
    coord::listener_id listener = 0;
    std::int64_t last = -1;
    bool stopped = false;
    bool running = false;
    bool again = false;           // something asked for a round while one ran
    bool expired_before = false;  // the next `connected` is a new session
    std::set<std::string> pending_topics;

    // One round: the notifications, then the topic reads.
    void round();
    void on_children(result<coord::children> listed);
    void read_notifications(std::vector<std::pair<std::int64_t, std::string>> fresh, bool more);
    void read_topics(bool more);
    void finish(bool more);
    void on_session(const coord::session_event& ev);
};

namespace {

const std::string changes_path(coord::paths::config_changes);

}  // namespace

void config_change_follower::state::round() {
    if (stopped) {
        return;
    }
    if (running) {
        again = true;
        return;
    }
    running = true;
    again = false;
    std::weak_ptr<state> weak = weak_from_this();
    coord::watch_fn watch = [weak](const coord::watch_event&) {
        if (auto self = weak.lock()) {
            self->round();
        }
    };
    zk.get_children(changes_path, std::move(watch), [weak](result<coord::children> r) {
        if (auto self = weak.lock()) {
            self->on_children(std::move(r));
        }
    });
}

void config_change_follower::state::on_children(result<coord::children> listed) {
    if (stopped) {
        return;
    }
    if (!listed) {
        GREGOR_LOG(broker_log, warn, "cannot list {}: {}; trying again on reconnect",
                   changes_path, listed.err().to_string());
        finish(false);
        return;
    }
    std::vector<std::pair<std::int64_t, std::string>> fresh;
    for (const auto& name : listed->names) {
        auto seq = coord::paths::parse_sequence(name, coord::paths::config_change_prefix);
        if (seq && *seq > last) {
            fresh.emplace_back(*seq, name);
        }
    }
    std::sort(fresh.begin(), fresh.end());
    bool more = fresh.size() > limits.notifications_per_round;
    if (more) {
        fresh.resize(limits.notifications_per_round);
    }
    read_notifications(std::move(fresh), more);
}

// Reads the notifications (pipelined); `last` advances over every one read or gone, up to
// the first that failed otherwise (read again next round).
void config_change_follower::state::read_notifications(
    std::vector<std::pair<std::int64_t, std::string>> fresh, bool more) {
    if (fresh.empty()) {
        read_topics(more);
        return;
    }
    struct batch {
        std::vector<std::optional<result<coord::node_data>>> answers;
        std::size_t outstanding = 0;
    };
    auto b = std::make_shared<batch>();
    b->answers.resize(fresh.size());
    b->outstanding = fresh.size();
    auto names = std::make_shared<decltype(fresh)>(std::move(fresh));
    std::weak_ptr<state> weak = weak_from_this();
    for (std::size_t i = 0; i < names->size(); ++i) {
        zk.get(changes_path + "/" + (*names)[i].second, {},
               [weak, b, names, i, more](result<coord::node_data> r) {
                   auto self = weak.lock();
                   b->answers[i].emplace(std::move(r));
                   if (--b->outstanding > 0 || !self || self->stopped) {
                       return;
                   }
                   for (std::size_t k = 0; k < names->size(); ++k) {
                       const auto& got = *b->answers[k];
                       if (!got && got.code() != coord::errc::no_node) {
                           // Transient: this one and later ones on the next watch or
                           // reconnect (no retry loop while ZooKeeper misbehaves).
                           self->read_topics(false);
                           return;
                       }
                       self->last = (*names)[k].first;
                       if (!got) {
                           continue;  // purged meanwhile: nothing to read
                       }
                       auto entity = coord::decode_config_change(got->data);
                       if (!entity) {
                           GREGOR_LOG(broker_log, warn, "skipping unreadable {}: {}",
                                      (*names)[k].second, entity.err().to_string());
                           continue;
                       }
                       if (entity->starts_with("topics/")) {
                           std::string topic = entity->substr(7);
                           if (self->hooks.interested(topic)) {
                               self->pending_topics.insert(std::move(topic));
                           }
                       }
                   }
                   self->read_topics(more);
               });
    }
}

// Reads up to topics_per_round of the pending topics' overrides and applies them.
void config_change_follower::state::read_topics(bool more) {
    std::vector<std::string> topics;
    while (!pending_topics.empty() && topics.size() < limits.topics_per_round) {
        topics.push_back(pending_topics.extract(pending_topics.begin()).value());
    }
    if (topics.empty()) {
        finish(more);
        return;
    }
    // (`more`: notifications are left; pending topics beyond this round count as well.)
    auto outstanding = std::make_shared<std::size_t>(topics.size());
    auto failed = std::make_shared<bool>(false);
    std::weak_ptr<state> weak = weak_from_this();
    for (const auto& topic : topics) {
        zk.get(coord::paths::topic_config(topic), {},
               [weak, topic, outstanding, failed, more](result<coord::node_data> r) {
                   auto self = weak.lock();
                   if (!self || self->stopped) {
                       return;
                   }
                   std::map<std::string, std::string> overrides;
                   if (r) {
                       auto decoded = coord::decode_entity_config(r->data);
                       if (decoded) {
                           overrides = std::move(*decoded);
                           self->hooks.apply(topic, std::move(overrides));
                       } else {
                           GREGOR_LOG(broker_log, warn, "topic {}: unreadable configs: {}",
                                      topic, decoded.err().to_string());
                       }
                   } else if (r.code() == coord::errc::no_node) {
                       self->hooks.apply(topic, std::move(overrides));
                   } else {
                       self->pending_topics.insert(topic);  // read again
                       *failed = true;
                   }
                   if (--*outstanding == 0) {
                       self->finish(!*failed && (more || !self->pending_topics.empty()));
                   }
               });
    }
}

void config_change_follower::state::finish(bool more) {
    running = false;
    if (!stopped && (again || more)) {
        round();
    }
}

void config_change_follower::state::on_session(const coord::session_event& ev) {
    if (ev.state == coord::session_state::expired) {
        expired_before = true;
        return;
    }
    if (ev.state != coord::session_state::connected || stopped) {
        return;
    }
    if (expired_before) {
        expired_before = false;
        for (auto& t : hooks.known_topics()) {
            pending_topics.insert(std::move(t));
        }
    }
    round();
}

config_change_follower::config_change_follower(coord::client& zk, config_change_hooks hooks,
                                               config_change_limits limits)
    : state_(std::make_shared<state>(zk, std::move(hooks), limits)) {}

config_change_follower::~config_change_follower() {
    stop();
}

void config_change_follower::start() {
    std::weak_ptr<state> weak = state_;
    state_->listener = state_->zk.add_session_listener([weak](const coord::session_event& ev) {
        if (auto self = weak.lock()) {
            self->on_session(ev);
        }
    });
    state_->round();
}

void config_change_follower::stop() {
    if (state_->stopped) {
        return;
    }
    state_->stopped = true;
    if (state_->listener != 0) {
        state_->zk.remove_session_listener(state_->listener);
    }
}

std::int64_t config_change_follower::last_processed() const {
    return state_->last;
}

}  // namespace gregor::broker

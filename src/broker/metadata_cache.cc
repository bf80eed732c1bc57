#include "broker/metadata_cache.h"

#include <algorithm>

namespace gregor::broker {

const cached_endpoint* cached_broker::endpoint_for(const std::string& listener) const {
    auto it = std::find_if(endpoints.begin(), endpoints.end(),
                           [&](const cached_endpoint& e) { return e.listener == listener; });
    return it == endpoints.end() ? nullptr : &*it;
}

void metadata_cache::set_brokers(std::vector<cached_broker> brokers) {
    std::sort(brokers.begin(), brokers.end(),
              [](const cached_broker& a, const cached_broker& b) { return a.id < b.id; });
    brokers_ = std::move(brokers);
}

void metadata_cache::update_partition(const std::string& topic, model::partition_id p,
                                      cached_partition s) {
    if (s.leader == leader_during_delete) {
        auto it = topics_.find(topic);
        if (it == topics_.end()) {
            return;
        }
        it->second.erase(p);
        if (it->second.empty()) {
            topics_.erase(it);
        }
        return;
    }
    topics_[topic][p] = std::move(s);
}

void metadata_cache::set_controller(model::node_id id, model::controller_epoch epoch,
                                    model::timestamp_ms now) {
    controller_ = id;
    if (!history_.empty() && history_.back().id == id && history_.back().epoch == epoch) {
        return;
    }
    history_.push_back(controller_change{id, epoch, now});
    if (history_.size() > history_max) {
        history_.pop_front();
    }
}

const cached_broker* metadata_cache::broker(model::node_id id) const {
    auto it = std::lower_bound(brokers_.begin(), brokers_.end(), id,
                               [](const cached_broker& b, model::node_id v) { return b.id < v; });
    return it != brokers_.end() && it->id == id ? &*it : nullptr;
}

const metadata_cache::partition_map* metadata_cache::topic(const std::string& name) const {
    auto it = topics_.find(name);
    return it == topics_.end() ? nullptr : &it->second;
}

const cached_partition* metadata_cache::partition(const model::topic_partition& tp) const {
    const partition_map* t = topic(tp.topic);
    if (t == nullptr) {
        return nullptr;
    }
    auto it = t->find(tp.partition);
    return it == t->end() ? nullptr : &it->second;
}

}  // namespace gregor::broker

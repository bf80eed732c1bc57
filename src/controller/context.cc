#include "controller/context.h"

#include <algorithm>

namespace gregor::controller {
namespace {

std::vector<model::node_id> without(const std::vector<model::node_id>& from,
                                    const std::vector<model::node_id>& drop) {
    std::vector<model::node_id> out;
    for (model::node_id id : from) {
        if (std::find(drop.begin(), drop.end(), id) == drop.end()) {
            out.push_back(id);
        }
    }
    return out;
}

}  // namespace

std::vector<model::node_id> partition_record::target() const {
    return without(replicas, removing);
}

std::vector<model::node_id> partition_record::origin() const {
    return without(replicas, adding);
}

coord::topic_assignment assignment_of(const topic_record& t) {
    coord::topic_assignment a;
    for (const auto& [p, r] : t.partitions) {
        a.partitions[p] = r.replicas;
        if (r.reassigning()) {
            a.adding_replicas[p] = r.adding;
            a.removing_replicas[p] = r.removing;
        }
    }
    if (!t.id_string.empty()) {
        a.topic_id = t.id_string;
    }
    return a;
}

broker_set controller_context::live_set() const {
    broker_set out;
    for (const auto& [id, b] : brokers) {
        if (!shutting_down.contains(id)) {
            out.insert(id);
        }
    }
    return out;
}

bool controller_context::replica_offline(model::node_id id,
                                          const model::topic_partition& tp) const {
    auto it = offline_replicas.find(id);
    return it != offline_replicas.end() && it->second.contains(tp);
}

broker_set controller_context::live_set(const model::topic_partition& tp) const {
    broker_set out = live_set();
    for (const auto& [id, tps] : offline_replicas) {
        if (tps.contains(tp)) {
            out.erase(id);
        }
    }
    return out;
}

broker_set controller_context::registered_set() const {
    broker_set out;
    for (const auto& [id, b] : brokers) {
        out.insert(id);
    }
    return out;
}

const partition_record* controller_context::partition(const model::topic_partition& tp) const {
    auto t = topics.find(tp.topic);
    if (t == topics.end()) {
        return nullptr;
    }
    auto p = t->second.partitions.find(tp.partition);
    return p == t->second.partitions.end() ? nullptr : &p->second;
}

partition_record* controller_context::partition(const model::topic_partition& tp) {
    const auto& self = *this;
    return const_cast<partition_record*>(self.partition(tp));
}

std::size_t controller_context::partition_count() const {
    std::size_t n = 0;
    for (const auto& [name, t] : topics) {
        n += t.partitions.size();
    }
    return n;
}

std::vector<model::topic_partition> controller_context::partitions_on(model::node_id broker) const {
    std::vector<model::topic_partition> out;
    for (const auto& [name, t] : topics) {
        for (const auto& [p, rec] : t.partitions) {
            if (std::find(rec.replicas.begin(), rec.replicas.end(), broker) != rec.replicas.end()) {
                out.push_back({name, p});
            }
        }
    }
    return out;
}

std::vector<model::topic_partition> controller_context::partitions_led_by(
    model::node_id broker) const {
    std::vector<model::topic_partition> out;
    for (const auto& [name, t] : topics) {
        for (const auto& [p, rec] : t.partitions) {
            if (rec.version() >= 0 && rec.state.leader == broker) {
                out.push_back({name, p});
            }
        }
    }
    return out;
}

void controller_context::clear() {
    *this = controller_context{};
}

}  // namespace gregor::controller

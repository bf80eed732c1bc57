#include "controller/request_batch.h"

#include "base/assert.h"
#include "protocol/frame.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"
#include "protocol/messages/update_metadata.h"

#include <algorithm>
#include <iterator>
#include <optional>

namespace gregor::controller {
namespace {

using namespace protocol;

template <class Api>
bytes encode(const std::string& client_id, std::int16_t version,
             const typename Api::request_type& body) {
    auto frame = encode_request_frame<Api>(0, client_id, version, body);
    // The messages are built from the controller's own state: failing to encode is a bug.
    GREGOR_ASSERT(frame.has_value(), "controller request does not encode");
    bytes flat = frame->flatten();
    return bytes(flat.begin() + 4, flat.end());  // net::client wants no size prefix
}

const coord::broker_endpoint* endpoint_of(const live_broker& b, const std::string& listener) {
    for (const auto& e : b.info.endpoints) {
        if (e.listener == listener) {
            return &e;
        }
    }
    return b.info.endpoints.empty() ? nullptr : &b.info.endpoints.front();
}

leader_and_isr_partition_state lai_state(const model::topic_partition& tp,
                                         const partition_record& r, bool is_new) {
    leader_and_isr_partition_state s;
    s.partition_index = tp.partition;
    s.controller_epoch = r.state.controller_epoch;
    s.leader = r.state.leader;
    s.leader_epoch = r.state.leader_epoch;
    s.isr = r.state.isr;
    s.partition_epoch = r.version();
    s.replicas = r.replicas;
    s.adding_replicas = r.adding;
    s.removing_replicas = r.removing;
    s.is_new = is_new;
    s.leader_recovery_state = r.state.recovering ? 1 : 0;
    return s;
}

update_metadata_partition_state um_state(const controller_context& ctx,
                                         const model::topic_partition& tp,
                                         const partition_record& r, bool deleting) {
    update_metadata_partition_state s;
    s.partition_index = tp.partition;
    s.controller_epoch = r.state.controller_epoch;
    s.leader = deleting ? leader_during_delete : r.state.leader;
    s.leader_epoch = r.state.leader_epoch;
    s.isr = r.state.isr;
    s.zk_version = r.version();
    s.replicas = r.replicas;
    for (model::node_id id : r.replicas) {
        if (!ctx.replica_online(id, tp)) {
            s.offline_replicas.push_back(id);
        }
    }
    return s;
}

std::vector<update_metadata_request::update_metadata_broker> live_brokers(
    const controller_context& ctx) {
    std::vector<update_metadata_request::update_metadata_broker> out;
    for (const auto& [id, b] : ctx.brokers) {
        update_metadata_request::update_metadata_broker ub;
        ub.id = id;
        ub.rack = b.info.rack;
        for (const auto& e : b.info.endpoints) {
            ub.endpoints.push_back(
                {e.port, e.host, e.listener, security_protocol_id(e.security_protocol), {}});
        }
        out.push_back(std::move(ub));
    }
    return out;
}

leader_and_isr_request::leader_and_isr_topic_state& topic_slot(leader_and_isr_request& req,
                                                                const controller_context& ctx,
                                                                const std::string& topic) {
    if (req.topic_states.empty() || req.topic_states.back().topic_name != topic) {
        auto& t = req.topic_states.emplace_back();
        t.topic_name = topic;
        t.topic_id = ctx.topics.at(topic).id;
    }
    return req.topic_states.back();
}

// One partition of a LeaderAndIsr, as build() found it.
struct lai_entry {
    const model::topic_partition* tp;
    const partition_record* r;
    bool is_new;
};

// The partitions of `to`'s LeaderAndIsr in (topic, partition) order: those listed, plus, when
// `all`, every partition with a state znode of which `to` holds an online replica.
std::vector<lai_entry> leader_and_isr_entries(const controller_context& ctx, model::node_id to,
                                              const std::map<model::topic_partition, bool>& listed,
                                              bool all, std::vector<model::topic_partition>& keep) {
    std::vector<lai_entry> out;
    if (!all) {
        for (const auto& [tp, is_new] : listed) {
            if (const partition_record* r = ctx.partition(tp)) {
                out.push_back({&tp, r, is_new});
            }
        }
        return out;
    }
    keep.reserve(ctx.partition_count());  // `out` points into it: no reallocation
    auto next = listed.begin();
    for (const auto& [name, t] : ctx.topics) {
        for (const auto& [p, r] : t.partitions) {
            const model::topic_partition& tp = keep.emplace_back(name, p);
            while (next != listed.end() && next->first < tp) {
                ++next;  // listed but gone from the context
            }
            bool is_listed = next != listed.end() && next->first == tp;
            bool is_new = is_listed && next->second;
            next = is_listed ? std::next(next) : next;
            bool replica = r.version() >= 0 &&
                           std::find(r.replicas.begin(), r.replicas.end(), to) != r.replicas.end() &&
                           ctx.replica_online(to, tp);
            if (is_listed || replica) {
                out.push_back({&tp, &r, is_new});
            }
        }
    }
    return out;
}

bytes build_leader_and_isr(const controller_context& ctx, model::node_id self,
                           const std::string& client_id, const std::string& listener,
                           const live_broker& to, const std::vector<lai_entry>& parts) {
    leader_and_isr_request req;
    req.controller_id = self;
    req.controller_epoch = ctx.epoch;
    req.broker_epoch = to.epoch;
    std::set<model::node_id> leaders;
    for (const auto& e : parts) {
        topic_slot(req, ctx, e.tp->topic).partition_states.push_back(lai_state(*e.tp, *e.r, e.is_new));
        leaders.insert(e.r->state.leader);
    }
    for (model::node_id l : leaders) {
        auto b = ctx.brokers.find(l);
        const coord::broker_endpoint* e =
            b == ctx.brokers.end() ? nullptr : endpoint_of(b->second, listener);
        if (e != nullptr) {
            req.live_leaders.push_back({l, e->host, e->port, {}});
        }
    }
    return encode<leader_and_isr_api>(client_id, leader_and_isr_version, req);
}

// The UpdateMetadata body (without the recipient's broker epoch): the partitions listed in
// `parts`, or every partition when `all`, except those in `deleting`, which follow with
// leader -2.
update_metadata_request update_metadata_body(const controller_context& ctx, model::node_id self,
                                             const std::set<model::topic_partition>* parts,
                                             const std::set<model::topic_partition>* deleting,
                                             bool all) {
    update_metadata_request req;
    req.controller_id = self;
    req.controller_epoch = ctx.epoch;
    req.live_brokers = live_brokers(ctx);
    auto add = [&](const model::topic_partition& tp, const partition_record* r, bool del) {
        if (r == nullptr || r->version() < 0) {
            return;
        }
        if (req.topic_states.empty() || req.topic_states.back().topic_name != tp.topic) {
            auto& t = req.topic_states.emplace_back();
            t.topic_name = tp.topic;
            t.topic_id = ctx.topics.at(tp.topic).id;
        }
        req.topic_states.back().partition_states.push_back(um_state(ctx, tp, *r, del));
    };
    auto listed_deleting = [&](const model::topic_partition& tp) {
        return deleting != nullptr && deleting->contains(tp);
    };
    if (all) {
        for (const auto& [name, t] : ctx.topics) {
            for (const auto& [p, r] : t.partitions) {
                model::topic_partition tp{name, p};
                if (!listed_deleting(tp)) {
                    add(tp, &r, false);
                }
            }
        }
    } else if (parts != nullptr) {
        for (const auto& tp : *parts) {
            if (!listed_deleting(tp)) {
                add(tp, ctx.partition(tp), false);
            }
        }
    }
    if (deleting != nullptr) {
        for (const auto& tp : *deleting) {
            add(tp, ctx.partition(tp), true);
        }
    }
    return req;
}

bytes encode_update_metadata(const std::string& client_id, update_metadata_request& req,
                             const live_broker& to) {
    req.broker_epoch = to.epoch;
    return encode<update_metadata_api>(client_id, update_metadata_version, req);
}

outgoing_request build_stop_replica(const controller_context& ctx, model::node_id self,
                                    const std::string& client_id, const live_broker& to,
                                    const auto& parts) {
    stop_replica_request req;
    req.controller_id = self;
    req.controller_epoch = ctx.epoch;
    req.broker_epoch = to.epoch;
    outgoing_request out{to.id, stop_replica_api::key, {}, {}};
    for (const auto& [tp, s] : parts) {
        if (req.topic_states.empty() || req.topic_states.back().topic_name != tp.topic) {
            req.topic_states.emplace_back().topic_name = tp.topic;
        }
        req.topic_states.back().partition_states.push_back(
            {tp.partition, s.epoch, s.remove, {}});
        if (s.remove) {
            out.deleting.push_back(tp);
        }
    }
    out.message = encode<stop_replica_api>(client_id, stop_replica_version, req);
    return out;
}

}  // namespace

std::int16_t security_protocol_id(const std::string& name) {
    if (name == "PLAINTEXT") {
        return 0;
    }
    if (name == "SSL") {
        return 1;
    }
    if (name == "SASL_PLAINTEXT") {
        return 2;
    }
    if (name == "SASL_SSL") {
        return 3;
    }
    return -1;
}

void request_batch::leader_and_isr(model::node_id broker, const model::topic_partition& tp,
                                   bool is_new) {
    auto& slot = leader_and_isr_[broker][tp];
    slot = slot || is_new;
}

void request_batch::leader_and_isr_to_replicas(const controller_context& ctx,
                                               const model::topic_partition& tp, bool is_new) {
    if (leader_and_isr_all_ && !is_new) {
        return;  // everything() sends it to every online replica already
    }
    const partition_record* r = ctx.partition(tp);
    if (r == nullptr) {
        return;
    }
    // A replica in an offline log dir would only answer KAFKA_STORAGE_ERROR again.
    for (model::node_id id : r->replicas) {
        if (ctx.replica_online(id, tp)) {
            leader_and_isr(id, tp, is_new);
        }
    }
}

void request_batch::update_metadata(const broker_set& to, const model::topic_partition& tp) {
    for (model::node_id id : to) {
        if (!update_metadata_all_.contains(id)) {
            update_metadata_[id].insert(tp);
        }
    }
}

void request_batch::update_metadata_deleting(const broker_set& to,
                                             const model::topic_partition& tp) {
    for (model::node_id id : to) {
        deleting_[id].insert(tp);
    }
}

void request_batch::update_metadata_brokers(const broker_set& to) {
    update_metadata_brokers_.insert(to.begin(), to.end());
}

void request_batch::everything(const broker_set& to) {
    leader_and_isr_all_ = true;
    update_metadata_all_.insert(to.begin(), to.end());
}

void request_batch::stop_replica(model::node_id broker, const model::topic_partition& tp,
                                 bool remove, model::leader_epoch epoch) {
    auto& slot = stop_replica_[broker][tp];
    slot.remove = slot.remove || remove;
    slot.epoch = remove ? epoch_during_delete : epoch;
}

bool request_batch::empty() const {
    return leader_and_isr_.empty() && update_metadata_.empty() && deleting_.empty() &&
           update_metadata_brokers_.empty() && stop_replica_.empty() && !leader_and_isr_all_ &&
           update_metadata_all_.empty();
}

std::vector<outgoing_request> request_batch::build(const controller_context& ctx,
                                                   model::node_id self,
                                                   const std::string& client_id,
                                                   const std::string& listener) const {
    std::vector<outgoing_request> out;
    const std::map<model::topic_partition, bool> none;
    for (const auto& [id, b] : ctx.brokers) {
        auto listed = leader_and_isr_.find(id);
        if (listed == leader_and_isr_.end() && !leader_and_isr_all_) {
            continue;
        }
        std::vector<model::topic_partition> keep;
        auto parts = leader_and_isr_entries(
            ctx, id, listed == leader_and_isr_.end() ? none : listed->second, leader_and_isr_all_,
            keep);
        if (!parts.empty() || listed != leader_and_isr_.end()) {
            out.push_back({id, leader_and_isr_api::key,
                           build_leader_and_isr(ctx, self, client_id, listener, b, parts), {}});
        }
    }
    std::set<model::node_id> um_to = update_metadata_brokers_;
    um_to.insert(update_metadata_all_.begin(), update_metadata_all_.end());
    for (const auto& [id, p] : update_metadata_) {
        um_to.insert(id);
    }
    for (const auto& [id, p] : deleting_) {
        um_to.insert(id);
    }
    std::optional<update_metadata_request> shared_all;  // the same for every such broker
    for (model::node_id id : um_to) {
        auto b = ctx.brokers.find(id);
        if (b == ctx.brokers.end()) {
            continue;
        }
        auto parts = update_metadata_.find(id);
        auto del = deleting_.find(id);
        bool all = update_metadata_all_.contains(id);
        if (all && del == deleting_.end()) {
            if (!shared_all) {
                shared_all = update_metadata_body(ctx, self, nullptr, nullptr, true);
            }
            out.push_back({id, update_metadata_api::key,
                           encode_update_metadata(client_id, *shared_all, b->second), {}});
            continue;
        }
        auto req = update_metadata_body(
            ctx, self, parts == update_metadata_.end() ? nullptr : &parts->second,
            del == deleting_.end() ? nullptr : &del->second, all);
        out.push_back({id, update_metadata_api::key,
                       encode_update_metadata(client_id, req, b->second), {}});
    }
    for (const auto& [id, parts] : stop_replica_) {
        if (auto b = ctx.brokers.find(id); b != ctx.brokers.end()) {
            out.push_back(build_stop_replica(ctx, self, client_id, b->second, parts));
        }
    }
    return out;
}

}  // namespace gregor::controller

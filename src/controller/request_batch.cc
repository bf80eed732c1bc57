#include "controller/request_batch.h"

#include "base/assert.h"
#include "protocol/frame.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"
#include "protocol/messages/update_metadata.h"

#include <algorithm>
#include <deque>
#include <functional>
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

// One partition of a LeaderAndIsr, as request_builder found it.
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

// request_builder's turns: one kind of request for one broker each, gathered when reached
// and handed out piece by piece.
struct request_builder::state {
    struct turn {
        model::node_id broker;
        std::int16_t api_key;
    };
    const request_batch& batch;
    model::node_id self;
    std::string client_id;
    std::string listener;
    std::size_t partitions_max;
    std::vector<turn> turns;
    std::size_t next = 0;
    // The UpdateMetadata of every partition, in pieces, gathered once for every broker.
    std::shared_ptr<std::vector<update_metadata_request>> shared_all;
    // The pieces of the turn under way, each encoding one request when called.
    std::deque<std::function<outgoing_request()>> pieces;

    void gather_leader_and_isr(const controller_context& ctx, const live_broker& b);
    void gather_update_metadata(const controller_context& ctx, const live_broker& b);
};

namespace {

// `body` in pieces of at most `max` partitions, each with the body's header and brokers. A
// body with no partition stays whole (it carries the live brokers).
std::vector<update_metadata_request> split(update_metadata_request body, std::size_t max) {
    std::vector<update_metadata_request> out;
    std::size_t in_piece = max;  // full: the first partition starts a piece
    auto header = [&] {
        update_metadata_request piece;
        piece.controller_id = body.controller_id;
        piece.controller_epoch = body.controller_epoch;
        piece.live_brokers = body.live_brokers;
        return piece;
    };
    std::size_t total = 0;
    for (const auto& t : body.topic_states) {
        total += t.partition_states.size();
    }
    if (total <= max) {
        out.push_back(std::move(body));
        return out;
    }
    for (auto& t : body.topic_states) {
        for (auto& p : t.partition_states) {
            if (in_piece == max) {
                out.push_back(header());
                in_piece = 0;
            }
            auto& topics = out.back().topic_states;
            if (topics.empty() || topics.back().topic_name != t.topic_name) {
                auto& nt = topics.emplace_back();
                nt.topic_name = t.topic_name;
                nt.topic_id = t.topic_id;
            }
            topics.back().partition_states.push_back(std::move(p));
            ++in_piece;
        }
    }
    return out;
}

}  // namespace

request_builder::request_builder(const request_batch& batch, const controller_context& ctx,
                                 model::node_id self, std::string client_id, std::string listener,
                                 std::size_t partitions_max)
    : s_(std::make_unique<state>(state{batch,
                                       self,
                                       std::move(client_id),
                                       std::move(listener),
                                       std::max<std::size_t>(partitions_max, 1),
                                       {},
                                       0,
                                       {},
                                       {}})) {
    for (const auto& [id, b] : ctx.brokers) {
        if (batch.leader_and_isr_all_ || batch.leader_and_isr_.contains(id)) {
            s_->turns.push_back({id, leader_and_isr_api::key});
        }
    }
    std::set<model::node_id> um_to = batch.update_metadata_brokers_;
    um_to.insert(batch.update_metadata_all_.begin(), batch.update_metadata_all_.end());
    for (const auto& [id, p] : batch.update_metadata_) {
        um_to.insert(id);
    }
    for (const auto& [id, p] : batch.deleting_) {
        um_to.insert(id);
    }
    for (model::node_id id : um_to) {
        s_->turns.push_back({id, update_metadata_api::key});
    }
    for (const auto& [id, parts] : batch.stop_replica_) {
        s_->turns.push_back({id, stop_replica_api::key});
    }
}

request_builder::~request_builder() = default;

void request_builder::state::gather_leader_and_isr(const controller_context& ctx,
                                                   const live_broker& b) {
    static const std::map<model::topic_partition, bool> none;
    auto listed = batch.leader_and_isr_.find(b.id);
    struct gathered {
        std::vector<model::topic_partition> keep;  // what `parts` points into
        std::vector<lai_entry> parts;
    };
    auto g = std::make_shared<gathered>();
    g->parts = leader_and_isr_entries(ctx, b.id,
                                      listed == batch.leader_and_isr_.end() ? none : listed->second,
                                      batch.leader_and_isr_all_, g->keep);
    if (g->parts.empty() && listed == batch.leader_and_isr_.end()) {
        return;
    }
    std::size_t from = 0;
    do {
        const std::size_t to = std::min(g->parts.size(), from + partitions_max);
        pieces.push_back([this, &ctx, &b, g, from, to] {
            std::vector<lai_entry> piece(g->parts.begin() + static_cast<std::ptrdiff_t>(from),
                                         g->parts.begin() + static_cast<std::ptrdiff_t>(to));
            return outgoing_request{b.id,
                                    leader_and_isr_api::key,
                                    build_leader_and_isr(ctx, self, client_id, listener, b, piece),
                                    {}};
        });
        from = to;
    } while (from < g->parts.size());
}

void request_builder::state::gather_update_metadata(const controller_context& ctx,
                                                    const live_broker& b) {
    auto parts = batch.update_metadata_.find(b.id);
    auto del = batch.deleting_.find(b.id);
    bool all = batch.update_metadata_all_.contains(b.id);
    std::shared_ptr<std::vector<update_metadata_request>> bodies;
    if (all && del == batch.deleting_.end()) {
        if (!shared_all) {
            shared_all = std::make_shared<std::vector<update_metadata_request>>(
                split(update_metadata_body(ctx, self, nullptr, nullptr, true), partitions_max));
        }
        bodies = shared_all;
    } else {
        bodies = std::make_shared<std::vector<update_metadata_request>>(split(
            update_metadata_body(ctx, self,
                                 parts == batch.update_metadata_.end() ? nullptr : &parts->second,
                                 del == batch.deleting_.end() ? nullptr : &del->second, all),
            partitions_max));
    }
    for (std::size_t i = 0; i < bodies->size(); ++i) {
        pieces.push_back([this, &b, bodies, i] {
            return outgoing_request{b.id,
                                    update_metadata_api::key,
                                    encode_update_metadata(client_id, (*bodies)[i], b),
                                    {}};
        });
    }
}

std::optional<outgoing_request> request_builder::next(const controller_context& ctx) {
    while (s_->pieces.empty() && s_->next < s_->turns.size()) {
        const auto t = s_->turns[s_->next++];
        auto b = ctx.brokers.find(t.broker);
        if (b == ctx.brokers.end()) {
            continue;  // not registered (any more): it gets nothing
        }
        if (t.api_key == leader_and_isr_api::key) {
            s_->gather_leader_and_isr(ctx, b->second);
        } else if (t.api_key == update_metadata_api::key) {
            s_->gather_update_metadata(ctx, b->second);
        } else {
            return build_stop_replica(ctx, s_->self, s_->client_id, b->second,
                                      s_->batch.stop_replica_.at(t.broker));
        }
    }
    if (s_->pieces.empty()) {
        return std::nullopt;
    }
    auto piece = std::move(s_->pieces.front());
    s_->pieces.pop_front();
    return piece();
}

}  // namespace gregor::controller

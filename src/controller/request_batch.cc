#include "controller/request_batch.h"

#include "base/assert.h"
#include "protocol/frame.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"
#include "protocol/messages/update_metadata.h"

#include <algorithm>
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
    model::topic_partition tp;
    const partition_record* r;
    bool is_new;
};

// Walks the context's partitions in (topic, partition) order, one at a time, so that a
// request of a million partitions can be built a piece at a time. The context must not
// change while it walks.
class partition_walk {
public:
    explicit partition_walk(const controller_context& ctx)
        : topic_(ctx.topics.begin()), topics_end_(ctx.topics.end()) {
        settle();
    }
    bool done() const { return topic_ == topics_end_; }
    model::topic_partition tp() const { return {topic_->first, part_->first}; }
    const partition_record& record() const { return part_->second; }
    void advance() {
        ++part_;
        if (part_ == topic_->second.partitions.end()) {
            ++topic_;
            settle();
        }
    }

private:
    // Moves to the first partition at or after the current topic.
    void settle() {
        while (topic_ != topics_end_ && topic_->second.partitions.empty()) {
            ++topic_;
        }
        if (topic_ != topics_end_) {
            part_ = topic_->second.partitions.begin();
        }
    }

    std::map<std::string, topic_record>::const_iterator topic_;
    std::map<std::string, topic_record>::const_iterator topics_end_;
    std::map<model::partition_id, partition_record>::const_iterator part_;
};

bytes build_leader_and_isr(const controller_context& ctx, model::node_id self,
                           const std::string& client_id, const std::string& listener,
                           const live_broker& to, const std::vector<lai_entry>& parts) {
    leader_and_isr_request req;
    req.controller_id = self;
    req.controller_epoch = ctx.epoch;
    req.broker_epoch = to.epoch;
    std::set<model::node_id> leaders;
    for (const auto& e : parts) {
        topic_slot(req, ctx, e.tp.topic)
            .partition_states.push_back(lai_state(e.tp, *e.r, e.is_new));
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

// An UpdateMetadata without partitions (and without the recipient's broker epoch).
update_metadata_request update_metadata_header(const controller_context& ctx, model::node_id self) {
    update_metadata_request req;
    req.controller_id = self;
    req.controller_epoch = ctx.epoch;
    req.live_brokers = live_brokers(ctx);
    return req;
}

// Adds `tp` (with leader -2 when `deleting`) to `req`, whose partitions come in topic order.
// Returns false, adding nothing, for a partition without a state znode.
bool add_update_metadata(update_metadata_request& req, const controller_context& ctx,
                         const model::topic_partition& tp, const partition_record* r,
                         bool deleting) {
    if (r == nullptr || r->version() < 0) {
        return false;
    }
    if (req.topic_states.empty() || req.topic_states.back().topic_name != tp.topic) {
        auto& t = req.topic_states.emplace_back();
        t.topic_name = tp.topic;
        t.topic_id = ctx.topics.at(tp.topic).id;
    }
    req.topic_states.back().partition_states.push_back(um_state(ctx, tp, *r, deleting));
    return true;
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

// request_builder's turns, each built a piece at a time when reached: one broker's
// LeaderAndIsr, one broker's UpdateMetadata or StopReplica, or the UpdateMetadata of every
// partition for all the brokers that get it (each piece built once and sent to each of them,
// so that the whole is never in memory).
struct request_builder::state {
    enum class kind { leader_and_isr, update_metadata, update_metadata_all, stop_replica };
    struct turn {
        kind what;
        model::node_id broker;  // unused for update_metadata_all
    };
    const request_batch& batch;
    model::node_id self;
    std::string client_id;
    std::string listener;
    std::size_t partitions_max;
    std::vector<turn> turns;
    std::size_t next = 0;
    // The turn under way: returns its next request, nullopt once it has none left.
    std::function<std::optional<outgoing_request>()> current;

    void start_leader_and_isr(const controller_context& ctx, const live_broker& b);
    void start_update_metadata(const controller_context& ctx, const live_broker& b);
    void start_update_metadata_all(const controller_context& ctx);
};

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
                                       {}})) {
    using kind = state::kind;
    for (const auto& [id, b] : ctx.brokers) {
        if (batch.leader_and_isr_all_ || batch.leader_and_isr_.contains(id)) {
            s_->turns.push_back({kind::leader_and_isr, id});
        }
    }
    // Every partition to each broker that gets them all and deletes nothing: one shared walk.
    bool shared = false;
    std::set<model::node_id> um_to = batch.update_metadata_brokers_;
    for (model::node_id id : batch.update_metadata_all_) {
        if (batch.deleting_.contains(id)) {
            um_to.insert(id);
        } else {
            shared = true;
        }
    }
    for (const auto& [id, p] : batch.update_metadata_) {
        um_to.insert(id);
    }
    for (const auto& [id, p] : batch.deleting_) {
        um_to.insert(id);
    }
    if (shared) {
        s_->turns.push_back({kind::update_metadata_all, model::node_id{-1}});
    }
    for (model::node_id id : um_to) {
        if (!batch.update_metadata_all_.contains(id) || batch.deleting_.contains(id)) {
            s_->turns.push_back({kind::update_metadata, id});
        }
    }
    for (const auto& [id, parts] : batch.stop_replica_) {
        s_->turns.push_back({kind::stop_replica, id});
    }
}

request_builder::~request_builder() = default;

// `b`'s LeaderAndIsr in pieces: the partitions listed for it, plus, when the batch says
// `all`, every partition with a state znode of which `b` holds an online replica, in
// (topic, partition) order. Nothing when it has none and none was listed.
void request_builder::state::start_leader_and_isr(const controller_context& ctx,
                                                  const live_broker& b) {
    static const std::map<model::topic_partition, bool> none;
    auto found = batch.leader_and_isr_.find(b.id);
    const bool listed_any = found != batch.leader_and_isr_.end();
    struct walker {
        const std::map<model::topic_partition, bool>& listed;
        std::map<model::topic_partition, bool>::const_iterator next_listed;
        std::optional<partition_walk> all;  // set when the batch sends every partition
        bool sent = false;
    };
    auto w = std::make_shared<walker>(
        walker{listed_any ? found->second : none, {}, std::nullopt, false});
    w->next_listed = w->listed.begin();
    if (batch.leader_and_isr_all_) {
        w->all.emplace(ctx);
    }
    current = [this, &ctx, &b, w, listed_any]() -> std::optional<outgoing_request> {
        std::vector<lai_entry> piece;
        while (piece.size() < partitions_max) {
            if (!w->all) {
                if (w->next_listed == w->listed.end()) {
                    break;
                }
                const auto& [tp, is_new] = *w->next_listed++;
                if (const partition_record* r = ctx.partition(tp)) {
                    piece.push_back({tp, r, is_new});
                }
                continue;
            }
            if (w->all->done()) {
                break;
            }
            model::topic_partition tp = w->all->tp();
            const partition_record& r = w->all->record();
            w->all->advance();
            while (w->next_listed != w->listed.end() && w->next_listed->first < tp) {
                ++w->next_listed;  // listed but gone from the context
            }
            bool is_listed = w->next_listed != w->listed.end() && w->next_listed->first == tp;
            bool is_new = is_listed && w->next_listed->second;
            if (is_listed) {
                ++w->next_listed;
            }
            bool replica =
                r.version() >= 0 &&
                std::find(r.replicas.begin(), r.replicas.end(), b.id) != r.replicas.end() &&
                ctx.replica_online(b.id, tp);
            if (is_listed || replica) {
                piece.push_back({std::move(tp), &r, is_new});
            }
        }
        if (piece.empty() && (w->sent || !listed_any)) {
            return std::nullopt;
        }
        w->sent = true;
        return outgoing_request{b.id,
                                leader_and_isr_api::key,
                                build_leader_and_isr(ctx, self, client_id, listener, b, piece),
                                {}};
    };
}

// `b`'s own UpdateMetadata in pieces: the partitions listed for it (or every one when the
// batch says `all` for it), except those it deletes, which follow with leader -2. At least
// one piece: a request without partitions carries the live brokers.
void request_builder::state::start_update_metadata(const controller_context& ctx,
                                                   const live_broker& b) {
    static const std::set<model::topic_partition> none;
    auto parts = batch.update_metadata_.find(b.id);
    auto del = batch.deleting_.find(b.id);
    struct walker {
        const std::set<model::topic_partition>& listed;
        const std::set<model::topic_partition>& deleting;
        std::set<model::topic_partition>::const_iterator next_listed;
        std::set<model::topic_partition>::const_iterator next_deleting;
        std::optional<partition_walk> all;
        bool sent = false;
    };
    auto w = std::make_shared<walker>(
        walker{parts == batch.update_metadata_.end() ? none : parts->second,
               del == batch.deleting_.end() ? none : del->second,
               {},
               {},
               std::nullopt,
               false});
    w->next_listed = w->listed.begin();
    w->next_deleting = w->deleting.begin();
    if (batch.update_metadata_all_.contains(b.id)) {
        w->all.emplace(ctx);
    }
    current = [this, &ctx, &b, w]() -> std::optional<outgoing_request> {
        update_metadata_request piece = update_metadata_header(ctx, self);
        std::size_t n = 0;
        while (n < partitions_max) {
            if (w->all && !w->all->done()) {
                model::topic_partition tp = w->all->tp();
                const partition_record& r = w->all->record();
                w->all->advance();
                if (!w->deleting.contains(tp) && add_update_metadata(piece, ctx, tp, &r, false)) {
                    ++n;
                }
            } else if (!w->all && w->next_listed != w->listed.end()) {
                const auto& tp = *w->next_listed++;
                if (!w->deleting.contains(tp) &&
                    add_update_metadata(piece, ctx, tp, ctx.partition(tp), false)) {
                    ++n;
                }
            } else if (w->next_deleting != w->deleting.end()) {
                const auto& tp = *w->next_deleting++;
                if (add_update_metadata(piece, ctx, tp, ctx.partition(tp), true)) {
                    ++n;
                }
            } else {
                break;
            }
        }
        if (n == 0 && w->sent) {
            return std::nullopt;
        }
        w->sent = true;
        return outgoing_request{
            b.id, update_metadata_api::key, encode_update_metadata(client_id, piece, b), {}};
    };
}

// Every partition's UpdateMetadata to each broker the batch sends them all to and that
// deletes nothing: each piece is built once, then encoded for each of them.
void request_builder::state::start_update_metadata_all(const controller_context& ctx) {
    struct walker {
        partition_walk all;
        std::vector<const live_broker*> to;
        update_metadata_request piece;
        std::size_t next_to = 0;  // == to.size(): the next piece is due
        bool built_any = false;
    };
    auto w = std::make_shared<walker>(walker{partition_walk(ctx), {}, {}, 0, false});
    for (model::node_id id : batch.update_metadata_all_) {
        auto b = ctx.brokers.find(id);
        if (b != ctx.brokers.end() && !batch.deleting_.contains(id)) {
            w->to.push_back(&b->second);
        }
    }
    w->next_to = w->to.size();
    current = [this, &ctx, w]() -> std::optional<outgoing_request> {
        if (w->to.empty()) {
            return std::nullopt;
        }
        if (w->next_to == w->to.size()) {
            if (w->all.done() && w->built_any) {
                return std::nullopt;
            }
            w->piece = update_metadata_header(ctx, self);
            std::size_t n = 0;
            while (n < partitions_max && !w->all.done()) {
                model::topic_partition tp = w->all.tp();
                if (add_update_metadata(w->piece, ctx, tp, &w->all.record(), false)) {
                    ++n;
                }
                w->all.advance();
            }
            if (n == 0 && w->built_any) {
                return std::nullopt;
            }
            w->built_any = true;
            w->next_to = 0;
        }
        const live_broker& b = *w->to[w->next_to++];
        return outgoing_request{
            b.id, update_metadata_api::key, encode_update_metadata(client_id, w->piece, b), {}};
    };
}

std::optional<outgoing_request> request_builder::next(const controller_context& ctx) {
    using kind = state::kind;
    for (;;) {
        if (s_->current) {
            if (auto r = s_->current()) {
                return r;
            }
            s_->current = nullptr;
        }
        if (s_->next == s_->turns.size()) {
            return std::nullopt;
        }
        const auto t = s_->turns[s_->next++];
        if (t.what == kind::update_metadata_all) {
            s_->start_update_metadata_all(ctx);
            continue;
        }
        auto b = ctx.brokers.find(t.broker);
        if (b == ctx.brokers.end()) {
            continue;  // not registered (any more): it gets nothing
        }
        switch (t.what) {
            case kind::leader_and_isr:
                s_->start_leader_and_isr(ctx, b->second);
                break;
            case kind::update_metadata:
                s_->start_update_metadata(ctx, b->second);
                break;
            default:
                return build_stop_replica(ctx, s_->self, s_->client_id, b->second,
                                          s_->batch.stop_replica_.at(t.broker));
        }
    }
}

}  // namespace gregor::controller

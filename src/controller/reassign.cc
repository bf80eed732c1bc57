// Partition reassignment (KIP-455), as Kafka's ZooKeeper-mode controller runs it.
//
// Phase A (start): the partition's replicas become RS = TRS ∪ ORS (target first), with
// adding = TRS − ORS and removing = ORS − TRS, written to /brokers/topics/<t> together with
// the state znode (leader epoch + 1) in one fenced multi; every live replica of RS hears
// LeaderAndIsr (the added ones as new replicas, so they create their logs and fetch).
// Phase B (complete), tried whenever the ISR may have grown to hold the target (after
// AlterPartition, broker start-up and failure, failover): leadership moves into TRS if the
// leader is outside it or dead (Reassign strategy), the ISR keeps only TRS, RS = TRS is
// written with the lists cleared, and the removed replicas get StopReplica(delete).
// Replacing a reassignment keeps the original replicas (ORS = RS − adding); cancelling is a
// reassignment back to ORS, which completes at once. Replicas an older target added and the
// new one drops are stopped and deleted straight away.
#include "controller/impl.h"
#include "controller/logger.h"

#include <algorithm>

namespace gregor::controller {
namespace {

using replicas_t = std::vector<model::node_id>;

bool contains(const replicas_t& v, model::node_id id) {
    return std::find(v.begin(), v.end(), id) != v.end();
}

replicas_t minus(const replicas_t& a, const replicas_t& b) {
    replicas_t out;
    for (model::node_id id : a) {
        if (!contains(b, id)) {
            out.push_back(id);
        }
    }
    return out;
}

// What a partition's replica lists become when it moves to `target`.
struct reassignment_plan {
    replicas_t replicas;  // RS
    replicas_t adding;
    replicas_t removing;
    replicas_t dropped;  // in the current RS, not in the new one
};

reassignment_plan plan_move(const partition_record& r, const replicas_t& target) {
    const replicas_t origin = r.origin();
    reassignment_plan p;
    p.replicas = target;
    for (model::node_id id : origin) {
        if (!contains(p.replicas, id)) {
            p.replicas.push_back(id);
        }
    }
    p.adding = minus(target, origin);
    p.removing = minus(origin, target);
    if (p.adding.empty() && p.removing.empty()) {
        p.replicas = target;  // same brokers (a reorder, or a cancel): nothing to wait for
    }
    p.dropped = minus(r.replicas, p.replicas);
    return p;
}

}  // namespace

asio::awaitable<bool> controller::impl::write_reassignment(const reassignment_write& w,
                                                           const std::string& why) {
    auto t = ctx.topics.find(w.tp.topic);
    const partition_record* r = ctx.partition(w.tp);
    if (t == ctx.topics.end() || r == nullptr || !is_active) {
        co_return false;
    }
    coord::topic_assignment a = assignment_of(t->second);
    a.partitions[w.tp.partition] = w.replicas;
    a.adding_replicas.erase(w.tp.partition);
    a.removing_replicas.erase(w.tp.partition);
    if (!w.adding.empty() || !w.removing.empty()) {
        a.adding_replicas[w.tp.partition] = w.adding;
        a.removing_replicas[w.tp.partition] = w.removing;
    }
    std::vector<coord::op> ops;
    ops.push_back(coord::set_op{coord::paths::topic(w.tp.topic), coord::encode_topic(a),
                                coord::any_version});
    ops.push_back(coord::set_op{coord::paths::partition_state(w.tp.topic, w.tp.partition),
                                coord::encode_partition_state(w.next), r->version});
    std::uint64_t gen = generation;
    auto res = co_await fenced(ops);
    partition_record* rec = ctx.partition(w.tp);
    if (!is_active || generation != gen || rec == nullptr) {
        co_return false;
    }
    if (res.error || res.results.size() < 3 || !res.results[2].stat) {
        GREGOR_LOG(controller_log, warn, "partition {}: reassignment write failed ({}); retried "
                   "on the next round", w.tp, res.error.message());
        co_return false;
    }
    partition_record before = *rec;
    rec->replicas = w.replicas;
    rec->adding = w.adding;
    rec->removing = w.removing;
    rec->state = w.next;
    rec->version = res.results[2].stat->version;
    rec->phase = ctx.brokers.contains(rec->state.leader) ? partition_phase::online
                                                         : partition_phase::offline;
    journal(state_change{w.tp, w.next, false, false}, before, why);
    co_return true;
}

asio::awaitable<model::kafka_error> controller::impl::start_reassignment(
    const model::topic_partition& tp, const std::vector<model::node_id>& target,
    request_batch& batch) {
    const partition_record* r = ctx.partition(tp);
    if (r == nullptr || r->version() < 0) {
        co_return model::kafka_error::unknown_topic_or_partition;
    }
    const bool cancel = r->reassigning() && target == r->origin();
    const reassignment_plan plan = plan_move(*r, target);
    reassignment_write w{tp, plan.replicas, plan.adding, plan.removing, r->state};
    w.next.isr = minus(r->state.isr, plan.dropped);
    if (contains(plan.dropped, r->state.leader) || w.next.isr.empty()) {
        // The leader was an added replica the new target drops: lead from the target.
        auto won = elect_reassign(target, w.next.isr, ctx.live_set());
        if (!won || w.next.isr.empty()) {
            co_return model::kafka_error::reassignment_in_progress;
        }
        w.next.leader = won->leader;
    }
    w.next.leader_epoch = model::leader_epoch(r->state.leader_epoch() + 1);
    w.next.controller_epoch = ctx.epoch;
    const bool at_once = plan.adding.empty() && plan.removing.empty();
    const std::string what = cancel ? "cancelled" : at_once ? "completed" : "started";
    const std::string why =
        "reassignment of " + fmt::format("{}", tp) + " to " + replica_list(target) + " " + what;
    bool written = co_await write_reassignment(w, why);
    if (!written) {
        co_return is_active ? model::kafka_error::unknown_server_error
                            : model::kafka_error::not_controller;
    }
    GREGOR_LOG(journal_log, info, "{} (replicas {}, adding {}, removing {})", why,
               replica_list(plan.replicas), replica_list(plan.adding), replica_list(plan.removing));
    for (model::node_id id : plan.replicas) {
        if (ctx.brokers.contains(id)) {
            batch.leader_and_isr(id, tp, contains(plan.adding, id));
        }
    }
    for (model::node_id id : plan.dropped) {
        if (ctx.brokers.contains(id)) {
            batch.stop_replica(id, tp, true, w.next.leader_epoch);
        }
    }
    batch.update_metadata(ctx.registered_set(), tp);
    const std::vector<model::topic_partition> one{tp};
    co_await advance_reassignments(one, batch);
    co_return model::kafka_error::none;
}

std::optional<controller::impl::reassignment_write> controller::impl::completion_of(
    const model::topic_partition& tp) const {
    auto t = ctx.topics.find(tp.topic);
    const partition_record* r = ctx.partition(tp);
    if (t == ctx.topics.end() || t->second.deleting || r == nullptr || !r->reassigning() ||
        r->version() < 0) {
        return std::nullopt;
    }
    const replicas_t target = r->target();
    for (model::node_id id : target) {
        if (!contains(r->state.isr, id)) {
            return std::nullopt;  // not caught up yet
        }
    }
    reassignment_write w{tp, target, {}, {}, r->state};
    if (!contains(target, r->state.leader) || !ctx.live(r->state.leader)) {
        auto won = elect_reassign(target, r->state.isr, ctx.live_set());
        if (!won) {
            return std::nullopt;  // no live target replica in the ISR yet
        }
        w.next.leader = won->leader;
    }
    w.next.isr.clear();
    for (model::node_id id : r->state.isr) {
        if (contains(target, id)) {
            w.next.isr.push_back(id);
        }
    }
    w.next.leader_epoch = model::leader_epoch(r->state.leader_epoch() + 1);
    w.next.controller_epoch = ctx.epoch;
    return w;
}

asio::awaitable<void> controller::impl::advance_reassignments(
    const std::vector<model::topic_partition>& wanted, request_batch& batch) {
    std::vector<model::topic_partition> candidates = wanted;
    if (candidates.empty()) {
        for (const auto& [name, t] : ctx.topics) {
            for (const auto& [p, r] : t.partitions) {
                if (r.reassigning()) {
                    candidates.push_back({name, p});
                }
            }
        }
    }
    bool legacy_done = false;
    for (const auto& tp : candidates) {
        auto w = completion_of(tp);
        if (!w) {
            continue;
        }
        const replicas_t removing = ctx.partition(tp)->removing;
        const std::string why = "reassignment of " + fmt::format("{}", tp) + " to " +
                                replica_list(w->replicas) + " completed";
        bool written = co_await write_reassignment(*w, why);
        if (!is_active) {
            co_return;
        }
        if (!written) {
            continue;
        }
        GREGOR_LOG(journal_log, info, "{} (removed {})", why, replica_list(removing));
        batch.leader_and_isr_to_replicas(ctx, tp, false);
        for (model::node_id id : removing) {
            if (ctx.brokers.contains(id)) {
                batch.stop_replica(id, tp, true, w->next.leader_epoch);
            }
        }
        batch.update_metadata(ctx.registered_set(), tp);
        legacy_done = legacy_done || legacy_moves.contains(tp);
    }
    if (legacy_done) {
        co_await sync_reassign_node();
    }
}

}  // namespace gregor::controller

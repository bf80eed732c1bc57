// Leader/ISR decisions: compute them, write them fenced, journal them, tell the brokers.
#include "controller/impl.h"
#include "controller/logger.h"
#include "coord/errc.h"
#include "coord/limits.h"
#include "protocol/frame.h"
#include "protocol/messages/leader_and_isr.h"
#include "protocol/messages/stop_replica.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

namespace gregor::controller {
namespace {

bool is_true(const std::string& v) {
    return v == "true" || v == "TRUE" || v == "True";
}

// Removes every replica that is not registered, or whose log dir is offline, from the ISR, never emptying it (Kafka's
// OfflineReplica keeps the last member so it can lead again when it returns).
std::vector<model::node_id> without_dead(const std::vector<model::node_id>& isr,
                                         const controller_context& ctx,
                                         const model::topic_partition& tp) {
    std::vector<model::node_id> out;
    for (model::node_id id : isr) {
        if (ctx.replica_online(id, tp)) {
            out.push_back(id);
        }
    }
    if (out.empty() && !isr.empty()) {
        out.push_back(isr.front());
    }
    return out;
}

}  // namespace

bool controller::impl::unclean_allowed(const std::string& topic) const {
    auto t = ctx.topics.find(topic);
    if (t != ctx.topics.end()) {
        auto c = t->second.config.find("unclean.leader.election.enable");
        if (c != t->second.config.end()) {
            return is_true(c->second);
        }
    }
    return cfg.unclean_leader_election;
}

std::optional<state_change> controller::impl::offline_change(const model::topic_partition& tp,
                                                             const partition_record& r,
                                                             const broker_set& live) const {
    coord::partition_state next = r.state;
    next.controller_epoch = ctx.epoch;
    if (r.version() < 0) {
        auto won = elect_initial(r.replicas, live);
        if (!won) {
            return std::nullopt;  // no live replica: stays new until one registers
        }
        next = {won->leader, model::leader_epoch(0), ctx.epoch, false, won->isr};
        return state_change{tp, std::move(next), true, false};
    }
    bool unclean = false;
    // A leader in controlled shutdown keeps leading what nobody else can take until it dies.
    // A leader whose log dir failed is as gone as a dead one (Kafka's OfflineReplica).
    if (!ctx.replica_online(r.state.leader, tp)) {
        if (auto won = elect_offline(r.replicas, r.state.isr, live, unclean_allowed(tp.topic))) {
            next.leader = won->leader;
            next.isr = won->isr;
            unclean = won->unclean;
            next.recovering = won->unclean;
        } else {
            next.leader = model::no_node;
            next.isr = without_dead(r.state.isr, ctx, tp);
        }
    } else {
        next.isr = without_dead(r.state.isr, ctx, tp);
    }
    if (next.leader == r.state.leader && next.isr == r.state.isr) {
        return std::nullopt;
    }
    next.leader_epoch = model::leader_epoch(r.state.leader_epoch() + 1);
    return state_change{tp, std::move(next), false, unclean};
}

asio::awaitable<void> controller::impl::reconcile(
    const std::vector<model::topic_partition>& wanted, const std::string& why,
    request_batch& batch) {
    std::vector<state_change> changes;
    if (wanted.empty()) {
        // Every partition (a failover): walked in place, with the live set built once unless
        // some log dir is offline.
        const broker_set live = ctx.live_set();
        const std::uint64_t gen = generation;
        auto budget = walk_budget();
        bool due = false;
        for (const auto& [name, t] : ctx.topics) {
            if (t.deleting) {
                continue;
            }
            if (due) {
                // Between topics. Only a resignation (an expired session) changes the context
                // outside the event queue, and it ends the walk.
                co_await budget.yield();
                due = false;
                if (generation != gen) {
                    co_return;
                }
            }
            for (const auto& [p, r] : t.partitions) {
                due = budget.due() || due;
                model::topic_partition tp{name, p};
                std::optional<broker_set> own;
                if (!ctx.offline_replicas.empty()) {
                    own = ctx.live_set(tp);
                }
                if (auto c = offline_change(tp, r, own ? *own : live)) {
                    changes.push_back(std::move(*c));
                }
            }
        }
    }
    auto budget = walk_budget();
    const std::uint64_t wanted_gen = generation;
    for (const auto& tp : wanted) {
        if (budget.due()) {
            co_await budget.yield();
            if (generation != wanted_gen) {
                co_return;
            }
        }
        auto t = ctx.topics.find(tp.topic);
        if (t == ctx.topics.end() || t->second.deleting) {
            continue;
        }
        const partition_record* r = ctx.partition(tp);
        if (r == nullptr) {
            continue;
        }
        if (auto c = offline_change(tp, *r, ctx.live_set(tp))) {
            changes.push_back(std::move(*c));
        }
    }
    co_await write_changes(changes, why, batch);
}

// The state znode write of one change (unfenced; write_states adds the fence).
coord::op controller::impl::state_write(const state_change& c) const {
    std::string path = coord::paths::partition_state(c.tp.topic, c.tp.partition);
    std::string data = coord::encode_partition_state(c.next);
    if (c.create) {
        return coord::create_op{path, data, coord::create_mode::persistent};
    }
    return coord::set_op{path, data, ctx.partition(c.tp)->version};
}

// Writes every change's state znode, fenced by the version of /controller_epoch. Changes go
// `zk_multi_ops` to a multi (one ZooKeeper transaction: against a real ensemble, 33,000
// single-partition multis took 8 s and the same writes in multis of 1,000 well under one);
// a multi that fails for another reason than the fence is retried one change per multi, so
// one stale version fails alone. Returns each change's outcome, or nothing if this controller
// was fenced (it has resigned) or lost its role meanwhile.
asio::awaitable<std::optional<std::vector<controller::impl::write_outcome>>>
controller::impl::write_states(const std::vector<state_change>& changes) {
    const coord::check_op fence{std::string(coord::paths::controller_epoch), ctx.epoch_version};
    const std::size_t per_multi =
        std::clamp<std::size_t>(cfg.zk_multi_ops, 1, coord::limits::multi_ops_max - 1);
    std::vector<std::vector<coord::op>> multis;
    auto budget = walk_budget();
    for (std::size_t i = 0; i < changes.size(); ++i) {
        if (budget.due()) {
            co_await budget.yield();
            if (!is_active) {
                co_return std::nullopt;  // resigned: changes[] may name a cleared context
            }
        }
        if (i % per_multi == 0) {
            multis.push_back({fence});
        }
        multis.back().push_back(state_write(changes[i]));
    }
    std::uint64_t gen = generation;
    auto batched = co_await zk::multi_many(zk, multis, cfg.zk_window);
    if (generation != gen) {
        co_return std::nullopt;  // no longer the controller: write nothing more
    }
    std::vector<write_outcome> out(changes.size());
    std::vector<std::size_t> retry;
    for (std::size_t m = 0; m < batched.size(); ++m) {
        if (fenced_out(batched[m])) {
            resign("/controller_epoch moved on: another controller was elected");
            co_return std::nullopt;
        }
        for (std::size_t k = 1; k < multis[m].size(); ++k) {
            std::size_t i = m * per_multi + k - 1;
            if (batched[m].error) {
                retry.push_back(i);
            } else if (const auto& stat = batched[m].results[k].stat) {
                out[i].version = stat->version;
            }
        }
    }
    std::vector<std::vector<coord::op>> singles;
    for (std::size_t i : retry) {
        singles.push_back({fence, state_write(changes[i])});
    }
    auto single = co_await zk::multi_many(zk, singles, cfg.zk_window);
    if (generation != gen) {
        co_return std::nullopt;
    }
    for (std::size_t j = 0; j < single.size(); ++j) {
        if (fenced_out(single[j])) {
            resign("/controller_epoch moved on: another controller was elected");
            co_return std::nullopt;
        }
        write_outcome& o = out[retry[j]];
        o.error = single[j].error;
        if (!o.error && single[j].results[1].stat) {
            o.version = single[j].results[1].stat->version;
        }
    }
    co_return out;
}

asio::awaitable<bool> controller::impl::write_changes(const std::vector<state_change>& changes,
                                                      const std::string& why, request_batch& batch,
                                                      std::vector<std::error_code>* failures) {
    if (changes.empty() || !is_active) {
        co_return is_active;
    }
    // New partitions need their parent znodes (unfenced, as Kafka creates them): a topic's
    // `partitions` once, then one per partition. ZooKeeper applies one session's requests in
    // order, so the pipelined creates find their parents.
    std::vector<std::vector<coord::op>> parents;
    std::unordered_set<std::string_view> topics_with_parent;
    for (const auto& c : changes) {
        if (c.create) {
            if (topics_with_parent.insert(c.tp.topic).second) {
                parents.push_back(
                    {coord::create_op{coord::paths::topic_partitions(c.tp.topic), "", {}}});
            }
            parents.push_back({coord::create_op{coord::paths::partition(c.tp.topic, c.tp.partition),
                                                "", {}}});
        }
    }
    std::uint64_t gen = generation;
    co_await zk::multi_many(zk, parents, cfg.zk_window);
    if (generation != gen) {
        co_return false;
    }
    auto outcomes = co_await write_states(changes);
    if (!outcomes) {
        co_return false;
    }
    broker_set everyone = ctx.registered_set();
    auto budget = walk_budget();
    for (std::size_t i = 0; i < changes.size(); ++i) {
        if (budget.due()) {
            co_await budget.yield();
            if (generation != gen) {
                co_return false;  // resigned meanwhile: what is written is for the next one
            }
        }
        const write_outcome& r = (*outcomes)[i];
        if (failures != nullptr) {
            failures->push_back(r.error);
        }
        partition_record* rec = ctx.partition(changes[i].tp);
        if (r.error || rec == nullptr) {
            GREGOR_LOG(controller_log, warn, "partition {}: state write failed ({}); retried on the "
                       "next round", changes[i].tp, r.error.message());
            continue;
        }
        partition_record before = *rec;
        rec->state = changes[i].next;
        rec->version = changes[i].create ? model::zk_version(0) : r.version;
        rec->phase = ctx.replica_online(rec->state.leader, changes[i].tp) ? partition_phase::online
                                                             : partition_phase::offline;
        journal(changes[i], before, why);
        batch.leader_and_isr_to_replicas(ctx, changes[i].tp, changes[i].create);
        batch.update_metadata(everyone, changes[i].tp);
    }
    co_return true;
}

void controller::impl::journal(const state_change& c, const partition_record& before,
                               const std::string& why) {
    if (c.unclean) {
        ++unclean_elections;
        GREGOR_LOG(journal_log, err,
                   "UNCLEAN leader election for {}: broker {} was not in the ISR {}; records "
                   "acknowledged by the old ISR may be lost (unclean elections so far: {})",
                   c.tp, c.next.leader(), replica_list(before.state.isr), unclean_elections);
    }
    decisions.add(decision{.seq = 0,
                           .time = cfg.now(),
                           .controller_epoch = c.next.controller_epoch,
                           .topic = c.tp.topic,
                           .partition = c.tp.partition,
                           .old_leader = c.create ? model::no_node : before.state.leader,
                           .new_leader = c.next.leader,
                           .old_isr = c.create ? std::vector<model::node_id>{} : before.state.isr,
                           .new_isr = c.next.isr,
                           .leader_epoch = c.next.leader_epoch,
                           .unclean = c.unclean,
                           .reason = why,
                           .receipt = std::nullopt});
    GREGOR_LOG(journal_log, info,
               "decision topic={} partition={} leader={}->{} isr={}->{} leader_epoch={} "
               "controller_epoch={} reason=\"{}\"",
               c.tp.topic, c.tp.partition(), c.create ? -1 : before.state.leader(), c.next.leader(),
               c.create ? "[]" : replica_list(before.state.isr), replica_list(c.next.isr),
               c.next.leader_epoch(), c.next.controller_epoch(), why);
}

asio::awaitable<void> controller::impl::send(const request_batch& batch,
                                             std::shared_ptr<answer_tracker> answers) {
    if (batch.empty() || !is_active) {
        co_return;
    }
    std::weak_ptr<impl> weak = weak_from_this();
    std::uint64_t gen = generation;
    request_builder builder(batch, ctx, cfg.self, client_id, cfg.inter_broker_listener,
                            request_partitions_max);
    for (auto req = builder.next(ctx); req; req = builder.next(ctx)) {
        auto shared = std::make_shared<outgoing_request>(std::move(*req));
        if (answers) {
            answers->expect();
        }
        channels.send(shared->broker, shared->message,
                      [weak, gen, shared, answers](result<bytes> r) {
            if (answers) {
                answers->answered(r.has_value());
            }
            auto self = weak.lock();
            if (self && self->generation == gen && self->is_active) {
                self->on_response(*shared, std::move(r));
            }
        });
        // A million partitions make hundreds of pieces: the loop gets a turn after each.
        co_await net::loop_budget::items(1).yield();
        if (generation != gen) {
            co_return;  // resigned: the context the builder reads is gone
        }
    }
}

std::shared_ptr<answer_tracker> controller::impl::log_when_answered(std::shared_ptr<timeline> t) {
    return std::make_shared<answer_tracker>(
        [t, done = hooks.on_round_done](std::size_t requests, std::size_t failed) {
            t->mark("answered");
            t->count("requests", requests);
            t->count("failed", failed);
            GREGOR_LOG(controller_log, info, "{}", t->line());
            if (done) {
                done(*t);
            }
        });
}

void controller::impl::on_response(const outgoing_request& req, result<bytes> r) {
    if (!r) {
        return;  // the broker is gone; it gets fresh state when it comes back
    }
    if (req.api_key == protocol::leader_and_isr_api::key) {
        on_leader_and_isr_response(req, *r);
        return;
    }
    if (req.api_key != protocol::stop_replica_api::key || req.deleting.empty()) {
        return;
    }
    protocol::reader rd(*r);
    auto header = protocol::decode_response_header(
        rd, protocol::response_header_version(req.api_key, stop_replica_version));
    auto resp = protocol::decode_exact<protocol::stop_replica_response>(rd, stop_replica_version);
    if (!header || !resp || resp->error_code != 0) {
        return;
    }
    bool progressed = false;
    for (const auto& pe : resp->partition_errors) {
        if (pe.error_code != 0) {
            continue;
        }
        auto d = deleting.find(pe.topic_name);
        if (d != deleting.end() && d->second.erase({req.broker, pe.partition_index}) > 0) {
            progressed = true;
        }
    }
    if (progressed) {
        auto self = shared_from_this();
        enqueue("finish_deletions", [self] { return self->finish_deletions(); }, {}, true);
    }
}

}  // namespace gregor::controller

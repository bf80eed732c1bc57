// Broker membership: start-up, failure, bounce, controlled shutdown.
#include "controller/impl.h"
#include "controller/logger.h"

#include <algorithm>

namespace gregor::controller {

using model::kafka_error;

void controller::impl::add_channel(const live_broker& b) {
    const coord::broker_endpoint* ep = nullptr;
    for (const auto& e : b.info.endpoints) {
        if (e.listener == cfg.inter_broker_listener) {
            ep = &e;
        }
    }
    if (ep == nullptr && !b.info.endpoints.empty()) {
        ep = &b.info.endpoints.front();
    }
    if (ep == nullptr) {
        GREGOR_LOG(controller_log, err, "broker {} registered no endpoint; cannot reach it",
                   b.id());
        return;
    }
    channels.add_broker(b.id, ep->host, ep->port);
}

// A broker that died or registered again forgets its offline log dirs (Kafka's
// onBrokerFailure/onBrokerStartup): after a restart its dirs are checked anew. A bounced
// broker's channel starts afresh, toward its new run.
void controller::impl::update_channels(const broker_set& fresh, const broker_set& dead,
                                       const broker_set& bounced) {
    for (model::node_id id : dead) {
        channels.remove_broker(id);
        ctx.shutting_down.erase(id);
        ctx.offline_replicas.erase(id);
    }
    for (model::node_id id : bounced) {
        channels.remove_broker(id);
        ctx.shutting_down.erase(id);
        ctx.offline_replicas.erase(id);
        add_channel(ctx.brokers.at(id));
    }
    for (model::node_id id : fresh) {
        add_channel(ctx.brokers.at(id));
    }
}

asio::awaitable<void> controller::impl::on_broker_change() {
    if (!is_active) {
        co_return;
    }
    std::map<model::node_id, live_broker> before = ctx.brokers;
    std::uint64_t gen = generation;
    bool loaded = co_await load_brokers();
    if (!loaded || generation != gen) {
        co_return;
    }
    broker_set fresh;
    broker_set dead;
    broker_set bounced;
    for (const auto& [id, b] : ctx.brokers) {
        auto old = before.find(id);
        if (old == before.end()) {
            fresh.insert(id);
        } else if (old->second.epoch != b.epoch) {
            bounced.insert(id);
        }
    }
    for (const auto& [id, b] : before) {
        if (!ctx.brokers.contains(id)) {
            dead.insert(id);
        }
    }
    if (fresh.empty() && dead.empty() && bounced.empty()) {
        co_return;
    }
    GREGOR_LOG(controller_log, info, "brokers changed: new {}, dead {}, bounced {}",
               fmt::join(fresh, ","), fmt::join(dead, ","), fmt::join(bounced, ","));
    update_channels(fresh, dead, bounced);
    broker_set failed = dead;
    failed.insert(bounced.begin(), bounced.end());
    const bool all_gone = !dead.empty() && std::all_of(dead.begin(), dead.end(), [&](auto id) {
        return processes_gone.contains(id);
    });
    for (model::node_id id : dead) {
        processes_gone.erase(id);
    }
    if (!failed.empty()) {
        std::string why = dead.empty() ? "broker bounced"
                          : all_gone   ? "broker process gone"
                                       : "broker session ended";
        const std::string reason = why + " (" + fmt::format("{}", fmt::join(failed, ",")) + ")";
        // As Kafka handles a bounce: the brokers are not live while their partitions are
        // handled, so what they led gets a new leader and leader epoch (the new run's log may
        // lack what the old one had; the same epoch would hide the divergence), then they
        // start as new brokers below.
        std::map<model::node_id, live_broker> returning;
        for (model::node_id id : bounced) {
            returning.emplace(id, ctx.brokers.at(id));
            ctx.brokers.erase(id);
        }
        co_await on_broker_failure(failed, reason);
        if (generation != gen) {
            co_return;  // resigned meanwhile: the next activation loads the brokers afresh
        }
        ctx.brokers.insert(returning.begin(), returning.end());
    }
    broker_set up = fresh;
    up.insert(bounced.begin(), bounced.end());
    if (!up.empty() && is_active && generation == gen) {
        co_await on_broker_startup(up);
    }
}

// The channel's report names a broker id; the run it is about is the one this controller
// knows now (the channels are re-targeted when a broker bounces, before a report of the new
// run can come).
void controller::impl::report_process_gone(model::node_id id) {
    auto b = ctx.brokers.find(id);
    if (!is_active || b == ctx.brokers.end() || id == cfg.self) {
        return;
    }
    auto self = shared_from_this();
    const model::broker_epoch epoch = b->second.epoch;
    enqueue(
        fmt::format("process_gone_{}", id()),
        [self, id, epoch] { return self->on_process_gone(id, epoch); }, {}, true);
}

// Deletes the registration of a broker whose process is gone, exactly the one it knew (same
// czxid), fenced by the controller epoch. ZooKeeper then tells this controller the broker is
// gone, and the usual failure round elects new leaders from the ISRs (README.md argues why
// this is safe even if the broker were alive; it then registers again with a new epoch).
asio::awaitable<void> controller::impl::on_process_gone(model::node_id id,
                                                        model::broker_epoch epoch) {
    auto b = ctx.brokers.find(id);
    if (!is_active || b == ctx.brokers.end() || b->second.epoch != epoch) {
        co_return;  // already gone, or registered again since the report
    }
    const std::string path = coord::paths::broker(id);
    const coord::watch_fn no_watch;
    auto node = co_await zk::get(zk, path, no_watch);
    if (!node || node->stat.czxid() != epoch() || !is_active) {
        co_return;  // deleted (its session ended) or replaced meanwhile
    }
    GREGOR_LOG(controller_log, warn,
               "broker {}'s process is gone (its connection closed and its host refuses "
               "connections to its listener): deleting its registration (broker epoch {}) "
               "instead of waiting for its ZooKeeper session to expire",
               id(), epoch());
    processes_gone[id] = epoch;
    const coord::op remove = coord::remove_op{path, node->stat.version};
    auto r = co_await fenced_op(remove);
    if (r.error && !fenced_out(r)) {
        processes_gone.erase(id);
        GREGOR_LOG(controller_log, info, "registration of broker {} not deleted: {}", id(),
                   r.error.message());
    }
}

asio::awaitable<void> controller::impl::on_broker_failure(const broker_set& dead,
                                                          const std::string& why) {
    std::vector<model::topic_partition> touched;
    for (model::node_id id : dead) {
        for (auto& tp : ctx.partitions_on(id)) {
            touched.push_back(std::move(tp));
        }
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    auto marks = std::make_shared<timeline>(
        "broker_failure", fmt::format("epoch={} brokers={} partitions={}", ctx.epoch(),
                                      fmt::join(dead, ","), touched.size()));
    marks->mark("noticed");
    request_batch batch;
    // Everyone learns the broker is gone even when no partition changes.
    batch.update_metadata_brokers(ctx.registered_set());
    if (!touched.empty()) {
        co_await reconcile(touched, why, batch);
        // A reassignment waiting for a new leader in its target may complete now.
        co_await advance_reassignments(touched, batch);
    }
    marks->mark("written");
    auto answers = log_when_answered(marks);
    co_await send(batch, answers);
    marks->mark("sent");
    answers->close();
}

asio::awaitable<void> controller::impl::on_broker_startup(const broker_set& fresh) {
    request_batch batch;
    // Everyone learns the new live broker list; new brokers also learn every partition.
    batch.update_metadata_brokers(ctx.registered_set());
    // New brokers hear every partition that has a state, and their replicas' states.
    const broker_set everyone = ctx.registered_set();
    for (const auto& [name, t] : ctx.topics) {
        for (const auto& [p, r] : t.partitions) {
            model::topic_partition tp{name, p};
            if (r.version() < 0) {
                continue;
            }
            if (t.deleting) {
                batch.update_metadata_deleting(fresh, tp);
                continue;
            }
            batch.update_metadata(fresh, tp);
            for (model::node_id id : r.replicas) {
                if (fresh.contains(id)) {
                    batch.leader_and_isr(id, tp, false);
                    // As Kafka's OnlineReplica: everyone hears the partition again, so its
                    // replica on the new broker is no longer listed offline.
                    batch.update_metadata(everyone, tp);
                }
            }
        }
    }
    // Offline partitions may have a candidate now; new partitions a live replica.
    const std::vector<model::topic_partition> all;
    const std::string why = "broker " + fmt::format("{}", fmt::join(fresh, ",")) + " started";
    co_await reconcile(all, why, batch);
    std::vector<model::topic_partition> moving;
    for (const auto& [name, t] : ctx.topics) {
        for (const auto& [p, r] : t.partitions) {
            if (r.reassigning()) {
                moving.push_back({name, p});
            }
        }
    }
    if (!moving.empty()) {
        co_await advance_reassignments(moving, batch);
    }
    resend_deletions(fresh, batch);
    co_await send(batch);
}

// The controlled-shutdown move of one partition hosted by `id`: a new leader if it leads
// (none when no other ISR member can), else its removal from the ISR. Either way its replica
// gets StopReplica (log kept) with the new leader epoch: a replica still fetching would catch
// up and its leader would propose it for the ISR again, and while that proposal waits for the
// controller's answer (or for a new controller, when the stopping broker was the controller)
// acks=all writes wait for the stopping broker too. The epoch must be the new one: the same
// round's LeaderAndIsr reaches the broker first, and a StopReplica older than it is ignored.
std::optional<state_change> controller::impl::shutdown_change(const model::topic_partition& tp,
                                                              model::node_id id,
                                                              request_batch& batch) const {
    const partition_record& r = *ctx.partition(tp);
    if (r.replicas.size() <= 1 || r.version() < 0 || ctx.topics.at(tp.topic).deleting) {
        return std::nullopt;
    }
    coord::partition_state next = r.state;
    next.controller_epoch = ctx.epoch;
    if (r.state.leader == id) {
        broker_set live = ctx.registered_set();
        std::erase_if(live, [&](model::node_id x) { return ctx.replica_offline(x, tp); });
        auto won = elect_controlled_shutdown(r.replicas, r.state.isr, live, ctx.shutting_down);
        if (!won) {
            return std::nullopt;  // no other ISR member: it keeps leading until it stops
        }
        next.leader = won->leader;
        next.isr = won->isr;
    } else {
        auto removed = remove_from_isr({r.state.leader, r.state.isr}, id);
        next.leader = removed.leader;
        next.isr = removed.isr;
        if (next.isr == r.state.isr) {
            batch.stop_replica(id, tp, false, r.state.leader_epoch);  // already out of the ISR
            return std::nullopt;
        }
    }
    next.leader_epoch = model::leader_epoch(r.state.leader_epoch() + 1);
    batch.stop_replica(id, tp, false, next.leader_epoch);
    return state_change{tp, std::move(next), false, false};
}

asio::awaitable<protocol::controlled_shutdown_response> controller::impl::do_controlled_shutdown(
    const protocol::controlled_shutdown_request& req) {
    protocol::controlled_shutdown_response out;
    if (!is_active) {
        out.error_code = error_code(kafka_error::stale_controller_epoch);
        co_return out;
    }
    auto b = ctx.brokers.find(req.broker_id);
    if (b == ctx.brokers.end()) {
        out.error_code = error_code(kafka_error::broker_not_available);
        co_return out;
    }
    if (req.broker_epoch != model::no_broker_epoch && req.broker_epoch < b->second.epoch) {
        out.error_code = error_code(kafka_error::stale_broker_epoch);
        co_return out;
    }
    model::node_id id = req.broker_id;
    ctx.shutting_down.insert(id);
    GREGOR_LOG(controller_log, info, "controlled shutdown of broker {}", id());
    auto marks = std::make_shared<timeline>(
        "controlled_shutdown", fmt::format("epoch={} broker={}", ctx.epoch(), id()));
    marks->mark("noticed");
    std::vector<state_change> changes;
    request_batch batch;
    for (const auto& tp : ctx.partitions_on(id)) {
        if (auto c = shutdown_change(tp, id, batch)) {
            changes.push_back(std::move(*c));
        }
    }
    const std::string why = "controlled shutdown of broker " + std::to_string(id());
    co_await write_changes(changes, why, batch);
    if (!is_active) {
        out.error_code = error_code(kafka_error::stale_controller_epoch);
        co_return out;
    }
    marks->mark("written");
    auto answers = log_when_answered(marks);
    co_await send(batch, answers);
    marks->mark("sent");
    answers->close();
    // What it still leads among replicated partitions (Kafka leaves single-replica ones out:
    // nobody can take them over).
    for (const auto& tp : ctx.partitions_led_by(id)) {
        if (ctx.partition(tp)->replicas.size() > 1 && !ctx.topics.at(tp.topic).deleting) {
            out.remaining_partitions.push_back({tp.topic, tp.partition, {}});
        }
    }
    co_return out;
}

}  // namespace gregor::controller

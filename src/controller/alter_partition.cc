// AlterPartition: ISR changes asked for by partition leaders. The controller is the only
// writer of partition state; leaders propose, the controller checks and writes.
#include "controller/impl.h"
#include "controller/logger.h"

#include <algorithm>

namespace gregor::controller {
namespace {

using model::kafka_error;
using alter_request = protocol::alter_partition_request;
using alter_response = protocol::alter_partition_response;

std::vector<model::node_id> proposed_isr(const alter_request::topic_data::partition_data& p,
                                         std::int16_t version) {
    if (version < 3) {
        return p.new_isr;
    }
    std::vector<model::node_id> out;
    for (const auto& b : p.new_isr_with_epochs) {
        out.push_back(b.broker_id);
    }
    return out;
}

alter_response::topic_data::partition_data answer(model::partition_id p, kafka_error e,
                                                  const partition_record* r) {
    alter_response::topic_data::partition_data out;
    out.partition_index = p;
    out.error_code = error_code(e);
    if (e == kafka_error::none && r != nullptr) {
        out.leader_id = r->state.leader;
        out.leader_epoch = r->state.leader_epoch;
        out.isr = r->state.isr;
        out.leader_recovery_state = r->state.recovering ? 1 : 0;
        out.partition_epoch = r->version();
    }
    return out;
}

}  // namespace

// Kafka's checks, in Kafka's order (reference: the AlterPartition path of the ZK controller).
static kafka_error check_proposal(const controller_context& ctx, const model::topic_partition& tp,
                                  const partition_record& r,
                                  const alter_request::topic_data::partition_data& p,
                                  const std::vector<model::node_id>& isr, std::int16_t version,
                                  const std::vector<model::broker_epoch>& epochs) {
    if (p.leader_epoch > r.state.leader_epoch) {
        return kafka_error::not_controller;  // we are behind: a newer controller decided
    }
    if (p.leader_epoch < r.state.leader_epoch) {
        return kafka_error::fenced_leader_epoch;
    }
    bool recovering = p.leader_recovery_state == 1;
    if (isr == r.state.isr && recovering == r.state.recovering) {
        return kafka_error::none;  // already so (a retry): idempotent
    }
    if (p.partition_epoch < r.version()) {
        return kafka_error::invalid_update_version;
    }
    if (p.partition_epoch > r.version()) {
        return kafka_error::not_controller;
    }
    if ((recovering && isr.size() > 1) || (recovering && !r.state.recovering)) {
        return kafka_error::invalid_request;
    }
    if (std::find(isr.begin(), isr.end(), r.state.leader) == isr.end()) {
        return kafka_error::invalid_request;  // the leader must stay in its ISR
    }
    for (std::size_t i = 0; i < isr.size(); ++i) {
        auto b = ctx.brokers.find(isr[i]);
        bool stale = i < epochs.size() && epochs[i] != model::no_broker_epoch &&
                     b != ctx.brokers.end() && epochs[i] != b->second.epoch;
        bool assigned =
            std::find(r.replicas.begin(), r.replicas.end(), isr[i]) != r.replicas.end();
        // A replica in an offline log dir is not live (Kafka's ineligible replica).
        if (!ctx.replica_live(isr[i], tp) || stale || !assigned) {
            return version >= 2 ? kafka_error::ineligible_replica
                                : kafka_error::operation_not_attempted;
        }
    }
    return kafka_error::none;
}

// Checks every proposed ISR, answers the refused ones in `out`, and lists the accepted ones
// that change something in `changes` (with their place in `out` in `slots`).
static void plan_alter(const controller_context& ctx, const alter_request& req,
                       std::int16_t version, alter_response& out,
                       std::vector<state_change>& changes,
                       std::vector<std::pair<std::size_t, std::size_t>>& slots) {
    for (const auto& t : req.topics) {
        auto& rt = out.topics.emplace_back();
        rt.topic_name = t.topic_name;
        rt.topic_id = t.topic_id;
        std::string name = t.topic_name;
        if (version >= 2) {
            auto it = std::find_if(ctx.topics.begin(), ctx.topics.end(),
                                   [&](const auto& e) { return e.second.id == t.topic_id; });
            name = it == ctx.topics.end() ? std::string() : it->first;
        }
        for (const auto& p : t.partitions) {
            const partition_record* r = name.empty() ? nullptr : ctx.partition({name, p.partition_index});
            if (r == nullptr || r->version() < 0) {
                rt.partitions.push_back(answer(p.partition_index,
                                               version >= 2 ? kafka_error::unknown_topic_id
                                                            : kafka_error::unknown_topic_or_partition,
                                               nullptr));
                continue;
            }
            auto isr = proposed_isr(p, version);
            std::vector<model::broker_epoch> epochs;
            for (const auto& b : p.new_isr_with_epochs) {
                epochs.push_back(b.broker_epoch);
            }
            kafka_error e = check_proposal(ctx, {name, p.partition_index}, *r, p, isr, version, epochs);
            rt.partitions.push_back(answer(p.partition_index, e, r));
            bool same = isr == r->state.isr && (p.leader_recovery_state == 1) == r->state.recovering;
            if (e == kafka_error::none && !same) {
                coord::partition_state next = r->state;
                next.isr = isr;
                next.recovering = p.leader_recovery_state == 1;
                next.controller_epoch = ctx.epoch;  // the leader epoch stays: no leader change
                changes.push_back({{name, p.partition_index}, std::move(next), false, false});
                slots.emplace_back(out.topics.size() - 1, rt.partitions.size() - 1);
            }
        }
    }
}

asio::awaitable<alter_response> controller::impl::do_alter_partition(const alter_request& req,
                                                                     std::int16_t version) {
    alter_response out;
    if (!is_active) {
        out.error_code = error_code(kafka_error::not_controller);
        co_return out;
    }
    auto sender = ctx.brokers.find(req.broker_id);
    if (sender == ctx.brokers.end() || (req.broker_epoch != model::no_broker_epoch &&
                                        req.broker_epoch != sender->second.epoch)) {
        out.error_code = error_code(kafka_error::stale_broker_epoch);
        co_return out;
    }
    std::vector<state_change> changes;
    std::vector<std::pair<std::size_t, std::size_t>> slots;  // (topic, partition) in `out`
    plan_alter(ctx, req, version, out, changes, slots);
    request_batch batch;
    std::vector<model::topic_partition> tps;
    for (const auto& c : changes) {
        tps.push_back(c.tp);
    }
    std::vector<model::zk_version> before;
    for (const auto& tp : tps) {
        before.push_back(ctx.partition(tp)->version);
    }
    const std::string why = "ISR change asked by leader " + std::to_string(req.broker_id());
    std::vector<std::error_code> failures;
    co_await write_changes(changes, why, batch, &failures);
    if (!is_active) {
        alter_response refused;
        refused.error_code = error_code(kafka_error::not_controller);
        co_return refused;
    }
    for (std::size_t i = 0; i < tps.size(); ++i) {
        const partition_record* r = ctx.partition(tps[i]);
        auto& slot = out.topics[slots[i].first].partitions[slots[i].second];
        bool written = r != nullptr && r->version != before[i];
        // A version conflict says the proposal's partition epoch is stale (the leader waits
        // for a LeaderAndIsr); any other failure (a lost connection) leaves the outcome
        // unknown, so the leader asks again, as Kafka's ZooKeeper controller answers a failed
        // update with the exception's error.
        kafka_error e = kafka_error::none;
        if (!written) {
            e = i < failures.size() && failures[i] == coord::errc::bad_version
                    ? kafka_error::invalid_update_version
                    : kafka_error::unknown_server_error;
        }
        slot = answer(slot.partition_index, e, r);
    }
    // Leaders learn from the response: only UpdateMetadata goes out, no LeaderAndIsr.
    request_batch um;
    broker_set everyone = ctx.registered_set();
    for (const auto& tp : tps) {
        um.update_metadata(everyone, tp);
    }
    co_await send(um);
    // A grown ISR may hold a reassignment's whole target: complete it (phase B).
    request_batch moved;
    std::vector<model::topic_partition> moving;
    for (const auto& tp : tps) {
        const partition_record* r = ctx.partition(tp);
        if (r != nullptr && r->reassigning()) {
            moving.push_back(tp);
        }
    }
    if (!moving.empty()) {
        co_await advance_reassignments(moving, moved);
        co_await send(moved);
    }
    co_return out;
}

}  // namespace gregor::controller

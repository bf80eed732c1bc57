// ElectLeaders (kafka-leader-election.sh, `gregor leaders elect`): preferred-replica and
// unclean elections asked for by an administrator, with Kafka's per-partition answers.
#include "controller/impl.h"
#include "controller/logger.h"

namespace gregor::controller {
namespace {

using model::kafka_error;
using elect_request = protocol::elect_leaders_request;
using elect_response = protocol::elect_leaders_response;

constexpr std::int8_t preferred_election = 0;
constexpr std::int8_t unclean_election = 1;

// The partitions asked for; null (v1+) means every partition of every topic.
std::vector<model::topic_partition> targets(const controller_context& ctx,
                                            const elect_request& req) {
    std::vector<model::topic_partition> out;
    if (!req.topic_partitions) {
        for (const auto& [name, t] : ctx.topics) {
            for (const auto& [p, r] : t.partitions) {
                out.push_back({name, p});
            }
        }
        return out;
    }
    for (const auto& t : *req.topic_partitions) {
        for (model::partition_id p : t.partitions) {
            out.push_back({t.topic, p});
        }
    }
    return out;
}

void add_result(elect_response& out, const model::topic_partition& tp, kafka_error e) {
    if (out.replica_election_results.empty() || out.replica_election_results.back().topic != tp.topic) {
        out.replica_election_results.emplace_back().topic = tp.topic;
    }
    auto& entry = out.replica_election_results.back().partition_result.emplace_back();
    entry.partition_id = tp.partition;
    entry.error_code = error_code(e);
    if (e != kafka_error::none) {
        entry.error_message = std::string(model::kafka_error_name(e));
    } else {
        entry.error_message = std::nullopt;
    }
}

}  // namespace

// Whether `tp` can and needs to be elected; the new state in `next` if so. Shared by
// ElectLeaders, the automatic rebalance and /admin/preferred_replica_election.
kafka_error controller::impl::plan_election(const model::topic_partition& tp, bool preferred,
                                            coord::partition_state& next, bool& unclean) const {
    const partition_record* r = ctx.partition(tp);
    if (r == nullptr || r->version() < 0 || ctx.topics.at(tp.topic).deleting) {
        return kafka_error::unknown_topic_or_partition;
    }
    broker_set live = ctx.live_set(tp);
    std::optional<election_outcome> won;
    if (preferred) {
        if (!r->replicas.empty() && r->state.leader == r->replicas.front()) {
            return kafka_error::election_not_needed;
        }
        won = elect_preferred(r->replicas, r->state.isr, live);
        if (!won) {
            return kafka_error::preferred_leader_not_available;
        }
    } else {
        if (r->state.leader() >= 0 && ctx.replica_live(r->state.leader, tp)) {
            return kafka_error::election_not_needed;
        }
        won = elect_offline(r->replicas, r->state.isr, live, /*allow_unclean=*/true);
        if (!won) {
            return kafka_error::eligible_leaders_not_available;
        }
    }
    next = r->state;
    next.leader = won->leader;
    next.isr = won->isr;
    next.leader_epoch = model::leader_epoch(r->state.leader_epoch() + 1);
    next.controller_epoch = ctx.epoch;
    unclean = won->unclean;
    return kafka_error::none;
}

asio::awaitable<elect_response> controller::impl::do_elect_leaders(const elect_request& req,
                                                                   std::int16_t version) {
    elect_response out;
    std::int8_t type = version == 0 ? preferred_election : req.election_type;
    if (!is_active) {
        out.error_code = error_code(kafka_error::not_controller);
        co_return out;
    }
    if (type != preferred_election && type != unclean_election) {
        out.error_code = error_code(kafka_error::invalid_request);
        co_return out;
    }
    std::vector<model::topic_partition> asked = targets(ctx, req);
    std::vector<state_change> changes;
    std::vector<std::pair<model::topic_partition, kafka_error>> results;
    for (const auto& tp : asked) {
        coord::partition_state next;
        bool unclean = false;
        kafka_error e = plan_election(tp, type == preferred_election, next, unclean);
        // Asked for every partition: report only those an election was tried for.
        if (!req.topic_partitions && e == kafka_error::election_not_needed) {
            continue;
        }
        results.emplace_back(tp, e);
        if (e == kafka_error::none) {
            changes.push_back({tp, std::move(next), false, unclean});
        }
    }
    std::map<model::topic_partition, model::zk_version> before;
    for (const auto& c : changes) {
        before[c.tp] = ctx.partition(c.tp)->version;
    }
    request_batch batch;
    const std::string why =
        type == preferred_election ? "preferred leader election" : "unclean leader election";
    co_await write_changes(changes, why, batch);
    if (!is_active) {
        elect_response refused;
        refused.error_code = error_code(kafka_error::not_controller);
        co_return refused;
    }
    co_await send(batch);
    for (auto& [tp, e] : results) {
        auto b = before.find(tp);
        const partition_record* r = ctx.partition(tp);
        if (b != before.end() && (r == nullptr || r->version == b->second)) {
            e = kafka_error::unknown_server_error;  // the write did not happen
        }
        add_result(out, tp, e);
    }
    co_return out;
}

asio::awaitable<elect_response> controller::elect_leaders(const elect_request& req,
                                                          std::int16_t version) {
    auto self = impl_;
    std::function<asio::awaitable<elect_response>()> work = [self, req, version]() {
        return self->do_elect_leaders(req, version);
    };
    std::function<elect_response()> refuse = [] {
        elect_response r;
        r.error_code = error_code(kafka_error::not_controller);
        return r;
    };
    auto out = co_await self->submit<elect_response>("elect_leaders", work, refuse);
    co_return out;
}

}  // namespace gregor::controller

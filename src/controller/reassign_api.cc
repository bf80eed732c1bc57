// AlterPartitionReassignments and ListPartitionReassignments (kafka-reassign-partitions.sh,
// `gregor topics alter --replication-factor`, `gregor topics reassignments`): validated as
// Kafka's controller validates them, then started through reassign.cc.
#include "controller/impl.h"
#include "controller/logger.h"

#include <algorithm>
#include <set>

namespace gregor::controller {
namespace {

using model::kafka_error;
using reassign_request = protocol::alter_partition_reassignments_request;
using reassign_response = protocol::alter_partition_reassignments_response;
using list_request = protocol::list_partition_reassignments_request;
using list_response = protocol::list_partition_reassignments_response;

std::string listed_ids(const std::vector<model::node_id>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(v[i]());
    }
    return out;
}

using refusal = reassignment_refusal;

}  // namespace

reassignment_refusal check_reassignment(const controller_context& ctx,
                                        const model::topic_partition& tp,
                                        const std::optional<std::vector<model::node_id>>& target) {
    auto t = ctx.topics.find(tp.topic);
    const partition_record* r = ctx.partition(tp);
    if (t == ctx.topics.end() || r == nullptr || r->version() < 0) {
        return {kafka_error::unknown_topic_or_partition, "The partition does not exist."};
    }
    if (t->second.deleting) {
        return {kafka_error::unknown_topic_or_partition,
                "The topic " + tp.topic + " is being deleted."};
    }
    if (!target) {
        if (!r->reassigning()) {
            return {kafka_error::no_reassignment_in_progress,
                    "No reassignment is in progress for partition " + fmt::format("{}", tp) +
                        "."};
        }
        return {};
    }
    if (target->empty()) {
        return {kafka_error::invalid_replica_assignment,
                "Empty replica list specified in partition reassignment."};
    }
    std::set<model::node_id> distinct(target->begin(), target->end());
    if (distinct.size() != target->size()) {
        return {
            kafka_error::invalid_replica_assignment,
            "Duplicate replica ids in partition reassignment replica list: " + listed_ids(*target)};
    }
    if ((*distinct.begin())() < 0) {
        return {kafka_error::invalid_replica_assignment,
                "Invalid broker id in replica list: " + listed_ids(*target)};
    }
    std::vector<model::node_id> registered;
    for (const auto& [id, b] : ctx.brokers) {
        registered.push_back(id);
    }
    for (model::node_id id : *target) {
        if (!ctx.brokers.contains(id)) {
            return {kafka_error::invalid_replica_assignment,
                    "Replica assignment has brokers that are not alive. Replica list: " +
                        listed_ids(*target) + ", live broker list: " + listed_ids(registered)};
        }
    }
    return {};
}

namespace {

reassign_response::reassignable_topic_response& topic_slot(reassign_response& out,
                                                           const std::string& name) {
    if (out.responses.empty() || out.responses.back().name != name) {
        out.responses.emplace_back().name = name;
    }
    return out.responses.back();
}

void answer(reassign_response& out, const model::topic_partition& tp, const refusal& e) {
    auto& p = topic_slot(out, tp.topic).partitions.emplace_back();
    p.partition_index = tp.partition;
    p.error_code = error_code(e.code);
    if (e.code == kafka_error::none) {
        p.error_message = std::nullopt;
    } else {
        p.error_message = e.message.empty() ? std::string(model::kafka_error_name(e.code))
                                            : e.message;
    }
}

reassign_response refused_alter(const reassign_request& req, kafka_error e) {
    reassign_response out;
    out.error_code = error_code(e);
    out.error_message = std::nullopt;
    for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) {
            answer(out, {t.name, p.partition_index}, refusal{e, {}});
        }
    }
    return out;
}

void list_one(list_response& out, const model::topic_partition& tp, const partition_record& r) {
    if (out.topics.empty() || out.topics.back().name != tp.topic) {
        out.topics.emplace_back().name = tp.topic;
    }
    auto& p = out.topics.back().partitions.emplace_back();
    p.partition_index = tp.partition;
    p.replicas = r.replicas;
    p.adding_replicas = r.adding;
    p.removing_replicas = r.removing;
}

// A coroutine taking its arguments by value, so that nothing it reads lives in a lambda.
asio::awaitable<list_response> list_now(std::shared_ptr<controller::impl> self,
                                        list_request req) {
    co_return self->do_list_reassignments(req);
}

}  // namespace

asio::awaitable<reassign_response> controller::impl::do_alter_reassignments(
    const reassign_request& req) {
    if (!is_active) {
        co_return refused_alter(req, kafka_error::not_controller);
    }
    reassign_response out;
    out.error_message = std::nullopt;
    request_batch batch;
    for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) {
            const model::topic_partition tp{t.name, p.partition_index};
            refusal e = check_reassignment(ctx, tp, p.replicas);
            if (e.code == kafka_error::none) {
                const std::vector<model::node_id> target =
                    p.replicas ? *p.replicas : ctx.partition(tp)->origin();
                kafka_error outcome = co_await start_reassignment(tp, target, batch);
                e = refusal{outcome, {}};
            }
            answer(out, tp, e);
        }
    }
    co_await send(batch);
    co_return out;
}

list_response controller::impl::do_list_reassignments(const list_request& req) const {
    list_response out;
    out.error_message = std::nullopt;
    if (!is_active) {
        out.error_code = error_code(kafka_error::not_controller);
        return out;
    }
    if (!req.topics) {
        for (const auto& [name, t] : ctx.topics) {
            for (const auto& [p, r] : t.partitions) {
                if (r.reassigning()) {
                    list_one(out, {name, p}, r);
                }
            }
        }
        return out;
    }
    for (const auto& t : *req.topics) {
        for (model::partition_id p : t.partition_indexes) {
            const model::topic_partition tp{t.name, p};
            const partition_record* r = ctx.partition(tp);
            if (r != nullptr && r->reassigning()) {
                list_one(out, tp, *r);
            }
        }
    }
    return out;
}

asio::awaitable<reassign_response> controller::alter_partition_reassignments(
    const reassign_request& req) {
    auto self = impl_;
    std::function<asio::awaitable<reassign_response>()> work = [self, req]() {
        return self->do_alter_reassignments(req);
    };
    std::function<reassign_response()> refuse = [req] {
        return refused_alter(req, kafka_error::not_controller);
    };
    auto out =
        co_await self->submit<reassign_response>("alter_partition_reassignments", work, refuse);
    co_return out;
}

asio::awaitable<list_response> controller::list_partition_reassignments(const list_request& req) {
    auto self = impl_;
    std::function<asio::awaitable<list_response>()> work = [self, req]() {
        return list_now(self, req);
    };
    std::function<list_response()> refuse = [] {
        list_response r;
        r.error_code = error_code(kafka_error::not_controller);
        r.error_message = std::nullopt;
        return r;
    };
    auto out = co_await self->submit<list_response>("list_partition_reassignments", work, refuse);
    co_return out;
}

}  // namespace gregor::controller

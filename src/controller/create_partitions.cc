// CreatePartitions (kafka-topics.sh --alter --partitions, `gregor topics alter --partitions`):
// more partitions for an existing topic, assigned as Kafka's ZK-mode controller assigns them
// (or as the request says), written to /brokers/topics/<t> and brought online at once.
#include "controller/assignment.h"
#include "controller/impl.h"
#include "controller/logger.h"
#include "controller/topic_rules.h"

#include <set>

namespace gregor::controller {
namespace {

using model::kafka_error;
using partitions_request = protocol::create_partitions_request;
using partitions_response = protocol::create_partitions_response;

// The explicit assignment of the new partitions: one entry per new partition, each with the
// topic's replication factor of distinct registered brokers.
admin_result<replica_map> manual_added(const partitions_request::create_partitions_topic& t,
                                       const topic_record& topic, const controller_context& ctx) {
    auto current = static_cast<std::int32_t>(topic.partitions.size());
    std::size_t rf = topic.partitions.begin()->second.replicas.size();
    if (static_cast<std::int32_t>(t.assignments->size()) != t.count - current) {
        return admin_fail(
            kafka_error::invalid_replica_assignment,
            fmt::format("Increasing the number of partitions by {} but {} assignments "
                        "provided.",
                        t.count - current, t.assignments->size()));
    }
    replica_map out;
    auto p = current;
    for (const auto& a : *t.assignments) {
        std::set<model::node_id> distinct(a.broker_ids.begin(), a.broker_ids.end());
        if (a.broker_ids.size() != rf || distinct.size() != rf) {
            return admin_fail(kafka_error::invalid_replica_assignment,
                              fmt::format("Inconsistent replication factor between partitions, "
                                          "partition 0 has {} while partition {} has replicas {}.",
                                          rf, p, fmt::join(a.broker_ids, ",")));
        }
        for (model::node_id b : a.broker_ids) {
            if (!ctx.brokers.contains(b)) {
                return admin_fail(
                    kafka_error::invalid_replica_assignment,
                    fmt::format("Unknown broker {} in the assignment of partition {}.", b(), p));
            }
        }
        out[model::partition_id(p++)] = a.broker_ids;
    }
    return out;
}

admin_result<replica_map> plan_added(const partitions_request::create_partitions_topic& t,
                                     const controller_context& ctx) {
    auto it = ctx.topics.find(t.name);
    if (it == ctx.topics.end() || it->second.deleting || it->second.partitions.empty()) {
        return admin_fail(kafka_error::unknown_topic_or_partition,
                          "The topic '" + t.name + "' does not exist.");
    }
    const topic_record& topic = it->second;
    auto current = static_cast<std::int32_t>(topic.partitions.size());
    if (t.assignments && !t.assignments->empty()) {
        if (t.count <= current) {
            return admin_fail(
                kafka_error::invalid_partitions,
                fmt::format("Topic currently has {} partitions, which is higher than or "
                            "equal to the requested {}.",
                            current, t.count));
        }
        return manual_added(t, topic, ctx);
    }
    replica_map existing;
    for (const auto& [p, r] : topic.partitions) {
        existing[p] = r.replicas;
    }
    std::vector<broker_rack> brokers;
    for (const auto& [id, b] : ctx.brokers) {
        if (!ctx.shutting_down.contains(id)) {
            brokers.push_back({id, b.info.rack});
        }
    }
    return assign_added_partitions(brokers, existing, t.count);
}

}  // namespace

asio::awaitable<partitions_response> controller::impl::do_create_partitions(
    const partitions_request& req) {
    partitions_response out;
    std::map<std::string, int> seen;
    for (const auto& t : req.topics) {
        ++seen[t.name];
    }
    request_batch batch;
    for (const auto& t : req.topics) {
        auto& r = out.results.emplace_back();
        r.name = t.name;
        r.error_message = std::nullopt;
        if (!is_active) {
            r.error_code = error_code(kafka_error::not_controller);
            continue;
        }
        if (seen[t.name] > 1) {
            r.error_code = error_code(kafka_error::invalid_request);
            r.error_message = "Duplicate topic in request: " + t.name;
            continue;
        }
        auto added = plan_added(t, ctx);
        if (!added) {
            r.error_code = error_code(added.err().code);
            r.error_message = added.err().message;
            continue;
        }
        if (req.validate_only) {
            continue;
        }
        kafka_error e = co_await write_added_partitions(t.name, added.value(), batch);
        r.error_code = error_code(e);
        if (e == kafka_error::invalid_partitions) {
            r.error_message = assignment_too_large(static_cast<std::size_t>(t.count));
        }
    }
    co_await send(batch);
    co_return out;
}

// Writes the topic's assignment with `added` and brings the new partitions online.
asio::awaitable<kafka_error> controller::impl::write_added_partitions(const std::string& name,
                                                                      const replica_map& added,
                                                                      request_batch& batch) {
    auto it = ctx.topics.find(name);
    if (it == ctx.topics.end()) {
        co_return kafka_error::unknown_topic_or_partition;
    }
    coord::topic_assignment a = assignment_of(it->second);
    for (const auto& [p, r] : added) {
        a.partitions[p] = r;
    }
    a.topic_id = it->second.id_string;
    const coord::op write = coord::set_op{coord::paths::topic(name), coord::encode_topic(a),
                                          coord::any_version};
    auto written = co_await fenced_op(write);
    if (!is_active) {
        co_return kafka_error::not_controller;
    }
    if (written.error == coord::errc::request_too_large) {
        co_return kafka_error::invalid_partitions;
    }
    if (written.error) {
        co_return kafka_error::unknown_server_error;
    }
    it = ctx.topics.find(name);
    if (it == ctx.topics.end()) {
        co_return kafka_error::unknown_topic_or_partition;
    }
    std::vector<model::topic_partition> parts;
    for (const auto& [p, r] : added) {
        it->second.partitions[p].replicas = r;
        parts.push_back({name, p});
    }
    GREGOR_LOG(controller_log, info, "topic {}: {} partitions added", name, added.size());
    const std::string why = "partitions added";
    co_await reconcile(parts, why, batch);
    co_return kafka_error::none;
}

asio::awaitable<partitions_response> controller::create_partitions(const partitions_request& req) {
    auto self = impl_;
    std::function<asio::awaitable<partitions_response>()> work = [self, req]() {
        return self->do_create_partitions(req);
    };
    std::function<partitions_response()> refuse = [req] {
        partitions_response r;
        for (const auto& t : req.topics) {
            r.results.push_back({t.name, error_code(kafka_error::not_controller), std::nullopt, {}});
        }
        return r;
    };
    auto out = co_await self->submit<partitions_response>("create_partitions", work, refuse);
    co_return out;
}

}  // namespace gregor::controller

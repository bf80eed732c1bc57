// Topic admin answered by the controller: CreateTopics, DeleteTopics.
#include "controller/assignment.h"
#include "controller/impl.h"
#include "controller/logger.h"
#include "controller/topic_rules.h"

#include "coord/errc.h"

#include <algorithm>

namespace gregor::controller {
namespace {

using model::kafka_error;
using create_request = protocol::create_topics_request;
using create_response = protocol::create_topics_response;

struct topic_plan {
    replica_map assignment;
    coord::config_map config;
};

admin_result<replica_map> manual_assignment(const create_request::creatable_topic& t,
                                            const controller_context& ctx) {
    if (t.num_partitions != -1 || t.replication_factor != -1) {
        return admin_fail(
            kafka_error::invalid_request,
            "Both numPartitions or replicationFactor and replicasAssignments were set. "
            "Both cannot be used at the same time.");
    }
    replica_map out;
    std::size_t rf = t.assignments.front().broker_ids.size();
    for (const auto& a : t.assignments) {
        std::set<model::node_id> distinct(a.broker_ids.begin(), a.broker_ids.end());
        if (a.broker_ids.empty() || distinct.size() != a.broker_ids.size()) {
            return admin_fail(kafka_error::invalid_replica_assignment,
                              "Duplicate or empty replica assignment for partition " +
                                  std::to_string(a.partition_index()));
        }
        if (a.broker_ids.size() != rf) {
            return admin_fail(kafka_error::invalid_replica_assignment,
                              "All partitions should have the same number of replicas");
        }
        for (model::node_id id : a.broker_ids) {
            if (!ctx.brokers.contains(id)) {
                return admin_fail(
                    kafka_error::invalid_replica_assignment,
                    "Unknown broker " + std::to_string(id()) + " in replica assignment");
            }
        }
        if (!out.emplace(a.partition_index, a.broker_ids).second) {
            return admin_fail(kafka_error::invalid_replica_assignment,
                              "Duplicate partition " + std::to_string(a.partition_index()));
        }
    }
    std::int32_t expect = 0;
    for (const auto& [p, r] : out) {
        if (p() != expect++) {
            return admin_fail(kafka_error::invalid_replica_assignment,
                              "Partitions should be a consecutive 0-based integer sequence");
        }
    }
    return out;
}

}  // namespace

// Validates one topic of a CreateTopics request and plans its assignment.
static admin_result<topic_plan> plan_topic(const create_request::creatable_topic& t,
                                           const controller_context& ctx,
                                           const controller_config& cfg, std::uint64_t seed) {
    if (auto bad = invalid_topic_name(t.name)) {
        return admin_fail(kafka_error::invalid_topic_exception, *bad);
    }
    if (auto it = ctx.topics.find(t.name); it != ctx.topics.end()) {
        return admin_fail(kafka_error::topic_already_exists,
                          it->second.deleting ? "Topic '" + t.name + "' is marked for deletion."
                                              : "Topic '" + t.name + "' already exists.");
    }
    for (const auto& [name, rec] : ctx.topics) {
        if (topic_names_collide(name, t.name)) {
            return admin_fail(kafka_error::invalid_topic_exception,
                              "Topic '" + t.name + "' collides with existing topic: " + name);
        }
    }
    topic_plan plan;
    for (const auto& c : t.configs) {
        if (!c.value) {
            return admin_fail(kafka_error::invalid_config,
                              "Null value not supported for topic config " + c.name);
        }
        plan.config[c.name] = *c.value;
    }
    if (auto bad = invalid_topic_configs(plan.config)) {
        return admin_fail(kafka_error::invalid_config, *bad);
    }
    if (!t.assignments.empty()) {
        auto manual = manual_assignment(t, ctx);
        if (!manual) {
            return manual.err();
        }
        plan.assignment = std::move(manual).value();
        return plan;
    }
    std::int32_t partitions = t.num_partitions == -1 ? cfg.num_partitions : t.num_partitions;
    std::int16_t rf = t.replication_factor == -1 ? cfg.default_replication_factor
                                                 : t.replication_factor;
    std::vector<broker_rack> brokers;
    for (const auto& [id, b] : ctx.brokers) {
        if (!ctx.shutting_down.contains(id)) {
            brokers.push_back({id, b.info.rack});
        }
    }
    auto assigned = assign_replicas(brokers, partitions, rf, seed);
    if (!assigned) {
        return assigned.err();
    }
    plan.assignment = std::move(assigned).value();
    return plan;
}

static create_response::creatable_topic_result topic_result(const std::string& name,
                                                            const topic_plan* plan) {
    create_response::creatable_topic_result r;
    r.name = name;
    r.error_message = std::nullopt;
    if (plan != nullptr) {
        r.num_partitions = static_cast<std::int32_t>(plan->assignment.size());
        r.replication_factor =
            static_cast<std::int16_t>(plan->assignment.begin()->second.size());
        r.configs.emplace();
        for (const auto& [k, v] : plan->config) {
            r.configs->push_back({k, v, false, 1, false, {}});  // 1: DYNAMIC_TOPIC_CONFIG
        }
    } else {
        r.configs = std::nullopt;
    }
    return r;
}

asio::awaitable<create_response> controller::impl::do_create_topics(const create_request& req,
                                                                    std::int16_t /*version*/) {
    create_response out;
    std::map<std::string, int> seen;
    for (const auto& t : req.topics) {
        ++seen[t.name];
    }
    request_batch batch;
    for (const auto& t : req.topics) {
        if (!is_active) {
            auto r = topic_result(t.name, nullptr);
            r.error_code = error_code(kafka_error::not_controller);
            out.topics.push_back(std::move(r));
            continue;
        }
        if (seen[t.name] > 1) {
            auto r = topic_result(t.name, nullptr);
            r.error_code = error_code(kafka_error::invalid_request);
            r.error_message = "Create topics request from client contains duplicate topic " + t.name;
            out.topics.push_back(std::move(r));
            continue;
        }
        auto plan = plan_topic(t, ctx, cfg, rng());
        if (!plan) {
            auto r = topic_result(t.name, nullptr);
            r.error_code = error_code(plan.err().code);
            r.error_message = plan.err().message;
            out.topics.push_back(std::move(r));
            continue;
        }
        auto r = topic_result(t.name, &plan.value());
        if (!req.validate_only) {
            const auto bytes = random_uuid_bytes();
            const topic_plan& p = plan.value();
            kafka_error e = co_await write_new_topic(t.name, p.assignment, p.config, bytes, batch);
            r.error_code = error_code(e);
            if (e == kafka_error::none) {
                r.topic_id = to_uuid(bytes);
            } else if (e == kafka_error::invalid_partitions) {
                r.error_message = assignment_too_large(p.assignment.size());
            } else {
                r.error_message = "The topic could not be written to ZooKeeper";
            }
        }
        out.topics.push_back(std::move(r));
    }
    co_await send(batch);
    co_return out;
}

asio::awaitable<kafka_error> controller::impl::write_new_topic(
    const std::string& name, const replica_map& assignment, const coord::config_map& config,
    const std::array<std::uint8_t, 16>& id, request_batch& batch) {
    coord::topic_assignment a;
    a.partitions = assignment;
    a.topic_id = coord::make_cluster_id(id);
    // Config first, then the assignment (what the controller watches), in one fenced multi.
    std::vector<coord::op> ops;
    ops.push_back(coord::create_op{coord::paths::topic_config(name),
                                   coord::encode_entity_config(config), {}});
    ops.push_back(coord::create_op{coord::paths::topic(name), coord::encode_topic(a), {}});
    auto r = co_await fenced(ops);
    if (!is_active) {
        co_return kafka_error::not_controller;
    }
    if (r.error == coord::errc::request_too_large) {
        co_return kafka_error::invalid_partitions;
    }
    if (r.error) {
        bool exists = r.failed_index() < r.results.size() &&
                      r.results[r.failed_index()].error == coord::errc::node_exists;
        co_return exists ? kafka_error::topic_already_exists : kafka_error::unknown_server_error;
    }
    GREGOR_LOG(controller_log, info, "created topic {} with {} partitions", name,
               assignment.size());
    topic_record& t = ctx.topics[name];
    t.id = to_uuid(id);
    t.id_string = *a.topic_id;
    t.config = config;
    std::vector<model::topic_partition> parts;
    for (const auto& [p, replicas] : assignment) {
        t.partitions[p].replicas = replicas;
        parts.push_back({name, p});
    }
    // Watch the assignment for added partitions, as for topics found by the topic watch.
    const std::string path = coord::paths::topic(name);
    const coord::watch_fn watch = partition_watch(name);
    co_await zk::get(zk, path, watch);
    const std::string why = "topic created";
    co_await reconcile(parts, why, batch);
    co_return kafka_error::none;
}

asio::awaitable<protocol::delete_topics_response> controller::impl::do_delete_topics(
    const protocol::delete_topics_request& req, std::int16_t version) {
    protocol::delete_topics_response out;
    std::vector<std::pair<std::optional<std::string>, protocol::uuid>> wanted;
    for (const auto& n : req.topic_names) {
        wanted.emplace_back(n, protocol::uuid{});
    }
    for (const auto& t : req.topics) {
        wanted.emplace_back(t.name, t.topic_id);
    }
    request_batch batch;
    for (auto& [name, id] : wanted) {
        auto& r = out.responses.emplace_back();
        r.name = name;
        r.topic_id = id;
        if (!name) {
            auto it = std::find_if(ctx.topics.begin(), ctx.topics.end(),
                                   [&](const auto& e) { return e.second.id == id; });
            if (it != ctx.topics.end()) {
                name = it->first;
            }
        }
        kafka_error e = kafka_error::none;
        if (!is_active) {
            e = kafka_error::not_controller;
        } else if (!cfg.delete_topic_enable) {
            e = kafka_error::topic_deletion_disabled;
        } else if (!name || !ctx.topics.contains(*name)) {
            e = name ? kafka_error::unknown_topic_or_partition : kafka_error::unknown_topic_id;
        } else if (!ctx.topics.at(*name).deleting) {
            const coord::op mark = coord::create_op{coord::paths::delete_topic(*name), "", {}};
            auto w = co_await fenced_op(mark);
            bool ok = !w.error || (w.failed_index() < w.results.size() &&
                                   w.results[w.failed_index()].error == coord::errc::node_exists);
            if (!is_active) {
                e = kafka_error::not_controller;
            } else if (!ok) {
                e = kafka_error::unknown_server_error;
            } else {
                const std::string topic = *name;
                co_await start_deletion(topic, batch);
            }
        }
        r.error_code = error_code(e);
        if (version >= 6 && name) {
            r.topic_id = ctx.topics.contains(*name) ? ctx.topics.at(*name).id : id;
        }
    }
    co_await send(batch);
    co_await finish_deletions();
    co_return out;
}

// ---- public entry points -------------------------------------------------------------------
// (Each builds its handler and refusal as named objects before co_await: g++ 12 destroys
// temporaries of a co_await full-expression twice.)

asio::awaitable<protocol::alter_partition_response> controller::alter_partition(
    const protocol::alter_partition_request& req, std::int16_t version) {
    using R = protocol::alter_partition_response;
    auto self = impl_;
    std::function<asio::awaitable<R>()> work = [self, req, version]() {
        return self->do_alter_partition(req, version);
    };
    std::function<R()> refuse = [] {
        R r;
        r.error_code = error_code(kafka_error::not_controller);
        return r;
    };
    auto out = co_await self->submit<R>("alter_partition", work, refuse);
    co_return out;
}

asio::awaitable<create_response> controller::create_topics(const create_request& req,
                                                           std::int16_t version) {
    auto self = impl_;
    std::function<asio::awaitable<create_response>()> work = [self, req, version]() {
        return self->do_create_topics(req, version);
    };
    std::function<create_response()> refuse = [req] {
        create_response r;
        for (const auto& t : req.topics) {
            auto& tr = r.topics.emplace_back();
            tr.name = t.name;
            tr.error_code = error_code(kafka_error::not_controller);
            tr.configs = std::nullopt;
        }
        return r;
    };
    auto out = co_await self->submit<create_response>("create_topics", work, refuse);
    co_return out;
}

asio::awaitable<protocol::delete_topics_response> controller::delete_topics(
    const protocol::delete_topics_request& req, std::int16_t version) {
    using R = protocol::delete_topics_response;
    auto self = impl_;
    std::function<asio::awaitable<R>()> work = [self, req, version]() {
        return self->do_delete_topics(req, version);
    };
    std::function<R()> refuse = [req] {
        R r;
        for (const auto& n : req.topic_names) {
            r.responses.push_back({n, {}, error_code(kafka_error::not_controller), {}, {}});
        }
        for (const auto& t : req.topics) {
            r.responses.push_back(
                {t.name, t.topic_id, error_code(kafka_error::not_controller), {}, {}});
        }
        return r;
    };
    auto out = co_await self->submit<R>("delete_topics", work, refuse);
    co_return out;
}

}  // namespace gregor::controller

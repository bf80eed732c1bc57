#include "broker/handlers/metadata.h"

#include "broker/logger.h"
#include "broker/topic_creation.h"
#include "controller/assignment.h"
#include "controller/topic_rules.h"
#include "coord/client.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "model/kafka_error.h"

#include <algorithm>

namespace gregor::broker {
namespace {

using metadata_response = protocol::metadata_response;
using model::kafka_error;

bool valid_topic_name(const std::string& name) {
    return !controller::invalid_topic_name(name).has_value();
}

metadata_response::metadata_response_topic describe_topic(
    const services& s, request_context& ctx, const std::string& name,
    const metadata_cache::partition_map& parts) {
    metadata_response::metadata_response_topic t;
    t.name = name;
    for (const auto& [id, p] : parts) {
        metadata_response::metadata_response_topic::metadata_response_partition out;
        out.partition_index = id;
        out.leader_id = p.leader;
        out.leader_epoch = p.leader_epoch;
        out.replica_nodes = p.replicas;
        out.isr_nodes = p.isr;
        out.offline_replicas = p.offline_replicas;
        const cached_broker* leader = s.cache.broker(p.leader);
        if (leader == nullptr) {
            out.error_code = model::to_wire(kafka_error::leader_not_available);
            out.leader_id = model::no_node;
        } else if (leader->endpoint_for(ctx.listener()) == nullptr) {
            out.error_code = model::to_wire(kafka_error::listener_not_found);
            out.leader_id = model::no_node;
        }
        t.partitions.push_back(std::move(out));
    }
    return t;
}

// Writes /brokers/topics/<t> (with a new topic id) using Kafka's replica assignment over the
// live brokers, as Kafka's auto topic creation does; the controller's watch on
// /brokers/topics creates the partitions from there.
void auto_create(services& s, const std::string& topic) {
    if (s.zk == nullptr || s.cache.brokers().empty()) {
        return;
    }
    auto rf = std::min<std::size_t>(static_cast<std::size_t>(s.config.default_replication_factor),
                                    s.cache.brokers().size());
    auto a = plan_new_topic(s.cache, s.config.num_partitions, static_cast<std::int16_t>(rf));
    if (!a) {
        GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(5),
                                "cannot auto-create topic {}: {}", topic, a.err().message);
        return;
    }
    s.zk->create(coord::paths::topic(topic), coord::encode_topic(a.value()),
                 coord::create_mode::persistent, [topic](result<std::string> r) {
                     if (r) {
                         GREGOR_LOG(broker_log, info, "auto-created topic {}", topic);
                     }
                 });
}

metadata_response::metadata_response_topic missing_topic(services& s, const std::string& name,
                                                         bool allow_create) {
    metadata_response::metadata_response_topic t;
    t.name = name;
    if (!valid_topic_name(name)) {
        t.error_code = model::to_wire(kafka_error::invalid_topic_exception);
    } else if (allow_create && s.config.auto_create_topics_enable && s.zk != nullptr) {
        auto_create(s, name);
        t.error_code = model::to_wire(kafka_error::leader_not_available);
    } else {
        t.error_code = model::to_wire(kafka_error::unknown_topic_or_partition);
    }
    return t;
}

}  // namespace

handler_result<metadata_response> handle(services& s, request_context& ctx,
                                         protocol::metadata_request req) {
    metadata_response out;
    for (const cached_broker& b : s.cache.brokers()) {
        if (const cached_endpoint* e = b.endpoint_for(ctx.listener())) {
            out.brokers.push_back({b.id, e->host, e->port, b.rack, {}});
        }
    }
    out.cluster_id = s.cluster_id.empty() ? std::nullopt : std::optional(s.cluster_id);
    out.controller_id = s.cache.controller();
    // v0: an empty list means every topic; v1+: null means every topic.
    bool all = !req.topics || (ctx.version() == 0 && req.topics->empty());
    if (all) {
        for (const auto& [name, parts] : s.cache.topics()) {
            out.topics.push_back(describe_topic(s, ctx, name, parts));
        }
        co_return out;
    }
    bool allow_create = ctx.version() < 4 || req.allow_auto_topic_creation;
    for (const auto& t : *req.topics) {
        if (!t.name) {
            continue;  // lookups by topic id are not supported yet
        }
        const auto* parts = s.cache.topic(*t.name);
        out.topics.push_back(parts != nullptr ? describe_topic(s, ctx, *t.name, *parts)
                                              : missing_topic(s, *t.name, allow_create));
    }
    co_return out;
}

}  // namespace gregor::broker

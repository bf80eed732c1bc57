#include "broker/handlers/find_coordinator.h"

#include "broker/group_wiring.h"
#include "group/partitioner.h"
#include "model/kafka_error.h"

namespace gregor::broker {
namespace {

using model::kafka_error;
using find_coordinator_response = protocol::find_coordinator_response;

constexpr std::int8_t group_key_type = 0;
constexpr std::int8_t transaction_key_type = 1;

struct coordinator {
    kafka_error error = kafka_error::none;
    std::string message;
    model::node_id node = model::no_node;
    std::string host;
    std::int32_t port = -1;
};

coordinator not_available(std::string message) {
    return {kafka_error::coordinator_not_available, std::move(message), model::no_node, "", -1};
}

// The coordinator of one group key (Kafka's resolution, reference §1.2).
coordinator find_group_coordinator(services& s, request_context& ctx, const std::string& key) {
    if (s.groups == nullptr) {
        return not_available("this broker runs without ZooKeeper, so without groups");
    }
    const std::string topic(group::offsets_topic_name);
    const metadata_cache::partition_map* parts = s.cache.topic(topic);
    if (parts == nullptr || parts->empty()) {
        create_offsets_topic(s);
        return not_available("the offsets topic is being created");
    }
    s.groups->set_partition_count(static_cast<std::int32_t>(parts->size()));
    auto it = parts->find(s.groups->partition_for(key));
    if (it == parts->end()) {
        return not_available("the group's offsets partition is unknown");
    }
    const cached_broker* leader = s.cache.broker(it->second.leader);
    const cached_endpoint* e = leader ? leader->endpoint_for(ctx.listener()) : nullptr;
    if (e == nullptr) {
        return not_available("the group's offsets partition has no leader on this listener");
    }
    return {kafka_error::none, "", leader->id, e->host, e->port};
}

coordinator find_one(services& s, request_context& ctx, std::int8_t key_type,
                     const std::string& key) {
    if (key_type == group_key_type) {
        return find_group_coordinator(s, ctx, key);
    }
    if (key_type == transaction_key_type) {
        return not_available("the transaction coordinator is not built yet");
    }
    return {kafka_error::invalid_request, "unknown key type", model::no_node, "", -1};
}

}  // namespace

// Advertised from v0 because librdkafka enables lz4 only then (docs/client-compat.md).
handler_result<find_coordinator_response> handle(services& s, request_context& ctx,
                                                 protocol::find_coordinator_request req) {
    find_coordinator_response out;
    if (ctx.version() < 4) {
        coordinator c = find_one(s, ctx, req.key_type, req.key);
        out.error_code = model::to_wire(c.error);
        if (!c.message.empty()) {
            out.error_message = c.message;
        }
        out.node_id = c.node;
        out.host = c.host;
        out.port = c.port;
        co_return out;
    }
    for (auto& key : req.coordinator_keys) {
        coordinator c = find_one(s, ctx, req.key_type, key);
        std::optional<std::string> message;
        if (!c.message.empty()) {
            message = c.message;
        }
        out.coordinators.push_back(
            {std::move(key), c.node, c.host, c.port, model::to_wire(c.error), message, {}});
    }
    co_return out;
}

}  // namespace gregor::broker

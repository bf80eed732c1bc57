// ApiVersions, FindCoordinator and DescribeCluster: answers that need no partition state.
#include "broker/dispatch.h"
#include "broker/handlers/api_versions.h"
#include "broker/handlers/describe_cluster.h"
#include "broker/handlers/find_coordinator.h"
#include "model/kafka_error.h"

namespace gregor::broker {

handler_result<protocol::api_versions_response> handle(services& /*s*/, request_context& /*ctx*/,
                                                       protocol::api_versions_request /*req*/) {
    protocol::api_versions_response out;
    out.api_keys = advertised_apis();
    co_return out;
}

// Advertised from v0 because librdkafka enables lz4 only then (docs/client-compat.md).
handler_result<protocol::find_coordinator_response> handle(services& /*s*/,
                                                           request_context& /*ctx*/,
                                                           protocol::find_coordinator_request req) {
    constexpr auto not_available =
        static_cast<std::int16_t>(model::kafka_error::coordinator_not_available);
    protocol::find_coordinator_response out;
    out.error_code = not_available;
    out.error_message = "the group coordinator is not implemented yet";
    out.node_id = model::no_node;
    out.port = -1;
    for (auto& key : req.coordinator_keys) {
        out.coordinators.push_back(
            {std::move(key), model::no_node, "", -1, not_available, out.error_message, {}});
    }
    co_return out;
}

handler_result<protocol::describe_cluster_response> handle(services& s, request_context& ctx,
                                                           protocol::describe_cluster_request) {
    protocol::describe_cluster_response out;
    out.cluster_id = s.cluster_id;
    out.controller_id = s.cache.controller();
    for (const cached_broker& b : s.cache.brokers()) {
        if (const cached_endpoint* e = b.endpoint_for(ctx.listener())) {
            out.brokers.push_back({b.id, e->host, e->port, b.rack, {}});
        }
    }
    co_return out;
}

}  // namespace gregor::broker

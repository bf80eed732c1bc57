// ApiVersions, FindCoordinator and DescribeCluster: answers that need no partition state.
#include "broker/dispatch.h"
#include "broker/handlers/api_versions.h"
#include "broker/handlers/describe_cluster.h"
#include "model/kafka_error.h"

namespace gregor::broker {

handler_result<protocol::api_versions_response> handle(services& /*s*/, request_context& /*ctx*/,
                                                       protocol::api_versions_request /*req*/) {
    protocol::api_versions_response out;
    out.api_keys = advertised_apis();
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

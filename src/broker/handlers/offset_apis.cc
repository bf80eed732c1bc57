#include "broker/handlers/offset_apis.h"

#include "broker/handlers/offset_wire.h"
#include "group/service.h"
#include "model/kafka_error.h"

namespace gregor::broker {
namespace {

using model::kafka_error;

constexpr kafka_error coordinator_unavailable = kafka_error::coordinator_not_available;

}  // namespace

handler_result<protocol::offset_commit_response> handle(services& s, request_context& ctx,
                                                        protocol::offset_commit_request req) {
    offset_commit_call call = to_commit_call(std::move(req), ctx.version(), s.cache);
    std::vector<group::partition_error> errors;
    if (call.request.partitions.empty()) {
        // Every topic unknown: Kafka answers without asking the coordinator.
    } else if (s.groups == nullptr) {
        errors = commit_failure(call.request, coordinator_unavailable);
    } else {
        // The answer needs only the response slots: the request moves on.
        errors = co_await s.groups->commit(std::move(call.who), std::move(call.request));
    }
    co_return commit_answer(std::move(call), errors);
}

handler_result<protocol::offset_fetch_response> handle(services& s, request_context& ctx,
                                                       protocol::offset_fetch_request req) {
    const std::int16_t version = ctx.version();
    const bool require_stable = version >= 7 && req.require_stable;
    std::vector<offset_fetch_query> queries = to_fetch_queries(std::move(req), version);
    std::vector<group::offset_fetch_result> results;
    results.reserve(queries.size());
    for (const offset_fetch_query& q : queries) {
        if (s.groups == nullptr) {
            results.push_back({coordinator_unavailable, {}});
        } else {
            results.push_back(s.groups->fetch(q.group_id, q.partitions, require_stable));
        }
    }
    co_return fetch_answer(queries, std::move(results), version, s.cache);
}

handler_result<protocol::offset_delete_response> handle(services& s, request_context& /*ctx*/,
                                                        protocol::offset_delete_request req) {
    offset_delete_call call = to_delete_call(std::move(req), s.cache);
    group::offset_delete_result r;
    if (s.groups == nullptr) {
        r.error = coordinator_unavailable;
    } else {
        r = s.groups->delete_offsets(call.group_id, call.partitions);
    }
    co_return delete_answer(std::move(call), r);
}

}  // namespace gregor::broker

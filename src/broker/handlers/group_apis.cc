#include "broker/handlers/group_apis.h"

#include "broker/handlers/group_wire.h"
#include "group/service.h"
#include "model/kafka_error.h"

namespace gregor::broker {
namespace {

using model::kafka_error;

constexpr kafka_error no_coordinator = kafka_error::coordinator_not_available;

}  // namespace

handler_result<protocol::join_group_response> handle(services& s, request_context& ctx,
                                                     protocol::join_group_request req) {
    const std::int16_t version = ctx.version();
    if (s.groups == nullptr) {
        co_return to_wire(join_failure(no_coordinator, std::move(req.member_id)), version);
    }
    group::join_request r =
        to_join_request(std::move(req), version, ctx.header.client_id.value_or(""),
                        kafka_client_host(ctx.peer().address()));
    group::join_response answer = co_await s.groups->join(std::move(r));
    co_return to_wire(std::move(answer), version);
}

handler_result<protocol::sync_group_response> handle(services& s, request_context& ctx,
                                                     protocol::sync_group_request req) {
    const std::int16_t version = ctx.version();
    if (s.groups == nullptr) {
        co_return to_wire(group::sync_failure(no_coordinator), version);
    }
    group::sync_request r = to_sync_request(std::move(req), version);
    group::sync_response answer = co_await s.groups->sync(std::move(r));
    co_return to_wire(std::move(answer), version);
}

handler_result<protocol::heartbeat_response> handle(services& s, request_context& /*ctx*/,
                                                    protocol::heartbeat_request req) {
    protocol::heartbeat_response out;
    out.throttle_time_ms = 0;
    kafka_error e = s.groups == nullptr ? no_coordinator
                                        : s.groups->heartbeat(to_heartbeat_request(std::move(req)));
    out.error_code = static_cast<std::int16_t>(e);
    co_return out;
}

handler_result<protocol::leave_group_response> handle(services& s, request_context& ctx,
                                                      protocol::leave_group_request req) {
    group::leave_response r;
    if (s.groups == nullptr) {
        r.error = no_coordinator;
    } else {
        r = s.groups->leave(to_leave_request(std::move(req), ctx.version()));
    }
    co_return to_wire(std::move(r), ctx.version());
}

handler_result<protocol::describe_groups_response> handle(services& s, request_context& /*ctx*/,
                                                          protocol::describe_groups_request req) {
    protocol::describe_groups_response out;
    out.throttle_time_ms = 0;
    out.groups.reserve(req.groups.size());
    for (std::string& id : req.groups) {
        group::described_group g =
            s.groups == nullptr ? describe_failure(no_coordinator, id) : s.groups->describe(id);
        out.groups.push_back(to_wire(std::move(g), req.include_authorized_operations));
    }
    co_return out;
}

handler_result<protocol::list_groups_response> handle(services& s, request_context& /*ctx*/,
                                                      protocol::list_groups_request req) {
    group::list_groups_response r;
    if (s.groups == nullptr) {
        r.error = no_coordinator;
    } else {
        r = s.groups->list(req.states_filter, req.types_filter);
    }
    co_return to_wire(std::move(r));
}

handler_result<protocol::delete_groups_response> handle(services& s, request_context& /*ctx*/,
                                                        protocol::delete_groups_request req) {
    std::vector<group::deleted_group> results =
        s.groups == nullptr ? delete_failure(no_coordinator, req.groups_names)
                            : s.groups->delete_groups(req.groups_names);
    co_return to_wire(std::move(results));
}

}  // namespace gregor::broker

#include "broker/handlers/group_wire.h"

#include <fmt/format.h>

#include <set>
#include <string_view>
#include <utility>

namespace gregor::broker {
namespace {

using model::kafka_error;

std::string java_ipv6_text(const net::asio::ip::address_v6& a) {
    auto b = a.to_bytes();
    std::string out = "/";
    for (std::size_t i = 0; i < b.size(); i += 2) {
        unsigned group = (static_cast<unsigned>(b[i]) << 8) | b[i + 1];
        out += fmt::format("{}{:x}", i == 0 ? "" : ":", group);
    }
    if (a.scope_id() != 0) {
        out += fmt::format("%{}", a.scope_id());
    }
    return out;
}

}  // namespace

std::string kafka_client_host(const net::asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return "/" + net::asio::ip::make_address_v4(net::asio::ip::v4_mapped, address.to_v6())
                         .to_string();
    }
    if (address.is_v6()) {
        return java_ipv6_text(address.to_v6());
    }
    return "/" + address.to_string();
}

group::join_request to_join_request(protocol::join_group_request req, std::int16_t version,
                                    std::string client_id, std::string client_host) {
    group::join_request out;
    out.version = version;
    out.group_id = std::move(req.group_id);
    out.session_timeout_ms = req.session_timeout_ms;
    // v0 has no rebalance timeout: the session timeout serves as both (the state machine
    // reads it so too; set here so that the struct says what the client meant).
    out.rebalance_timeout_ms = version == 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
    out.member_id = std::move(req.member_id);
    out.group_instance_id = std::move(req.group_instance_id);
    out.protocol_type = std::move(req.protocol_type);
    out.protocols.reserve(req.protocols.size());
    for (auto& p : req.protocols) {
        out.protocols.push_back({std::move(p.name), std::move(p.metadata)});
    }
    out.reason = std::move(req.reason);
    out.client_id = std::move(client_id);
    out.client_host = std::move(client_host);
    return out;
}

protocol::join_group_response to_wire(group::join_response r, std::int16_t version) {
    protocol::join_group_response out;
    out.throttle_time_ms = 0;
    out.error_code = model::to_wire(r.error);
    out.generation_id = r.generation_id;
    out.protocol_type = std::move(r.protocol_type);
    // Not nullable before v7: Kafka writes "" there for a group without a protocol.
    out.protocol_name =
        version >= 7 ? std::move(r.protocol_name) : std::optional(r.protocol_name.value_or(""));
    out.leader = std::move(r.leader);
    out.skip_assignment = r.skip_assignment;
    out.member_id = std::move(r.member_id);
    out.members.reserve(r.members.size());
    for (auto& m : r.members) {
        out.members.push_back(
            {std::move(m.member_id), std::move(m.group_instance_id), std::move(m.metadata), {}});
    }
    return out;
}

group::join_response join_failure(kafka_error error, std::string member_id) {
    group::join_response out;
    out.error = error;
    out.member_id = std::move(member_id);
    return out;
}

group::sync_request to_sync_request(protocol::sync_group_request req, std::int16_t version) {
    group::sync_request out;
    out.version = version;
    out.group_id = std::move(req.group_id);
    out.generation_id = req.generation_id;
    out.member_id = std::move(req.member_id);
    out.group_instance_id = std::move(req.group_instance_id);
    out.protocol_type = std::move(req.protocol_type);
    out.protocol_name = std::move(req.protocol_name);
    out.assignments.reserve(req.assignments.size());
    for (auto& a : req.assignments) {
        out.assignments.push_back({std::move(a.member_id), std::move(a.assignment)});
    }
    return out;
}

protocol::sync_group_response to_wire(group::sync_response r, std::int16_t /*version*/) {
    protocol::sync_group_response out;
    out.throttle_time_ms = 0;
    out.error_code = model::to_wire(r.error);
    // v5+ only, and nullable there; the encoder leaves them out before.
    out.protocol_type = std::move(r.protocol_type);
    out.protocol_name = std::move(r.protocol_name);
    out.assignment = std::move(r.assignment);
    return out;
}

group::heartbeat_request to_heartbeat_request(protocol::heartbeat_request req) {
    return group::heartbeat_request{std::move(req.group_id), req.generation_id,
                                    std::move(req.member_id), std::move(req.group_instance_id)};
}

group::leave_request to_leave_request(protocol::leave_group_request req, std::int16_t version) {
    group::leave_request out;
    out.group_id = std::move(req.group_id);
    if (version <= 2) {
        out.members.push_back({std::move(req.member_id), std::nullopt, std::nullopt});
        return out;
    }
    out.members.reserve(req.members.size());
    for (auto& m : req.members) {
        out.members.push_back(
            {std::move(m.member_id), std::move(m.group_instance_id), std::move(m.reason)});
    }
    return out;
}

protocol::leave_group_response to_wire(group::leave_response r, std::int16_t version) {
    protocol::leave_group_response out;
    out.throttle_time_ms = 0;
    out.error_code = model::to_wire(r.error);
    if (version <= 2) {
        // One member was asked for: its error is the answer.
        if (r.error == kafka_error::none && !r.members.empty()) {
            out.error_code = model::to_wire(r.members.front().error);
        }
        return out;
    }
    out.members.reserve(r.members.size());
    for (auto& m : r.members) {
        out.members.push_back(
            {std::move(m.member_id), std::move(m.group_instance_id), model::to_wire(m.error), {}});
    }
    return out;
}

protocol::describe_groups_response::described_group to_wire(group::described_group g,
                                                            bool include_authorized_operations) {
    protocol::describe_groups_response::described_group out;
    out.error_code = model::to_wire(g.error);
    out.group_id = std::move(g.group_id);
    out.group_state = std::move(g.state);
    out.protocol_type = std::move(g.protocol_type);
    out.protocol_data = std::move(g.protocol_data);
    out.members.reserve(g.members.size());
    for (auto& m : g.members) {
        auto& w = out.members.emplace_back();
        w.member_id = std::move(m.member_id);
        w.group_instance_id = std::move(m.group_instance_id);
        w.client_id = std::move(m.client_id);
        w.client_host = std::move(m.client_host);
        w.member_metadata = std::move(m.metadata);
        w.member_assignment = std::move(m.assignment);
    }
    if (include_authorized_operations) {
        out.authorized_operations = group_authorized_operations;
    }
    return out;
}

group::described_group describe_failure(kafka_error error, std::string group_id) {
    group::described_group out;
    out.error = error;
    out.group_id = std::move(group_id);
    return out;
}

protocol::list_groups_response to_wire(group::list_groups_response r) {
    protocol::list_groups_response out;
    out.throttle_time_ms = 0;
    out.error_code = model::to_wire(r.error);
    out.groups.reserve(r.groups.size());
    for (auto& g : r.groups) {
        out.groups.push_back({std::move(g.group_id),
                              std::move(g.protocol_type),
                              std::move(g.state),
                              std::move(g.type),
                              {}});
    }
    return out;
}

protocol::delete_groups_response to_wire(std::vector<group::deleted_group> results) {
    protocol::delete_groups_response out;
    out.throttle_time_ms = 0;
    out.results.reserve(results.size());
    for (auto& r : results) {
        out.results.push_back({std::move(r.group_id), model::to_wire(r.error), {}});
    }
    return out;
}

std::vector<group::deleted_group> delete_failure(kafka_error error,
                                                 std::span<const std::string> group_ids) {
    std::vector<group::deleted_group> out;
    std::set<std::string_view> seen;
    for (const std::string& id : group_ids) {
        if (seen.insert(id).second) {
            out.push_back({id, error});
        }
    }
    return out;
}

}  // namespace gregor::broker

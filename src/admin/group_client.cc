#include "admin/group_client.h"

#include "admin/group_report.h"
#include "model/kafka_error.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_fetch.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>

namespace gregor::admin {
namespace {

using model::kafka_error;
using model::to_wire;

constexpr std::int8_t group_key_type = 0;  // FindCoordinator's KeyType GROUP

// The errors that mean "ask again, maybe elsewhere": the coordinator is unknown, still
// loading the group, or has moved.
bool coordinator_error(std::int16_t code) {
    return code == to_wire(kafka_error::coordinator_not_available) ||
           code == to_wire(kafka_error::coordinator_load_in_progress) ||
           code == to_wire(kafka_error::not_coordinator);
}

// Connection failures are worth a retry (the broker may be restarting); protocol and
// version problems are not.
bool connection_error(const error& e) {
    return e.code == errc::io_failed || e.code == errc::connect_failed ||
           e.code == errc::bad_address;
}

std::string error_text(std::int16_t code) {
    auto info = model::kafka_error_lookup(code);
    return info ? fmt::format("{}: {}", info->name, info->message)
                : fmt::format("UNKNOWN_ERROR({})", code);
}

std::string detail_of(const error& e) {
    return e.detail.empty() ? e.to_string() : e.detail;
}

}  // namespace

group_client::group_client(admin_client& admin, std::chrono::milliseconds request_timeout,
                           std::chrono::milliseconds retry_timeout)
    : admin_(admin), request_timeout_(request_timeout), retry_timeout_(retry_timeout) {}

bool group_client::back_off(std::chrono::milliseconds& backoff, clock::time_point deadline) {
    if (clock::now() + backoff > deadline) {
        return false;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, group_backoff_max);
    return true;
}

result<connection*> group_client::broker(std::int32_t id, const std::string& host,
                                         std::int32_t port) {
    auto it = brokers_.find(id);
    if (it != brokers_.end()) {
        return it->second.get();
    }
    if (port <= 0 || port > 65535) {
        return error(errc::bad_response, fmt::format("broker {} has port {}", id, port));
    }
    GREGOR_TRY(auto c, connection::open(endpoint{host, static_cast<std::uint16_t>(port)},
                                        request_timeout_));
    auto* raw = c.get();
    brokers_[id] = std::move(c);
    return raw;
}

result<std::pair<coordinator_info, std::int16_t>> group_client::lookup_coordinator(
    const std::string& group) {
    using api = protocol::find_coordinator_api;
    auto& c = admin_.bootstrap_connection();
    GREGOR_TRY(auto version, c.version_for<api>());
    protocol::find_coordinator_request req;
    req.key_type = group_key_type;
    if (version >= 4) {
        req.coordinator_keys = {group};
    } else {
        req.key = group;
    }
    GREGOR_TRY(auto resp, c.call_at<api>(req, version));
    coordinator_info info;
    if (version < 4) {
        info = {resp.node_id.value(), resp.host, resp.port};
        return std::pair{info, resp.error_code};
    }
    for (const auto& k : resp.coordinators) {
        if (k.key == group) {
            info = {k.node_id.value(), k.host, k.port};
            return std::pair{info, k.error_code};
        }
    }
    return error(errc::bad_response, fmt::format("FindCoordinator from {} does not name group '{}'",
                                                 c.peer().to_string(), group));
}

result<coordinator_info> group_client::find_coordinator(const std::string& group) {
    if (auto it = coordinators_.find(group); it != coordinators_.end()) {
        return it->second;
    }
    auto deadline = clock::now() + retry_timeout_;
    auto backoff = group_backoff_min;
    for (;;) {
        GREGOR_TRY(auto found, lookup_coordinator(group));
        auto [info, code] = found;
        if (code == 0 && info.id >= 0) {
            coordinators_[group] = info;
            return info;
        }
        if (code != 0 && !coordinator_error(code)) {
            return error(errc::request_failed, fmt::format("FindCoordinator for group '{}': {}",
                                                           group, error_text(code)));
        }
        if (!back_off(backoff, deadline)) {
            return error(
                errc::no_coordinator,
                fmt::format(
                    "group '{}': no coordinator after {} s ({})", group,
                    retry_timeout_.count() / 1000,
                    error_text(code != 0 ? code
                                         : to_wire(kafka_error::coordinator_not_available))));
        }
    }
}

result<connection*> group_client::coordinator_connection(const std::string& group) {
    GREGOR_TRY(auto info, find_coordinator(group));
    return broker(info.id, info.host, info.port);
}

template <class Api>
result<typename Api::response_type> group_client::to_coordinator(
    const std::string& group, std::int16_t min_version,
    const std::function<typename Api::request_type(std::int16_t)>& make,
    const std::function<std::int16_t(const typename Api::response_type&)>& group_error) {
    auto deadline = clock::now() + retry_timeout_;
    auto backoff = group_backoff_min;
    std::string last;
    for (;;) {
        auto c = coordinator_connection(group);
        if (c) {
            GREGOR_TRY(auto version, (*c)->template version_for<Api>(min_version));
            auto resp = (*c)->template call_at<Api>(make(version), version);
            if (resp && !coordinator_error(group_error(*resp))) {
                return resp;
            }
            if (!resp && !connection_error(resp.err())) {
                return resp.err();
            }
            auto code = resp ? group_error(*resp) : std::int16_t{0};
            last = resp ? error_text(code) : detail_of(resp.err());
            if (!resp || code != to_wire(kafka_error::coordinator_load_in_progress)) {
                brokers_.erase(coordinators_[group].id);
                coordinators_.erase(group);
            }
        } else if (!connection_error(c.err())) {
            return c.err();
        } else {
            last = detail_of(c.err());
            coordinators_.erase(group);
        }
        if (!back_off(backoff, deadline)) {
            return error(errc::no_coordinator,
                         fmt::format("group '{}': {} failed for {} s ({})", group, Api::name,
                                     retry_timeout_.count() / 1000, last));
        }
    }
}

result<group_description> group_client::describe_group(const std::string& group) {
    using api = protocol::describe_groups_api;
    using resp_t = protocol::describe_groups_response;
    GREGOR_TRY(auto resp, to_coordinator<api>(
                              group, 0,
                              [&](std::int16_t) {
                                  protocol::describe_groups_request req;
                                  req.groups = {group};
                                  return req;
                              },
                              [](const resp_t& r) {
                                  return r.groups.empty() ? std::int16_t{0}
                                                          : r.groups.front().error_code;
                              }));
    for (const auto& g : resp.groups) {
        if (g.group_id == group) {
            return describe_view(g, coordinators_[group]);
        }
    }
    return error(errc::bad_response,
                 fmt::format("DescribeGroups does not answer for group '{}'", group));
}

result<offset_map> group_client::fetch_offsets(const std::string& group) {
    using api = protocol::offset_fetch_api;
    using resp_t = protocol::offset_fetch_response;
    auto make = [&](std::int16_t version) {
        protocol::offset_fetch_request req;
        if (version >= 8) {
            protocol::offset_fetch_request::offset_fetch_request_group g;
            g.group_id = group;
            g.topics.reset();  // every partition with a committed offset
            req.groups.push_back(std::move(g));
        } else {
            req.group_id = group;
            req.topics.reset();
        }
        return req;
    };
    auto group_error = [](const resp_t& r) {
        return r.groups.empty() ? r.error_code : r.groups.front().error_code;
    };
    // v2 is the first version where a null topic list means "every partition".
    GREGOR_TRY(auto resp, to_coordinator<api>(group, 2, make, group_error));
    if (auto code = group_error(resp); code != 0) {
        return error(errc::request_failed,
                     fmt::format("OffsetFetch for group '{}': {}", group, error_text(code)));
    }
    offset_map out;
    auto add = [&](const std::string& topic, const auto& p) {
        if (p.error_code == 0 && p.committed_offset.value() >= 0) {
            out[{topic, p.partition_index.value()}] = p.committed_offset.value();
        }
    };
    for (const auto& t : resp.topics) {
        for (const auto& p : t.partitions) {
            add(t.name, p);
        }
    }
    for (const auto& g : resp.groups) {
        for (const auto& t : g.topics) {
            for (const auto& p : t.partitions) {
                add(t.name, p);
            }
        }
    }
    return out;
}

result<std::map<topic_partition, std::int16_t>> group_client::commit_offsets(
    const std::string& group, const std::vector<planned_offset>& offsets) {
    using api = protocol::offset_commit_api;
    using resp_t = protocol::offset_commit_response;
    auto make = [&](std::int16_t) {
        protocol::offset_commit_request req;
        req.group_id = group;
        req.generation_id_or_member_epoch = -1;  // an admin commit: no generation, no member
        req.member_id = "";
        std::map<std::string, protocol::offset_commit_request::offset_commit_request_topic> topics;
        for (const auto& o : offsets) {
            auto& t = topics[o.partition.topic];
            t.name = o.partition.topic;
            protocol::offset_commit_request::offset_commit_request_topic::
                offset_commit_request_partition p;
            p.partition_index = model::partition_id{o.partition.partition};
            p.committed_offset = model::offset{o.offset};
            p.committed_metadata = "";
            t.partitions.push_back(std::move(p));
        }
        for (auto& [name, t] : topics) {
            req.topics.push_back(std::move(t));
        }
        return req;
    };
    // Group-level errors are repeated on every partition: any coordinator error counts.
    auto group_error = [](const resp_t& r) {
        for (const auto& t : r.topics) {
            for (const auto& p : t.partitions) {
                if (coordinator_error(p.error_code)) {
                    return p.error_code;
                }
            }
        }
        return std::int16_t{0};
    };
    // v0 commits to ZooKeeper, not to the coordinator; v2 is the first without a per-commit
    // timestamp.
    GREGOR_TRY(auto resp, to_coordinator<api>(group, 2, make, group_error));
    std::map<topic_partition, std::int16_t> out;
    for (const auto& t : resp.topics) {
        for (const auto& p : t.partitions) {
            out[{t.name, p.partition_index.value()}] = p.error_code;
        }
    }
    return out;
}

result<std::int16_t> group_client::delete_group(const std::string& group) {
    using api = protocol::delete_groups_api;
    using resp_t = protocol::delete_groups_response;
    auto code_of = [&group](const resp_t& r) -> std::optional<std::int16_t> {
        for (const auto& g : r.results) {
            if (g.group_id == group) {
                return g.error_code;
            }
        }
        return std::nullopt;
    };
    GREGOR_TRY(auto resp, to_coordinator<api>(
                              group, 0,
                              [&](std::int16_t) {
                                  protocol::delete_groups_request req;
                                  req.groups_names = {group};
                                  return req;
                              },
                              [&](const resp_t& r) { return code_of(r).value_or(0); }));
    auto code = code_of(resp);
    if (!code) {
        return error(errc::bad_response,
                     fmt::format("DeleteGroups does not answer for group '{}'", group));
    }
    return *code;
}

result<std::vector<listed_group>> group_client::list_groups_on(
    std::int32_t id, const std::string& host, std::int32_t port,
    const std::vector<std::string>& states) {
    using api = protocol::list_groups_api;
    auto deadline = clock::now() + retry_timeout_;
    auto backoff = group_backoff_min;
    for (;;) {
        GREGOR_TRY(auto* c, broker(id, host, port));
        GREGOR_TRY(auto version, c->version_for<api>());
        protocol::list_groups_request req;
        if (version >= 4) {
            req.states_filter = states;
        }
        auto resp = c->call_at<api>(req, version);
        if (!resp && !connection_error(resp.err())) {
            return resp.err();
        }
        if (resp && resp->error_code == 0) {
            std::vector<listed_group> out;
            for (const auto& g : resp->groups) {
                out.push_back({g.group_id, g.group_state, g.protocol_type, id});
            }
            return out;
        }
        if (resp && !coordinator_error(resp->error_code)) {
            return error(errc::request_failed, fmt::format("ListGroups on broker {}: {}", id,
                                                           error_text(resp->error_code)));
        }
        auto last = resp ? error_text(resp->error_code) : detail_of(resp.err());
        brokers_.erase(id);
        if (!back_off(backoff, deadline)) {
            return error(errc::no_coordinator,
                         fmt::format("ListGroups on broker {} failed for {} s ({})", id,
                                     retry_timeout_.count() / 1000, last));
        }
    }
}

result<std::vector<listed_group>> group_client::list_groups(
    const std::vector<std::string>& states) {
    GREGOR_TRY(auto md, admin_.metadata(std::vector<std::string>{}));
    std::vector<listed_group> out;
    std::set<std::string> seen;
    for (const auto& b : md.brokers) {
        GREGOR_TRY(auto groups, list_groups_on(b.node_id.value(), b.host, b.port, states));
        for (auto& g : groups) {
            bool consumer = g.protocol_type.empty() || g.protocol_type == consumer_protocol_type;
            bool wanted = states.empty() || g.state.empty() ||
                          std::find(states.begin(), states.end(), g.state) != states.end();
            if (consumer && wanted && seen.insert(g.group).second) {
                out.push_back(std::move(g));
            }
        }
    }
    return out;
}

result<std::vector<topic_partition>> group_client::partitions_of(
    const std::vector<std::string>& topics) {
    GREGOR_TRY(auto md, admin_.metadata(topics));
    std::vector<topic_partition> out;
    for (const auto& t : md.topics) {
        if (t.error_code != 0) {
            return error(errc::request_failed, fmt::format("topic '{}': {}", t.name.value_or("?"),
                                                           error_text(t.error_code)));
        }
        for (const auto& p : t.partitions) {
            out.push_back({t.name.value_or(""), p.partition_index.value()});
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

// ListOffsets requests per leader for `partitions`, from Metadata; partitions without a
// known leader go to `leaderless`.
struct leader_requests {
    std::map<std::int32_t, protocol::list_offsets_request> requests;
    std::vector<topic_partition> leaderless;
};

leader_requests requests_by_leader(const protocol::metadata_response& md,
                                   const std::vector<topic_partition>& partitions,
                                   std::int64_t timestamp) {
    std::map<topic_partition, std::int32_t> leader_of;
    for (const auto& t : md.topics) {
        for (const auto& p : t.partitions) {
            leader_of[{t.name.value_or(""), p.partition_index.value()}] = p.leader_id.value();
        }
    }
    leader_requests out;
    for (const auto& p : partitions) {
        auto it = leader_of.find(p);
        if (it == leader_of.end() || it->second < 0) {
            out.leaderless.push_back(p);
            continue;
        }
        auto& req = out.requests[it->second];
        req.replica_id = model::node_id{-1};
        if (req.topics.empty() || req.topics.back().name != p.topic) {
            req.topics.emplace_back().name = p.topic;
        }
        auto& rp = req.topics.back().partitions.emplace_back();
        rp.partition_index = model::partition_id{p.partition};
        rp.timestamp = model::timestamp_ms{timestamp};
    }
    return out;
}

std::vector<topic_partition> partitions_in(const protocol::list_offsets_request& req) {
    std::vector<topic_partition> out;
    for (const auto& t : req.topics) {
        for (const auto& p : t.partitions) {
            out.push_back({t.name, p.partition_index.value()});
        }
    }
    return out;
}

}  // namespace

result<group_client::offsets_pass> group_client::list_offsets_once(
    const std::vector<topic_partition>& partitions, std::int64_t timestamp) {
    std::set<std::string> topics;
    for (const auto& p : partitions) {
        topics.insert(p.topic);
    }
    GREGOR_TRY(auto md, admin_.metadata(std::vector<std::string>(topics.begin(), topics.end())));
    auto [requests, leaderless] = requests_by_leader(md, partitions, timestamp);
    offsets_pass pass;
    pass.retry = leaderless;
    if (!leaderless.empty()) {
        pass.last_error = fmt::format("{} has no leader", leaderless.front().to_string());
    }
    for (const auto& [leader, req] : requests) {
        auto b = std::find_if(md.brokers.begin(), md.brokers.end(),
                              [&](const auto& x) { return x.node_id.value() == leader; });
        auto c = b == md.brokers.end()
                     ? result<connection*>(error(errc::connect_failed,
                                                 fmt::format("leader {} is not listed", leader)))
                     : broker(leader, b->host, b->port);
        auto resp = c ? (*c)->call<protocol::list_offsets_api>(req, 1)
                      : result<protocol::list_offsets_response>(c.err());
        if (!resp && !connection_error(resp.err())) {
            return resp.err();
        }
        if (!resp) {
            brokers_.erase(leader);
            pass.last_error = detail_of(resp.err());
            auto lost = partitions_in(req);
            pass.retry.insert(pass.retry.end(), lost.begin(), lost.end());
            continue;
        }
        GREGOR_TRY_VOID(take_offsets(*resp, pass));
    }
    return pass;
}

result<void> group_client::take_offsets(const protocol::list_offsets_response& resp,
                                        offsets_pass& pass) {
    for (const auto& t : resp.topics) {
        for (const auto& p : t.partitions) {
            topic_partition tp{t.name, p.partition_index.value()};
            auto text = fmt::format("{}: {}", tp.to_string(), error_text(p.error_code));
            if (p.error_code == 0) {
                auto v = p.offset.value();
                pass.found[tp] = v < 0 ? std::nullopt : std::optional(v);
            } else if (model::kafka_error_retriable(static_cast<kafka_error>(p.error_code))) {
                pass.retry.push_back(tp);
                pass.last_error = std::move(text);
            } else {
                return error(errc::request_failed, "ListOffsets for " + text);
            }
        }
    }
    return ok();
}

result<std::map<topic_partition, std::optional<std::int64_t>>> group_client::list_offsets(
    const std::vector<topic_partition>& partitions, std::int64_t timestamp) {
    std::map<topic_partition, std::optional<std::int64_t>> out;
    auto todo = partitions;
    auto deadline = clock::now() + retry_timeout_;
    auto backoff = group_backoff_min;
    while (!todo.empty()) {
        GREGOR_TRY(auto pass, list_offsets_once(todo, timestamp));
        out.merge(pass.found);
        todo = std::move(pass.retry);
        if (!todo.empty() && !back_off(backoff, deadline)) {
            return error(errc::request_failed,
                         fmt::format("ListOffsets failed for {} s ({})",
                                     retry_timeout_.count() / 1000, pass.last_error));
        }
    }
    return out;
}

}  // namespace gregor::admin

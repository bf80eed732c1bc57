// `gregor topics alter --replication-factor N [--wait]` and `gregor topics reassignments`:
// partition reassignment (KIP-455) through AlterPartitionReassignments and
// ListPartitionReassignments.
#include "admin/commands_common.h"
#include "admin/errc.h"
#include "admin/replication_plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

namespace gregor::admin {
namespace {

using ojson = nlohmann::ordered_json;
using detail::describe_kafka_error;
using detail::print;
using detail::report_error;

constexpr auto poll_interval = std::chrono::milliseconds(500);

std::vector<std::int32_t> raw(const std::vector<model::node_id>& v) {
    std::vector<std::int32_t> out;
    for (model::node_id id : v) {
        out.push_back(id());
    }
    return out;
}

std::string list_text(const std::vector<model::node_id>& v) {
    return fmt::format("[{}]", fmt::join(raw(v), ","));
}

// The topic's replicas per partition and the live brokers, from Metadata.
result<std::pair<replica_lists, std::vector<model::node_id>>> current_replicas(
    admin_client& c, const std::string& topic) {
    const std::optional<std::vector<std::string>> names = std::vector<std::string>{topic};
    GREGOR_TRY(auto md, c.metadata(names));
    std::pair<replica_lists, std::vector<model::node_id>> out;
    for (const auto& b : md.brokers) {
        out.second.push_back(b.node_id);
    }
    for (const auto& t : md.topics) {
        if (t.error_code != 0) {
            return error(errc::request_failed,
                         fmt::format("topic {}: {}", topic,
                                     describe_kafka_error(t.error_code, std::nullopt)));
        }
        for (const auto& p : t.partitions) {
            out.first[p.partition_index] = p.replica_nodes;
        }
    }
    return out;
}

protocol::alter_partition_reassignments_request reassign_request(const std::string& topic,
                                                                 const replica_lists& plan,
                                                                 std::int32_t timeout_s) {
    protocol::alter_partition_reassignments_request req;
    req.timeout_ms = timeout_s * 1000;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    for (const auto& [p, replicas] : plan) {
        auto& rp = t.partitions.emplace_back();
        rp.partition_index = p;
        rp.replicas = replicas;
    }
    return req;
}

// The partitions of `topic` still being reassigned (0 when none).
result<std::size_t> ongoing(admin_client& c, const std::string& topic) {
    protocol::list_partition_reassignments_request req;
    req.topics = std::nullopt;
    GREGOR_TRY(auto resp, c.list_reassignments(req));
    if (resp.error_code != 0) {
        return error(errc::request_failed,
                     "ListPartitionReassignments: " +
                         describe_kafka_error(resp.error_code, resp.error_message));
    }
    std::size_t n = 0;
    for (const auto& t : resp.topics) {
        n += t.name == topic ? t.partitions.size() : 0;
    }
    return n;
}

// Polls until no partition of `topic` is being reassigned or the deadline passes.
result<bool> wait_done(admin_client& c, const std::string& topic, std::int32_t timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (true) {
        GREGOR_TRY(std::size_t left, ongoing(c, topic));
        if (left == 0) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(poll_interval);
    }
}

}  // namespace

namespace detail {

int alter_replication_factor(admin_client& c, const topics_alter_options& o) {
    auto current = current_replicas(c, o.topic);
    if (!current) {
        return report_error("topics alter", current.err());
    }
    auto plan = plan_replication_factor(current->first, current->second, o.replication_factor);
    if (!plan) {
        return report_error("topics alter", plan.err());
    }
    ojson json = {{"topic", o.topic}, {"replication_factor", o.replication_factor}};
    json["partitions"] = ojson::array();
    std::string text;
    bool failed = false;
    if (!plan->empty()) {
        auto resp = c.alter_reassignments(
            reassign_request(o.topic, *plan, o.common.request_timeout_s));
        if (!resp) {
            return report_error("topics alter", resp.err());
        }
        if (resp->error_code != 0) {
            return report_error("topics alter",
                                error(errc::request_failed,
                                      describe_kafka_error(resp->error_code,
                                                           resp->error_message)));
        }
        for (const auto& t : resp->responses) {
            for (const auto& p : t.partitions) {
                const auto& target = (*plan)[p.partition_index];
                const auto& before = current->first[p.partition_index];
                ojson j = {{"partition", p.partition_index()}, {"replicas", raw(target)},
                           {"ok", p.error_code == 0}};
                if (p.error_code != 0) {
                    failed = true;
                    j["error"] = error_name(p.error_code);
                    j["message"] = p.error_message.value_or("");
                    text += fmt::format("topic {} partition {}: {}\n", o.topic,
                                        p.partition_index(),
                                        describe_kafka_error(p.error_code, p.error_message));
                } else {
                    text += fmt::format("topic {} partition {}: reassigning {} -> {}\n", o.topic,
                                        p.partition_index(), list_text(before),
                                        list_text(target));
                }
                json["partitions"].push_back(j);
            }
        }
    } else {
        text += fmt::format("topic {} already has replication factor {}\n", o.topic,
                            o.replication_factor);
    }
    if (o.wait && !failed) {
        auto done = wait_done(c, o.topic, o.wait_timeout_s);
        if (!done) {
            return report_error("topics alter", done.err());
        }
        failed = !*done;
        json["completed"] = *done;
        text += *done ? fmt::format("topic {}: reassignment complete, replication factor {}\n",
                                    o.topic, o.replication_factor)
                      : fmt::format("topic {}: reassignment still running after {} s\n",
                                    o.topic, o.wait_timeout_s);
    }
    print(o.common.output() == output_format::json ? json.dump() + "\n" : text);
    return failed ? exit_failed : exit_ok;
}

}  // namespace detail

int run_topics_reassignments(const topics_reassignments_options& o) {
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("topics reassignments", c.err());
    }
    protocol::list_partition_reassignments_request req;
    req.topics = std::nullopt;
    auto resp = (*c)->list_reassignments(req);
    if (!resp) {
        return report_error("topics reassignments", resp.err());
    }
    if (resp->error_code != 0) {
        return report_error("topics reassignments",
                            error(errc::request_failed,
                                  describe_kafka_error(resp->error_code, resp->error_message)));
    }
    print(render_reassignments(*resp, o.topics, o.common.output()));
    return exit_ok;
}

}  // namespace gregor::admin

// `gregor cluster describe|health` and `gregor leaders elect`.
#include "admin/commands_common.h"
#include "base/log.h"
#include "cluster/state.h"
#include "cluster/zk_view.h"
#include "model/kafka_error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <set>
#include <thread>

namespace gregor::admin {
namespace {

using ojson = nlohmann::ordered_json;
using detail::print;
using detail::report_error;

constexpr auto zookeeper_timeout = std::chrono::seconds(10);
constexpr std::int16_t election_not_needed =
    static_cast<std::int16_t>(model::kafka_error::election_not_needed);

// The ZooKeeper to read the controller epoch from: --zookeeper, else --dir's, else none.
std::string zookeeper_of(const describe_cluster_options& o) {
    if (!o.zookeeper.empty()) {
        return o.zookeeper;
    }
    if (!o.common.dir.empty()) {
        if (auto s = cluster::read_state(o.common.dir)) {
            return s->zookeeper_connect;
        }
    }
    return "";
}

// The controller epoch from /controller_epoch, or a reason why it is unknown.
std::pair<std::optional<std::int32_t>, std::string> controller_epoch(const std::string& zk) {
    if (zk.empty()) {
        return {std::nullopt,
                "unknown (the Kafka protocol does not carry it; pass --zookeeper "
                "or --dir)"};
    }
    log_set_level("warn");  // keep the ZooKeeper client's info lines out of the output
    auto view = cluster::zk_view::connect(zk, zookeeper_timeout);
    if (!view) {
        return {std::nullopt, "unknown (" + view.err().detail + ")"};
    }
    auto v = (*view)->read();
    if (!v || !v->controller_epoch) {
        return {std::nullopt, "unknown (no /controller_epoch in ZooKeeper)"};
    }
    return {v->controller_epoch, std::to_string(*v->controller_epoch)};
}

std::string describe_text(const protocol::metadata_response& md,
                          const std::pair<std::optional<std::int32_t>, std::string>& epoch) {
    std::string out = fmt::format("cluster id: {}\n", md.cluster_id.value_or("(none)"));
    out += fmt::format("controller: {}\n", md.controller_id.value() < 0
                                               ? std::string("none")
                                               : std::to_string(md.controller_id.value()));
    out += fmt::format("controller epoch: {}\n", epoch.second);
    out += fmt::format("brokers: {}\n", md.brokers.size());
    auto brokers = md.brokers;
    std::sort(brokers.begin(), brokers.end(),
              [](const auto& a, const auto& b) { return a.node_id < b.node_id; });
    for (const auto& b : brokers) {
        out += fmt::format("  {}\t{}:{}\track: {}{}\n", b.node_id.value(), b.host, b.port,
                           b.rack.value_or("-"),
                           b.node_id == md.controller_id ? "\t(controller)" : "");
    }
    return out;
}

std::string describe_json(const protocol::metadata_response& md,
                          const std::pair<std::optional<std::int32_t>, std::string>& epoch) {
    ojson brokers = ojson::array();
    for (const auto& b : md.brokers) {
        brokers.push_back({{"id", b.node_id.value()},
                           {"host", b.host},
                           {"port", b.port},
                           {"rack", b.rack ? ojson(*b.rack) : ojson(nullptr)}});
    }
    ojson j = {{"cluster_id", md.cluster_id ? ojson(*md.cluster_id) : ojson(nullptr)},
               {"controller_id", md.controller_id.value()},
               {"controller_epoch", epoch.first ? ojson(*epoch.first) : ojson(nullptr)},
               {"brokers", brokers}};
    return j.dump() + "\n";
}

result<broker_expectation> expectation_of(const health_options& o) {
    broker_expectation e;
    if (o.brokers > 0) {
        e.count = static_cast<std::size_t>(o.brokers);
    } else if (!o.common.dir.empty()) {
        auto s = cluster::read_state(o.common.dir);
        if (!s) {
            return error(errc::bad_usage,
                         fmt::format("--dir {}: {}", o.common.dir, s.err().detail));
        }
        for (const auto& b : s->brokers) {
            e.ids.push_back(b.id);
        }
    }
    return e;
}

// One health check; an unreachable cluster is an unhealthy verdict, not a usage error.
health_report check_once(const health_options& o, const broker_expectation& e,
                         std::string& failure) {
    failure.clear();
    auto c = detail::connect(o.common);
    auto md = c ? (*c)->metadata(std::nullopt) : result<protocol::metadata_response>(c.err());
    if (!md) {
        failure = md.err().detail.empty() ? md.err().to_string() : md.err().detail;
        return {};
    }
    return assess_health(*md, e);
}

}  // namespace

int run_describe_cluster(const describe_cluster_options& o) {
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("cluster describe", c.err());
    }
    auto md = (*c)->metadata(std::vector<std::string>{});
    if (!md) {
        return report_error("cluster describe", md.err());
    }
    auto epoch = controller_epoch(zookeeper_of(o));
    print(o.common.output() == output_format::json ? describe_json(*md, epoch)
                                                   : describe_text(*md, epoch));
    return exit_ok;
}

int run_health(const health_options& o) {
    auto e = expectation_of(o);
    if (!e) {
        return report_error("cluster health", e.err());
    }
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
    bool polling = o.watch || o.exit_when_healthy;
    for (;;) {
        std::string failure;
        auto report = check_once(o, *e, failure);
        bool healthy = report.healthy && failure.empty();
        bool timed_out = o.timeout_s > 0 && std::chrono::steady_clock::now() >= end;
        bool done = !polling || (o.exit_when_healthy && healthy) || timed_out;
        // --watch prints every verdict; otherwise only the last one.
        if (o.watch || done) {
            print(failure.empty()
                      ? render_health(report, o.common.output())
                      : (o.common.output() == output_format::json
                             ? ojson({{"healthy", false}, {"error", failure}}).dump() + "\n"
                             : "unhealthy: cannot read metadata: " + failure + "\n"));
        }
        if (done) {
            return healthy ? exit_ok : exit_failed;
        }
        std::this_thread::sleep_for(std::chrono::seconds(o.interval_s));
    }
}

namespace {

result<std::optional<std::vector<protocol::elect_leaders_request::topic_partitions_entry>>>
election_targets(admin_client& c, const std::vector<std::string>& args) {
    using entry = protocol::elect_leaders_request::topic_partitions_entry;
    if (args.empty()) {
        return std::optional<std::vector<entry>>();  // null: every partition
    }
    std::map<std::string, std::set<std::int32_t>> wanted;
    std::vector<std::string> whole;
    for (const auto& a : args) {
        GREGOR_TRY(auto tp, parse_topic_partition(a));
        if (tp.second) {
            wanted[tp.first].insert(*tp.second);
        } else {
            whole.push_back(tp.first);
        }
    }
    if (!whole.empty()) {
        GREGOR_TRY(auto md, c.metadata(whole));
        for (const auto& t : md.topics) {
            if (t.error_code != 0) {
                return error(errc::request_failed, fmt::format("topic {}: {}", t.name.value_or("?"),
                                                               detail::error_name(t.error_code)));
            }
            for (const auto& p : t.partitions) {
                wanted[t.name.value_or("")].insert(p.partition_index.value());
            }
        }
    }
    std::vector<entry> out;
    for (const auto& [topic, parts] : wanted) {
        entry e;
        e.topic = topic;
        for (auto p : parts) {
            e.partitions.push_back(model::partition_id{p});
        }
        out.push_back(std::move(e));
    }
    return std::optional<std::vector<entry>>(std::move(out));
}

int print_election(const protocol::elect_leaders_response& resp, output_format f) {
    ojson results = ojson::array();
    std::string text;
    bool failed = resp.error_code != 0;
    if (failed) {
        text += fmt::format("election failed: {}\n",
                            detail::describe_kafka_error(resp.error_code, std::nullopt));
    }
    for (const auto& t : resp.replica_election_results) {
        for (const auto& p : t.partition_result) {
            auto name = fmt::format("{}-{}", t.topic, p.partition_id.value());
            bool ok = p.error_code == 0 || p.error_code == election_not_needed;
            failed = failed || !ok;
            results.push_back(
                {{"partition", name},
                 {"ok", ok},
                 {"error",
                  p.error_code == 0 ? ojson(nullptr) : ojson(detail::error_name(p.error_code))},
                 {"message", p.error_message.value_or("")}});
            text += p.error_code == 0
                        ? fmt::format("{}: leader elected\n", name)
                        : fmt::format("{}: {}\n", name,
                                      detail::describe_kafka_error(p.error_code, p.error_message));
        }
    }
    if (f == output_format::json) {
        ojson j = {{"error", resp.error_code == 0 ? ojson(nullptr)
                                                  : ojson(detail::error_name(resp.error_code))},
                   {"results", results}};
        print(j.dump() + "\n");
    } else {
        print(text.empty() ? "no partitions needed an election\n" : text);
    }
    return failed ? exit_failed : exit_ok;
}

}  // namespace

int run_leaders_elect(const leaders_elect_options& o) {
    if (o.preferred == o.unclean) {
        return report_error("leaders elect",
                            error(errc::bad_usage, "give exactly one of --preferred, --unclean"));
    }
    auto c = detail::connect(o.common);
    if (!c) {
        return report_error("leaders elect", c.err());
    }
    auto targets = election_targets(**c, o.partitions);
    if (!targets) {
        return report_error("leaders elect", targets.err());
    }
    protocol::elect_leaders_request req;
    req.election_type = o.preferred ? 0 : 1;
    req.topic_partitions = std::move(*targets);
    req.timeout_ms = detail::broker_wait_ms(o.common);
    auto resp = (*c)->elect_leaders(std::move(req));
    if (!resp) {
        return report_error("leaders elect", resp.err());
    }
    return print_election(*resp, o.common.output());
}

}  // namespace gregor::admin

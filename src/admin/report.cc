#include "admin/report.h"

#include "model/kafka_error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace gregor::admin {
namespace {

using ojson = nlohmann::ordered_json;
using metadata_topic = protocol::metadata_response::metadata_response_topic;

// The verdict line names at most this many partitions per problem.
constexpr std::size_t named_partitions_max = 10;

std::vector<const metadata_topic*> sorted_topics(const protocol::metadata_response& md) {
    std::vector<const metadata_topic*> out;
    for (const auto& t : md.topics) {
        out.push_back(&t);
    }
    std::sort(out.begin(), out.end(),
              [](auto* a, auto* b) { return a->name.value_or("") < b->name.value_or(""); });
    return out;
}

std::vector<const metadata_partition*> sorted_partitions(const metadata_topic& t) {
    std::vector<const metadata_partition*> out;
    for (const auto& p : t.partitions) {
        out.push_back(&p);
    }
    std::sort(out.begin(), out.end(),
              [](auto* a, auto* b) { return a->partition_index < b->partition_index; });
    return out;
}

std::vector<std::int32_t> ids_of(const std::vector<model::node_id>& ids) {
    std::vector<std::int32_t> out;
    for (auto id : ids) {
        out.push_back(id.value());
    }
    return out;
}

std::string some(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < named_partitions_max; ++i) {
        out += fmt::format("{}{}", i == 0 ? "" : ", ", names[i]);
    }
    if (names.size() > named_partitions_max) {
        out += fmt::format(", ... ({} more)", names.size() - named_partitions_max);
    }
    return out;
}

std::string error_name(std::int16_t code) {
    auto info = model::kafka_error_lookup(code);
    return info ? std::string(info->name) : fmt::format("UNKNOWN_ERROR({})", code);
}

std::vector<std::string> health_problems(const health_report& r) {
    std::vector<std::string> problems;
    if (!r.brokers_down.empty()) {
        std::string ids;
        for (auto id : r.brokers_down) {
            ids += fmt::format("{}{}", ids.empty() ? "" : ",", id);
        }
        problems.push_back(fmt::format("broker(s) {} down", ids));
    } else if (r.brokers_expected > r.brokers_up.size()) {
        problems.push_back(
            fmt::format("{}/{} brokers up", r.brokers_up.size(), r.brokers_expected));
    }
    if (r.controller < 0) {
        problems.push_back("no controller");
    }
    if (!r.leaderless.empty()) {
        problems.push_back(fmt::format("{} partition(s) without a leader ({})", r.leaderless.size(),
                                       some(r.leaderless)));
    }
    if (!r.under_replicated.empty()) {
        problems.push_back(fmt::format("{} under-replicated partition(s) ({})",
                                       r.under_replicated.size(), some(r.under_replicated)));
    }
    return problems;
}

}  // namespace

std::string join_ids(const std::vector<model::node_id>& ids) {
    std::string out;
    for (auto id : ids) {
        out += fmt::format("{}{}", out.empty() ? "" : ",", id.value());
    }
    return out;
}

health_report assess_health(const protocol::metadata_response& md,
                            const broker_expectation& expected) {
    health_report r;
    for (const auto& b : md.brokers) {
        r.brokers_up.push_back(b.node_id.value());
    }
    std::sort(r.brokers_up.begin(), r.brokers_up.end());
    for (auto id : expected.ids) {
        if (!std::binary_search(r.brokers_up.begin(), r.brokers_up.end(), id)) {
            r.brokers_down.push_back(id);
        }
    }
    r.brokers_expected = expected.ids.empty() ? expected.count.value_or(0) : expected.ids.size();
    r.controller = md.controller_id.value();
    for (const auto* t : sorted_topics(md)) {
        for (const auto* p : sorted_partitions(*t)) {
            auto name = fmt::format("{}-{}", t->name.value_or("?"), p->partition_index.value());
            ++r.partitions;
            if (p->leader_id.value() < 0) {
                r.leaderless.push_back(name);
            }
            if (p->isr_nodes.size() < p->replica_nodes.size()) {
                r.under_replicated.push_back(name);
            }
        }
    }
    r.healthy = health_problems(r).empty();
    return r;
}

std::string render_health(const health_report& r, output_format f) {
    if (f == output_format::json) {
        ojson j = {{"healthy", r.healthy},
                   {"brokers_expected", r.brokers_expected},
                   {"brokers_up", r.brokers_up},
                   {"brokers_down", r.brokers_down},
                   {"controller_id", r.controller},
                   {"partitions", r.partitions},
                   {"leaderless_partitions", r.leaderless},
                   {"under_replicated_partitions", r.under_replicated}};
        return j.dump() + "\n";
    }
    if (r.healthy) {
        return fmt::format(
            "healthy: {} broker(s) up, controller {}, {} partition(s) all led, "
            "none under-replicated\n",
            r.brokers_up.size(), r.controller, r.partitions);
    }
    std::string out = "unhealthy: ";
    auto problems = health_problems(r);
    for (std::size_t i = 0; i < problems.size(); ++i) {
        out += fmt::format("{}{}", i == 0 ? "" : "; ", problems[i]);
    }
    return out + "\n";
}

bool partition_matches(const metadata_partition& p, partition_filter f,
                       const std::vector<std::int32_t>& live_brokers,
                       std::optional<std::int32_t> min_isr) {
    switch (f) {
        case partition_filter::all:
            return true;
        case partition_filter::under_replicated:
            return p.isr_nodes.size() < p.replica_nodes.size();
        case partition_filter::under_min_isr:
            return min_isr && static_cast<std::int64_t>(p.isr_nodes.size()) < *min_isr;
        case partition_filter::unavailable:
            return p.leader_id.value() < 0 || std::find(live_brokers.begin(), live_brokers.end(),
                                                        p.leader_id.value()) == live_brokers.end();
    }
    return false;
}

std::string render_topic_list(const protocol::metadata_response& md, output_format f) {
    ojson j = ojson::array();
    std::string text;
    for (const auto* t : sorted_topics(md)) {
        auto rf = t->partitions.empty() ? 0 : t->partitions.front().replica_nodes.size();
        j.push_back({{"name", t->name.value_or("")},
                     {"partitions", t->partitions.size()},
                     {"replication_factor", rf},
                     {"internal", t->is_internal}});
        text += t->name.value_or("") + "\n";
    }
    return f == output_format::json ? j.dump() + "\n" : text;
}

namespace {

ojson partition_json(const metadata_partition& p) {
    ojson j = {{"partition", p.partition_index.value()},
               {"leader", p.leader_id.value()},
               {"leader_epoch", p.leader_epoch.value()},
               {"replicas", ids_of(p.replica_nodes)},
               {"isr", ids_of(p.isr_nodes)},
               {"offline_replicas", ids_of(p.offline_replicas)}};
    if (p.error_code != 0) {
        j["error"] = error_name(p.error_code);
    }
    return j;
}

std::string partition_text(const std::string& topic, const metadata_partition& p) {
    std::string line = fmt::format(
        "\tTopic: {}\tPartition: {}\tLeader: {}\tLeaderEpoch: {}\tReplicas: {}\tIsr: {}", topic,
        p.partition_index.value(),
        p.leader_id.value() < 0 ? std::string("none") : std::to_string(p.leader_id.value()),
        p.leader_epoch.value(), join_ids(p.replica_nodes), join_ids(p.isr_nodes));
    if (!p.offline_replicas.empty()) {
        line += fmt::format("\tOffline: {}", join_ids(p.offline_replicas));
    }
    if (p.error_code != 0) {
        line += fmt::format("\tError: {}", error_name(p.error_code));
    }
    return line + "\n";
}

}  // namespace

std::string config_source_name(std::int8_t source) {
    switch (source) {
        case 1: return "DYNAMIC_TOPIC_CONFIG";
        case 2: return "DYNAMIC_BROKER_CONFIG";
        case 3: return "DYNAMIC_DEFAULT_BROKER_CONFIG";
        case 4: return "STATIC_BROKER_CONFIG";
        case 5: return "DEFAULT_CONFIG";
        case 6: return "DYNAMIC_BROKER_LOGGER_CONFIG";
        default: return "UNKNOWN";
    }
}

namespace {

constexpr std::int8_t dynamic_topic_source = 1;

std::string shown_value(const topic_config_line& c) {
    return c.sensitive || !c.value ? std::string("(sensitive)") : *c.value;
}

// The topic's overrides: "\tConfigs: k=v,..." for the header line, and their JSON.
std::string override_text(const std::vector<topic_config_line>& cfgs, ojson& json) {
    std::vector<std::string> parts;
    json = ojson::object();
    for (const auto& c : cfgs) {
        if (c.source == dynamic_topic_source) {
            parts.push_back(c.name + "=" + shown_value(c));
            json[c.name] = c.sensitive || !c.value ? ojson(nullptr) : ojson(*c.value);
        }
    }
    return parts.empty() ? std::string() : fmt::format("\tConfigs: {}", fmt::join(parts, ","));
}

std::string all_config_text(const std::vector<topic_config_line>& cfgs, ojson& json) {
    std::string text;
    json = ojson::array();
    for (const auto& c : cfgs) {
        text += fmt::format("\tConfig: {}={}\tsource: {}\n", c.name, shown_value(c),
                            config_source_name(c.source));
        json.push_back({{"name", c.name},
                        {"value", c.sensitive || !c.value ? ojson(nullptr) : ojson(*c.value)},
                        {"source", config_source_name(c.source)},
                        {"sensitive", c.sensitive}});
    }
    return text;
}

struct topic_rendering {
    ojson json;
    std::string text;
};

topic_rendering render_one_topic(const metadata_topic& t, const std::vector<std::int32_t>& live,
                                 partition_filter f, std::optional<std::int32_t> topic_min_isr,
                                 const std::vector<topic_config_line>* cfgs, bool all_configs) {
    auto name = t.name.value_or("");
    ojson parts = ojson::array();
    std::string lines;
    for (const auto* p : sorted_partitions(t)) {
        if (partition_matches(*p, f, live, topic_min_isr)) {
            parts.push_back(partition_json(*p));
            lines += partition_text(name, *p);
        }
    }
    if (f != partition_filter::all && parts.empty()) {
        return {};
    }
    auto rf = t.partitions.empty() ? 0 : t.partitions.front().replica_nodes.size();
    ojson tj = {{"name", name}, {"partitions", t.partitions.size()}, {"replication_factor", rf}};
    if (topic_min_isr) {
        tj["min_insync_replicas"] = *topic_min_isr;
    }
    if (t.error_code != 0) {
        tj["error"] = error_name(t.error_code);
    }
    std::string overrides;
    std::string every;
    if (cfgs != nullptr) {
        ojson oj;
        overrides = override_text(*cfgs, oj);
        tj["configs"] = oj;
        if (all_configs) {
            ojson aj;
            every = all_config_text(*cfgs, aj);
            tj["all_configs"] = aj;
        }
    }
    tj["partition_details"] = parts;
    std::string text = fmt::format(
        "Topic: {}\tPartitionCount: {}\tReplicationFactor: {}{}{}{}\n", name,
        t.partitions.size(), rf,
        topic_min_isr ? fmt::format("\tmin.insync.replicas: {}", *topic_min_isr) : std::string(),
        t.error_code != 0 ? "\tError: " + error_name(t.error_code) : std::string(), overrides);
    return {tj, text + every + lines};
}

}  // namespace

std::string render_topic_describe(const protocol::metadata_response& md, partition_filter f,
                                  const min_isr_map& min_isr, output_format fmt_,
                                  const std::string& note, const topic_configs_map& configs,
                                  bool all_configs) {
    std::vector<std::int32_t> live;
    for (const auto& b : md.brokers) {
        live.push_back(b.node_id.value());
    }
    ojson topics = ojson::array();
    std::string text = note.empty() ? "" : note + "\n";
    for (const auto* t : sorted_topics(md)) {
        auto name = t->name.value_or("");
        auto mi = min_isr.find(name);
        std::optional<std::int32_t> topic_min_isr;
        if (mi != min_isr.end()) {
            topic_min_isr = mi->second;
        }
        auto c = configs.find(name);
        auto r = render_one_topic(*t, live, f, topic_min_isr,
                                  c == configs.end() ? nullptr : &c->second, all_configs);
        if (!r.json.is_null()) {
            topics.push_back(std::move(r.json));
            text += r.text;
        }
    }
    if (fmt_ == output_format::json) {
        ojson j = {{"topics", topics}};
        if (!note.empty()) {
            j["note"] = note;
        }
        return j.dump() + "\n";
    }
    return text;
}

std::string render_reassignments(const protocol::list_partition_reassignments_response& r,
                                 const std::vector<std::string>& topics, output_format f) {
    auto ints = [](const std::vector<model::node_id>& v) {
        std::vector<std::int32_t> out;
        for (model::node_id id : v) {
            out.push_back(id());
        }
        return out;
    };
    ojson all = ojson::array();
    std::string text;
    for (const auto& t : r.topics) {
        if (!topics.empty() && std::find(topics.begin(), topics.end(), t.name) == topics.end()) {
            continue;
        }
        for (const auto& p : t.partitions) {
            all.push_back({{"topic", t.name},
                           {"partition", p.partition_index()},
                           {"replicas", ints(p.replicas)},
                           {"adding", ints(p.adding_replicas)},
                           {"removing", ints(p.removing_replicas)}});
            text += fmt::format("Topic: {}\tPartition: {}\tReplicas: {}\tAdding: {}\tRemoving: {}\n",
                                t.name, p.partition_index(), fmt::join(ints(p.replicas), ","),
                                fmt::join(ints(p.adding_replicas), ","),
                                fmt::join(ints(p.removing_replicas), ","));
        }
    }
    if (f == output_format::json) {
        return ojson{{"reassignments", all}}.dump() + "\n";
    }
    return text.empty() ? "no reassignments in progress\n" : text;
}

}  // namespace gregor::admin

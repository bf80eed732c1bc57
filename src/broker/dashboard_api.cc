#include "broker/dashboard_api.h"

#include "group/service.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <span>
#include <tuple>
#include <vector>

namespace gregor::broker {
namespace {

using json = nlohmann::ordered_json;

json ids(const std::vector<model::node_id>& v) {
    json a = json::array();
    for (auto id : v) {
        a.push_back(id());
    }
    return a;
}

// Kafka's definitions: offline = no live leader; under-replicated = fewer in-sync replicas
// than replicas.
enum class health { offline = 0, under_replicated = 1, ok = 2 };

health health_of(const metadata_cache& cache, const cached_partition& p) {
    if (p.leader == model::no_node || !cache.alive(p.leader)) {
        return health::offline;
    }
    return p.isr.size() < p.replicas.size() ? health::under_replicated : health::ok;
}

constexpr std::array<const char*, 3> health_names{"offline", "under-replicated", "ok"};

}  // namespace

std::string cluster_json(const metadata_cache& cache, model::node_id self, std::size_t limit) {
    limit = std::min(limit, partitions_max);
    struct row {
        health h;
        const std::string* topic;
        model::partition_id partition;
        const cached_partition* state;
    };
    std::vector<row> rows;
    std::array<std::size_t, 3> counts{};
    for (const auto& [topic, parts] : cache.topics()) {
        for (const auto& [p, s] : parts) {
            const health h = health_of(cache, s);
            ++counts[static_cast<std::size_t>(h)];
            rows.push_back(row{h, &topic, p, &s});
        }
    }
    // Problems first; the partial sort keeps a 100,000-partition answer cheap.
    const auto key = [](const row& r) { return std::tie(r.h, *r.topic, r.partition); };
    const std::size_t shown = std::min(limit, rows.size());
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(shown), rows.end(),
                      [&](const row& a, const row& b) { return key(a) < key(b); });
    json partitions = json::array();
    for (std::size_t i = 0; i < shown; ++i) {
        const row& r = rows[i];
        partitions.push_back({{"topic", *r.topic},
                              {"partition", r.partition()},
                              {"leader", r.state->leader()},
                              {"leader_epoch", r.state->leader_epoch()},
                              {"replicas", ids(r.state->replicas)},
                              {"isr", ids(r.state->isr)},
                              {"offline_replicas", ids(r.state->offline_replicas)},
                              {"state", health_names[static_cast<std::size_t>(r.h)]}});
    }
    json brokers = json::array();
    for (const auto& b : cache.brokers()) {
        const cached_endpoint* e = b.endpoints.empty() ? nullptr : &b.endpoints.front();
        brokers.push_back({{"id", b.id()},
                           {"host", e != nullptr ? e->host : ""},
                           {"port", e != nullptr ? e->port : 0},
                           {"rack", b.rack ? json(*b.rack) : json(nullptr)}});
    }
    json controllers = json::array();
    for (const auto& c : cache.controller_history()) {
        controllers.push_back({{"id", c.id()}, {"epoch", c.epoch()}, {"seen_ms", c.seen()}});
    }
    const auto& history = cache.controller_history();
    json out = {{"broker", self()},
                {"controller", cache.controller()()},
                {"controller_epoch", history.empty() ? -1 : history.back().epoch()},
                {"controllers", controllers},
                {"brokers", brokers},
                {"topics_total", cache.topics().size()},
                {"partitions_total", rows.size()},
                {"offline", counts[0]},
                {"under_replicated", counts[1]},
                {"partitions", partitions}};
    return out.dump();
}

std::string groups_json(const group::group_service& groups,
                        const watermark_source& high_watermark) {
    const auto listed = groups.list({}, {});
    json arr = json::array();
    for (const auto& g : listed.groups) {
        if (arr.size() == groups_max) {
            break;  // the answer stays bounded; groups_total says how many there are
        }
        const auto d = groups.describe(g.group_id);
        const auto committed = groups.fetch(g.group_id, std::nullopt, false);
        json parts = json::array();
        std::optional<std::int64_t> lag_sum;
        for (const auto& o : committed.offsets) {
            if (o.error != model::kafka_error::none || o.offset < model::offset(0)) {
                continue;
            }
            auto hw = high_watermark ? high_watermark(o.tp) : std::nullopt;
            json lag = nullptr;
            if (hw) {
                const std::int64_t l = std::max<std::int64_t>(0, (*hw)() - o.offset());
                lag = l;
                lag_sum = lag_sum.value_or(0) + l;
            }
            parts.push_back({{"topic", o.tp.topic},
                             {"partition", o.tp.partition()},
                             {"committed", o.offset()},
                             {"lag", lag}});
        }
        arr.push_back({{"group", g.group_id},
                       {"state", d.state.empty() ? g.state : d.state},
                       {"protocol_type", g.protocol_type},
                       {"protocol", d.protocol_data},
                       {"members", d.members.size()},
                       {"lag", lag_sum ? json(*lag_sum) : json(nullptr)},
                       {"partitions", parts}});
    }
    return json{{"groups_total", listed.groups.size()}, {"groups", arr}}.dump();
}

}  // namespace gregor::broker

#include "bench/metadata_probe.h"

#include "protocol/messages/metadata.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::bench {
namespace {

constexpr std::int16_t metadata_version = 5;  // controller id (v1+), plain encoding (< v9)

cluster_view to_view(const protocol::metadata_response& m, const std::string& topic) {
    cluster_view v;
    v.controller = m.controller_id.value();
    for (const auto& b : m.brokers) {
        v.brokers.push_back(b.node_id.value());
    }
    std::sort(v.brokers.begin(), v.brokers.end());
    for (const auto& t : m.topics) {
        if (t.name && *t.name == topic) {
            v.leaders.assign(t.partitions.size(), -1);
            for (const auto& p : t.partitions) {
                auto i = static_cast<std::size_t>(p.partition_index.value());
                if (i < v.leaders.size()) {
                    v.leaders[i] = p.leader_id.value();
                }
            }
        }
    }
    return v;
}

}  // namespace

metadata_probe::metadata_probe(std::string host, int port) : connection_(std::move(host), port) {}

result<cluster_view> metadata_probe::ask(const std::string& topic,
                                         std::chrono::milliseconds timeout) {
    protocol::metadata_request req;
    req.topics.emplace();
    req.topics->push_back({});
    req.topics->back().name = topic;
    req.allow_auto_topic_creation = false;
    GREGOR_TRY(auto m, connection_.call<protocol::metadata_api>(req, metadata_version, timeout));
    return to_view(m, topic);
}

}  // namespace gregor::bench

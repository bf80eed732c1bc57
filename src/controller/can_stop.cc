#include "controller/can_stop.h"

#include "controller/topic_rules.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace gregor::controller {
namespace {

std::int32_t min_isr_of(const topic_record& t, const std::string& broker_default) {
    auto it = t.config.find("min.insync.replicas");
    const std::string& text = it != t.config.end() ? it->second : broker_default;
    std::int32_t v = 1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc{} && end == text.data() + text.size() && v >= 1 ? v : 1;
}

}  // namespace

can_stop_answer check_can_stop(const controller_context& ctx, model::node_id broker,
                               const std::map<std::string, std::string>& broker_props) {
    can_stop_answer out;
    out.broker = broker;
    if (!ctx.live(broker)) {
        out.running = false;
        return out;
    }
    const auto* def = find_topic_config("min.insync.replicas");
    const std::string broker_min = def != nullptr ? topic_config_default(*def, broker_props) : "1";
    for (const auto& [name, t] : ctx.topics) {
        if (t.deleting) {
            continue;
        }
        const std::int32_t min_isr = min_isr_of(t, broker_min);
        for (const auto& [id, p] : t.partitions) {
            if (std::find(p.replicas.begin(), p.replicas.end(), broker) == p.replicas.end()) {
                continue;
            }
            ++out.partitions_checked;
            model::topic_partition tp{name, id};
            std::size_t left = 0;
            for (auto r : p.state.isr) {
                if (r != broker && ctx.replica_live(r, tp)) {
                    ++left;
                }
            }
            if (left == 0) {
                out.blockers.push_back(
                    {tp, "no other in-sync replica is live: the partition would go offline"});
            } else if (static_cast<std::int32_t>(left) < min_isr) {
                out.blockers.push_back(
                    {tp, fmt::format("the ISR would shrink to {}, below min.insync.replicas={}: "
                                     "acks=all producers would fail",
                                     left, min_isr)});
            }
        }
    }
    out.can_stop = out.blockers.empty();
    return out;
}

std::string to_json(const can_stop_answer& a) {
    nlohmann::ordered_json blockers = nlohmann::ordered_json::array();
    for (const auto& b : a.blockers) {
        blockers.push_back(
            {{"topic", b.tp.topic}, {"partition", b.tp.partition()}, {"reason", b.reason}});
    }
    nlohmann::ordered_json j = {{"broker", a.broker()},
                                {"can_stop", a.can_stop},
                                {"partitions_checked", a.partitions_checked},
                                {"running", a.running},
                                {"blockers", blockers}};
    return j.dump();
}

}  // namespace gregor::controller

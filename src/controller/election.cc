#include "controller/election.h"

#include <algorithm>
#include <cstdint>
#include <map>

namespace gregor::controller {
namespace {

using model::node_id;
using id_span = std::span<const node_id>;

bool contains(id_span list, node_id id) {
    return std::find(list.begin(), list.end(), id) != list.end();
}

// The members of `list` for which `keep` holds, in order, each id once.
template <class Predicate>
std::vector<node_id> select(id_span list, Predicate keep) {
    std::vector<node_id> out;
    for (node_id id : list) {
        if (keep(id) && !contains(out, id)) {
            out.push_back(id);
        }
    }
    return out;
}

template <class Predicate>
std::optional<node_id> first_where(id_span list, Predicate pred) {
    auto it = std::find_if(list.begin(), list.end(), pred);
    if (it == list.end()) {
        return std::nullopt;
    }
    return *it;
}

}  // namespace

std::optional<election_outcome> elect_initial(id_span assignment, const broker_set& live) {
    auto is_live = [&](node_id id) { return live.contains(id); };
    auto leader = first_where(assignment, is_live);
    if (!leader) {
        return std::nullopt;
    }
    return election_outcome{*leader, select(assignment, is_live)};
}

std::optional<election_outcome> elect_offline(id_span assignment, id_span isr,
                                              const broker_set& live, bool allow_unclean) {
    auto is_live = [&](node_id id) { return live.contains(id); };
    auto clean =
        first_where(assignment, [&](node_id id) { return is_live(id) && contains(isr, id); });
    if (clean) {
        auto new_isr =
            select(isr, [&](node_id id) { return is_live(id) && contains(assignment, id); });
        return election_outcome{*clean, std::move(new_isr)};
    }
    if (!allow_unclean) {
        return std::nullopt;
    }
    auto unclean = first_where(assignment, is_live);
    if (!unclean) {
        return std::nullopt;
    }
    return election_outcome{*unclean, {*unclean}, true};
}

std::optional<election_outcome> elect_preferred(id_span assignment, id_span isr,
                                                const broker_set& live) {
    if (assignment.empty()) {
        return std::nullopt;
    }
    node_id preferred = assignment.front();
    if (!live.contains(preferred) || !contains(isr, preferred)) {
        return std::nullopt;
    }
    return election_outcome{preferred, select(isr, [](node_id) { return true; })};
}

std::optional<election_outcome> elect_controlled_shutdown(id_span assignment, id_span isr,
                                                          const broker_set& live,
                                                          const broker_set& shutting_down) {
    auto staying = [&](node_id id) { return !shutting_down.contains(id); };
    auto leader = first_where(assignment, [&](node_id id) {
        return contains(isr, id) && live.contains(id) && staying(id);
    });
    if (!leader) {
        return std::nullopt;
    }
    return election_outcome{*leader, select(isr, staying)};
}

std::optional<election_outcome> elect_reassign(id_span target, id_span isr,
                                               const broker_set& live) {
    auto leader =
        first_where(target, [&](node_id id) { return live.contains(id) && contains(isr, id); });
    if (!leader) {
        return std::nullopt;
    }
    return election_outcome{*leader, select(isr, [](node_id) { return true; })};
}

leader_isr remove_from_isr(const leader_isr& current, node_id replica) {
    leader_isr out = current;
    if (out.leader == replica) {
        out.leader = model::no_node;
    }
    auto others =
        std::count_if(out.isr.begin(), out.isr.end(), [&](node_id id) { return id != replica; });
    if (others > 0) {
        std::erase(out.isr, replica);
    }
    return out;
}

std::vector<model::topic_partition> imbalanced_partitions(
    std::span<const partition_leadership> parts, const broker_set& live, int percentage) {
    std::map<node_id, std::vector<const partition_leadership*>> by_preferred;
    for (const auto& part : parts) {
        if (!part.assignment.empty()) {
            by_preferred[part.assignment.front()].push_back(&part);
        }
    }
    std::vector<model::topic_partition> out;
    for (const auto& entry : by_preferred) {
        // Named copies: clang 14 cannot capture structured bindings in lambdas.
        const node_id preferred = entry.first;
        const auto& group = entry.second;
        if (!live.contains(preferred)) {
            continue;
        }
        std::vector<const partition_leadership*> not_led;
        std::copy_if(group.begin(), group.end(), std::back_inserter(not_led),
                     [&](const partition_leadership* p) { return p->leader != preferred; });
        // ratio > percentage / 100, in integers so that the boundary is exact.
        auto not_led_scaled = static_cast<std::int64_t>(not_led.size()) * 100;
        auto limit_scaled =
            static_cast<std::int64_t>(percentage) * static_cast<std::int64_t>(group.size());
        if (not_led_scaled <= limit_scaled) {
            continue;
        }
        for (const auto* p : not_led) {
            if (elect_preferred(p->assignment, p->isr, live)) {
                out.push_back(p->tp);
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace gregor::controller

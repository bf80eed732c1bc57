// group_coordinator::check_group: one group's invariants, for tests and the simulation.
#include "group/group_coordinator.h"
#include "group/internal.h"

#include <fmt/format.h>

namespace gregor::group {
namespace {

std::string check_membership(const classic_group& g) {
    std::string broken;
    if (g.members.empty() != !g.leader.has_value() || (g.leader && !g.has(*g.leader))) {
        broken += "leader is not a member; ";
    }
    std::size_t statics = 0;
    for (const auto& [id, m] : g.members) {
        if (m.id != id) {
            broken += fmt::format("member key {} holds {}; ", id, m.id);
        }
        if (m.instance_id) {
            ++statics;
            if (g.static_member(*m.instance_id) != id) {
                broken += fmt::format("instance {} not mapped to {}; ", *m.instance_id, id);
            }
        }
        if (m.sync && !g.is(group_state::completing_rebalance)) {
            broken += fmt::format("member {} parked in SyncGroup outside completing; ", id);
        }
        if (m.join && !g.is(group_state::preparing_rebalance) && !g.is(group_state::stable)) {
            broken += fmt::format("member {} parked in JoinGroup in {}; ", id, to_string(g.state));
        }
    }
    if (statics != g.static_members.size()) {
        broken += "static member map has extra entries; ";
    }
    for (const auto& id : g.pending_sync) {
        if (!g.has(id)) {
            broken += fmt::format("pending sync {} is not a member; ", id);
        }
    }
    return broken;
}

std::string check_state(const classic_group& g, std::size_t max_size) {
    std::string broken;
    bool active = g.is(group_state::completing_rebalance) || g.is(group_state::stable);
    if (g.is(group_state::dead)) {
        broken += "dead group kept; ";
    }
    if (g.is(group_state::empty) && (!g.members.empty() || g.protocol)) {
        broken += "empty group with members or a protocol; ";
    }
    if (active && (g.members.empty() || !g.protocol)) {
        broken += "active group without members or protocol; ";
    }
    if (g.join.has_value() != g.is(group_state::preparing_rebalance)) {
        broken += "join phase and state disagree; ";
    }
    if (!active && !g.pending_sync.empty()) {
        broken += "pending syncs outside completing/stable; ";
    }
    if (g.assignment_append && !g.is(group_state::completing_rebalance)) {
        broken += "assignment write outside completing; ";
    }
    if (g.awaiting_join_count() > max_size ||
        (!g.is(group_state::preparing_rebalance) && g.members.size() > max_size)) {
        broken += fmt::format("{} members over group.max.size {}; ", g.members.size(), max_size);
    }
    return broken;
}

}  // namespace

std::string group_coordinator::check_group(const classic_group& g, model::timestamp_ms now) const {
    std::string broken = check_membership(g) + check_state(g, static_cast<std::size_t>(cfg_.max_size));
    auto join_at = timers_.when(detail::join_key(g));
    if (g.is(group_state::preparing_rebalance) != join_at.has_value()) {
        broken += "join deadline and state disagree; ";
    }
    bool sync_armed = timers_.armed(detail::sync_key(g));
    if (sync_armed == g.pending_sync.empty()) {
        broken += "sync deadline and pending syncs disagree; ";
    }
    // A group never waits in CompletingRebalance without a deadline or a write in flight.
    if (g.is(group_state::completing_rebalance) && !sync_armed && !g.assignment_append) {
        broken += "completing with neither a sync deadline nor an assignment write; ";
    }
    for (const auto& [id, m] : g.members) {
        if (!timers_.armed(detail::session_key(g, id))) {
            broken += fmt::format("member {} has no session deadline; ", id);
        }
    }
    for (const auto& id : g.pending_members) {
        if (!timers_.armed(detail::pending_key(g, id))) {
            broken += fmt::format("pending member {} has no deadline; ", id);
        }
    }
    (void)now;
    return broken.empty() ? "" : fmt::format("group {}: {}", g.id, broken);
}

}  // namespace gregor::group

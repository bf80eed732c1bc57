// group_coordinator: what fires when (Kafka 3.8's DelayedJoin, InitialDelayedJoin,
// DelayedSync, DelayedHeartbeat and the pending-member expiry) and the invariant check.
#include "base/assert.h"
#include "group/group_coordinator.h"
#include "group/internal.h"
#include "group/logger.h"

#include <fmt/format.h>

namespace gregor::group {

effects group_coordinator::on_time(model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    // A fired timer is re-armed at least 1 ms ahead, except an initial join delay of zero,
    // which re-arms at `now` at most once per group (its new-member flag is cleared first).
    std::size_t fuel = 2 * timers_.size() + 2 * groups_.size() + 16;
    while (auto key = timers_.pop_due(now)) {
        GREGOR_ASSERT(fuel-- > 0, "timers keep firing at {}", now);
        fire(*key, now);
    }
    return take_effects();
}

void group_coordinator::fire(const timer_key& key, model::timestamp_ms now) {
    classic_group* g = find_group(key.group_id);
    GREGOR_ASSERT(g != nullptr, "timer of unknown group {}", key.group_id);
    switch (key.kind) {
    case timer_kind::join:
        on_join_deadline(*g, now);
        break;
    case timer_kind::sync:
        on_sync_deadline(*g, now);
        break;
    case timer_kind::session:
        on_session_deadline(*g, key.member_id, now);
        break;
    case timer_kind::pending_member:
        // The member never came back with its id (KIP-394): forget it silently.
        GREGOR_LOG(group_log, debug, "group={} pending member={} expired", g->id, key.member_id);
        g->pending_members.erase(key.member_id);
        maybe_complete_join(*g, now);
        break;
    }
    maybe_drop_unused(*g, now);
}

void group_coordinator::on_join_deadline(classic_group& g, model::timestamp_ms now) {
    GREGOR_ASSERT(g.is(group_state::preparing_rebalance) && g.join.has_value(),
                  "group {}: join deadline in {}", g.id, to_string(g.state));
    join_phase& phase = *g.join;
    if (phase.initial && g.new_member_added && phase.remaining_ms != 0) {
        // KIP-134: a member arrived during the delay; wait once more, within the
        // rebalance timeout.
        g.new_member_added = false;
        std::int64_t delay = std::min(detail::ms(cfg_.initial_rebalance_delay), phase.remaining_ms);
        phase.remaining_ms = std::max<std::int64_t>(phase.remaining_ms - phase.delay_ms, 0);
        phase.delay_ms = delay;
        timers_.arm(detail::join_key(g), now + delay);
        return;
    }
    complete_join(g, now);
}

void group_coordinator::on_sync_deadline(classic_group& g, model::timestamp_ms now) {
    GREGOR_ASSERT(g.is(group_state::completing_rebalance) || g.is(group_state::stable),
                  "group {}: sync deadline in {}", g.id, to_string(g.state));
    GREGOR_ASSERT(!g.pending_sync.empty(), "group {}: sync deadline with nobody late", g.id);
    // KAFKA-12890: members that never sent SyncGroup leave, the others rebalance.
    std::vector<std::string> late(g.pending_sync.begin(), g.pending_sync.end());
    for (const auto& id : late) {
        remove_member(g, id, "no SyncGroup before the deadline");
    }
    prepare_rebalance(g, now, "members did not send SyncGroup");
}

void group_coordinator::on_session_deadline(classic_group& g, std::string_view member_id,
                                            model::timestamp_ms now) {
    group_member* m = g.find(member_id);
    GREGOR_ASSERT(m != nullptr, "group {}: session timer of unknown member {}", g.id, member_id);
    // A member parked in JoinGroup or SyncGroup cannot heartbeat: it is kept alive, except a
    // new member, which only the new-member timeout bounds.
    if (!m->is_new && (m->join || m->sync)) {
        arm_session(g, *m, now, m->session_timeout_ms);
        return;
    }
    remove_member_and_update(g, member_id, now,
                             m->is_new ? "new member join timeout" : "session expired");
}

std::string group_coordinator::check_invariants(model::timestamp_ms now) const {
    std::string broken;
    if (!timers_.consistent()) {
        broken += "timer index inconsistent; ";
    }
    if (auto next = timers_.next(); next && *next <= now) {
        broken += fmt::format("timer due at {} not fired at {}; ", *next, now);
    }
    timers_.for_each([&](const timer_key& key, model::timestamp_ms) {
        if (find(key.group_id) == nullptr) {
            broken += fmt::format("timer of unknown group {}; ", key.group_id);
        }
    });
    for (const auto& [token, pa] : appends_) {
        if (find(pa.group_id) == nullptr) {
            broken += fmt::format("append {} of unknown group {}; ", token, pa.group_id);
        }
    }
    for (const auto& [id, g] : groups_) {
        broken += check_group(g, now);
    }
    return broken;
}

}  // namespace gregor::group

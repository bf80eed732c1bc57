// group_coordinator: the rebalance machinery (Kafka 3.8's prepareRebalance, onCompleteJoin,
// member removal, assignment propagation) shared by every API and timer.
#include "base/assert.h"
#include "group/group_coordinator.h"
#include "group/internal.h"
#include "group/logger.h"
#include "group/transitions.h"

#include <limits>

namespace gregor::group {

using model::kafka_error;

void group_coordinator::maybe_prepare_rebalance(classic_group& g, model::timestamp_ms now,
                                                std::string_view reason) {
    if (can_rebalance(g.state)) {
        prepare_rebalance(g, now, reason);
    }
}

void group_coordinator::prepare_rebalance(classic_group& g, model::timestamp_ms now,
                                          std::string_view reason) {
    if (g.is(group_state::completing_rebalance)) {
        reset_and_propagate_error(g, kafka_error::rebalance_in_progress, now);
    }
    timers_.cancel(detail::sync_key(g));
    g.pending_sync.clear();
    g.assignment_append.reset();
    std::int64_t rebalance_ms = g.rebalance_timeout_ms();
    if (g.is(group_state::empty)) {
        // KIP-134: wait group.initial.rebalance.delay.ms for more members, never early.
        std::int64_t delay = detail::ms(cfg_.initial_rebalance_delay);
        g.join = join_phase{true, delay, std::max<std::int64_t>(rebalance_ms - delay, 0)};
        timers_.arm(detail::join_key(g), now + delay);
    } else {
        g.join = join_phase{};
        timers_.arm(detail::join_key(g), detail::deadline_after(now, rebalance_ms));
    }
    group_state from = g.state;
    g.transition_to(group_state::preparing_rebalance, now);
    log_transition(g, from, reason);
    maybe_complete_join(g, now);
}

void group_coordinator::maybe_complete_join(classic_group& g, model::timestamp_ms now) {
    if (g.is(group_state::preparing_rebalance) && g.join && !g.join->initial &&
        g.all_members_joined()) {
        complete_join(g, now);
    }
}

void group_coordinator::complete_join(classic_group& g, model::timestamp_ms now) {
    timers_.cancel(detail::join_key(g));
    remove_unjoined_members(g);
    if (!elect_joined_leader(g) && !g.members.empty()) {
        // Only static members are left and none rejoined: wait another rebalance timeout
        // (their sessions expire them if they are gone).
        GREGOR_LOG(group_log, warn, "group={} no member rejoined; waiting again", g.id);
        g.join = join_phase{};
        timers_.arm(detail::join_key(g), detail::deadline_after(now, g.rebalance_timeout_ms()));
        return;
    }
    init_next_generation(g, now);
    if (g.is(group_state::empty)) {
        pending_append pa;
        pa.kind = append_kind::empty_group;
        pa.group_id = g.id;
        pa.generation = g.generation;
        request_append(g, g.to_record(), std::move(pa));
        return;
    }
    for (auto& [id, m] : g.members) {
        if (m.join) {
            answer_join(m, generation_response(g, m, g.is_leader(id)));
        }
        arm_session(g, m, now, m.session_timeout_ms);
        m.is_new = false;
        g.pending_sync.insert(id);
    }
    // KAFKA-12890: members that never send SyncGroup are removed after this.
    timers_.arm(detail::sync_key(g), detail::deadline_after(now, g.rebalance_timeout_ms()));
}

void group_coordinator::remove_unjoined_members(classic_group& g) {
    std::vector<std::string> gone;
    for (const auto& [id, m] : g.members) {
        if (!m.join && !m.instance_id) {
            gone.push_back(id);
        }
    }
    for (const auto& id : gone) {
        remove_member(g, id, "did not rejoin in time");
    }
    // Static members that did not rejoin stay (Kafka), unless that leaves the group over
    // group.max.size: the limit holds for every generation.
    auto max = static_cast<std::size_t>(cfg_.max_size);
    gone.clear();
    for (const auto& [id, m] : g.members) {
        if (!m.join && g.members.size() - gone.size() > max) {
            gone.push_back(id);
        }
    }
    for (const auto& id : gone) {
        remove_member(g, id, "did not rejoin and the group is full");
    }
}

bool group_coordinator::elect_joined_leader(classic_group& g) {
    if (!g.leader) {
        return false;
    }
    if (g.find(*g.leader)->join) {
        return true;  // the old leader rejoined: it stays
    }
    for (const auto& [id, m] : g.members) {
        if (m.join) {
            g.leader = id;
            return true;
        }
    }
    return false;
}

void group_coordinator::init_next_generation(classic_group& g, model::timestamp_ms now) {
    // Java's int wraps; a loaded record could carry the maximum.
    g.generation = g.generation == std::numeric_limits<std::int32_t>::max()
                       ? std::numeric_limits<std::int32_t>::min()
                       : g.generation + 1;
    group_state from = g.state;
    g.join.reset();
    g.pending_sync.clear();
    if (!g.members.empty()) {
        g.protocol = g.select_protocol();
        g.subscribed_topics = g.compute_subscribed_topics();
        g.transition_to(group_state::completing_rebalance, now);
    } else {
        g.protocol.reset();
        g.subscribed_topics = g.compute_subscribed_topics();
        g.transition_to(group_state::empty, now);
    }
    log_transition(g, from, "join phase complete");
}

void group_coordinator::remove_member(classic_group& g, std::string_view member_id,
                                      std::string_view reason) {
    group_member& m = *g.find(member_id);
    if (m.join) {
        join_response r;
        r.error = kafka_error::unknown_member_id;
        answer_join(m, std::move(r));
    }
    if (m.sync) {
        answer_sync(m, sync_failure(kafka_error::unknown_member_id));
    }
    timers_.cancel(detail::session_key(g, member_id));
    GREGOR_LOG(group_log, info, "group={} member={} removed: {}", g.id, member_id, reason);
    g.remove(member_id);
    if (g.pending_sync.empty()) {
        timers_.cancel(detail::sync_key(g));
    }
}

void group_coordinator::remove_member_and_update(classic_group& g, std::string_view member_id,
                                                 model::timestamp_ms now,
                                                 std::string_view reason) {
    remove_member(g, member_id, reason);
    switch (g.state) {
    case group_state::stable:
    case group_state::completing_rebalance:
        return maybe_prepare_rebalance(g, now, reason);
    case group_state::preparing_rebalance:
        return maybe_complete_join(g, now);
    case group_state::empty:
    case group_state::dead:
        return;
    }
}

void group_coordinator::remove_pending_member(classic_group& g, std::string_view member_id,
                                              model::timestamp_ms now) {
    g.pending_members.erase(g.pending_members.find(member_id));
    timers_.cancel(detail::pending_key(g, member_id));
    maybe_complete_join(g, now);
}

void group_coordinator::remove_pending_sync(classic_group& g, std::string_view member_id) {
    auto it = g.pending_sync.find(member_id);
    if (it != g.pending_sync.end()) {
        g.pending_sync.erase(it);
        if (g.pending_sync.empty()) {
            timers_.cancel(detail::sync_key(g));
        }
    }
}

void group_coordinator::reset_and_propagate_error(classic_group& g, kafka_error error,
                                                  model::timestamp_ms now) {
    GREGOR_ASSERT(g.is(group_state::completing_rebalance), "group {}: reset in {}", g.id,
                  to_string(g.state));
    for (auto& [_, m] : g.members) {
        m.assignment.clear();
    }
    propagate_assignment(g, error, now);
}

void group_coordinator::propagate_assignment(classic_group& g, kafka_error error,
                                             model::timestamp_ms now) {
    for (auto& [_, m] : g.members) {
        if (m.sync) {
            answer_sync(m, sync_response{error, g.protocol_type, g.protocol, m.assignment});
            arm_session(g, m, now, m.session_timeout_ms);
        }
    }
}

void group_coordinator::answer_join(group_member& m, join_response response) {
    GREGOR_ASSERT(m.join.has_value(), "member {}: no JoinGroup to answer", m.id);
    out_.push_back(join_reply{m.join->token, std::move(response)});
    m.join.reset();
}

void group_coordinator::answer_sync(group_member& m, sync_response response) {
    GREGOR_ASSERT(m.sync.has_value(), "member {}: no SyncGroup to answer", m.id);
    out_.push_back(sync_reply{*m.sync, std::move(response)});
    m.sync.reset();
}

join_response group_coordinator::generation_response(const classic_group& g,
                                                     const group_member& m,
                                                     bool with_members) const {
    join_response r;
    r.generation_id = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol;
    r.leader = g.leader.value_or("");
    r.member_id = m.id;
    if (with_members) {
        r.members = g.member_list();
    }
    return r;
}

void group_coordinator::arm_session(const classic_group& g, const group_member& m,
                                    model::timestamp_ms now, std::int64_t timeout_ms) {
    timers_.arm(detail::session_key(g, m.id), detail::deadline_after(now, timeout_ms));
}

void group_coordinator::log_transition(const classic_group& g, group_state from,
                                       std::string_view reason) const {
    GREGOR_LOG(group_log, info,
               "group={} partition={} state={}->{} generation={} members={} reason=\"{}\"", g.id,
               g.partition, to_string(from), to_string(g.state), g.generation, g.members.size(),
               reason);
}

}  // namespace gregor::group

// group_coordinator: JoinGroup (Kafka 3.8's handleJoinGroup and the static-member paths).
#include "base/assert.h"
#include "base/limits.h"
#include "group/group_coordinator.h"
#include "group/append_errors.h"
#include "group/internal.h"
#include "group/logger.h"

namespace gregor::group {

using model::kafka_error;

namespace {

join_response join_error(kafka_error error, std::string member_id) {
    join_response r;
    r.error = error;
    r.member_id = std::move(member_id);
    return r;
}

std::int32_t rebalance_timeout_of(const join_request& r) {
    return r.version == 0 ? r.session_timeout_ms : r.rebalance_timeout_ms;
}

// Session timeout range (group.min/max.session.timeout.ms), then the bounds gregor adds on
// what one member may make the coordinator hold.
kafka_error check_join_request(const join_request& r, const group_config& cfg) {
    auto session = std::chrono::milliseconds(r.session_timeout_ms);
    if (session < cfg.min_session_timeout || session > cfg.max_session_timeout) {
        return kafka_error::invalid_session_timeout;
    }
    if (r.protocols.size() > limits::group_member_protocols_max) {
        return kafka_error::invalid_request;
    }
    std::size_t total = 0;
    for (const auto& p : r.protocols) {
        total += p.name.size() + p.metadata.size();
    }
    return total > limits::group_member_metadata_bytes_max ? kafka_error::invalid_request
                                                           : kafka_error::none;
}

}  // namespace

effects group_coordinator::join(model::partition_id partition, request_token token,
                                const join_request& r, model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    auto fail = [&](kafka_error e, std::string member_id) {
        out_.push_back(join_reply{token, join_error(e, std::move(member_id))});
        return take_effects();
    };
    kafka_error e = group_status(partition, r.group_id, group_api::join);
    if (e == kafka_error::none) {
        e = check_join_request(r, cfg_);
    }
    if (e != kafka_error::none) {
        return fail(e, r.member_id);
    }
    classic_group* g = find_group(r.group_id);
    if (g == nullptr) {
        // Only a member without an id may create the group.
        if (!r.member_id.empty()) {
            return fail(kafka_error::unknown_member_id, r.member_id);
        }
        g = create_group(partition, r.group_id, now);
        if (g == nullptr) {
            return fail(kafka_error::coordinator_not_available, "");
        }
    }
    if (!accept_joining_member(*g, r)) {
        if (g->has(r.member_id)) {
            remove_member(*g, r.member_id, "group.max.size reached");
        }
        out_.push_back(join_reply{token, join_error(kafka_error::group_max_size_reached, "")});
    } else if (r.member_id.empty()) {
        join_new_member(*g, token, r, now);
    } else {
        join_known_member(*g, token, r, now);
    }
    maybe_complete_join(*g, now);
    maybe_drop_unused(*g, now);
    return take_effects();
}

bool group_coordinator::accept_joining_member(const classic_group& g,
                                              const join_request& r) const {
    const group_member* m = g.find(r.member_id);
    if (m == nullptr && r.group_instance_id) {
        // A static member coming back replaces itself: it does not grow the group.
        if (auto id = g.static_member(*r.group_instance_id)) {
            m = g.find(*id);
        }
    }
    auto max = static_cast<std::size_t>(cfg_.max_size);
    switch (g.state) {
    case group_state::empty:
    case group_state::dead:
        return true;
    case group_state::preparing_rebalance:
        return (m != nullptr && m->join) || g.awaiting_join_count() < max;
    case group_state::completing_rebalance:
    case group_state::stable:
        return m != nullptr || g.members.size() < max;
    }
    return false;
}

void group_coordinator::join_new_member(classic_group& g, request_token token,
                                        const join_request& r, model::timestamp_ms now) {
    auto fail = [&](kafka_error e) { out_.push_back(join_reply{token, join_error(e, "")}); };
    if (g.is(group_state::dead)) {
        return fail(kafka_error::coordinator_not_available);
    }
    if (!g.supports(r.protocol_type, r.protocols)) {
        return fail(kafka_error::inconsistent_group_protocol);
    }
    std::string id = r.group_instance_id.value_or(r.client_id) + "-" + new_uuid_();
    GREGOR_ASSERT(!g.has(id) && !g.pending_members.contains(id), "uuid source repeated: {}", id);
    if (r.group_instance_id) {
        if (auto old = g.static_member(*r.group_instance_id)) {
            return replace_static_member(g, token, r, *old, std::move(id), now);
        }
        return add_member_and_rebalance(g, token, r, std::move(id), now);
    }
    if (r.version < 4) {
        return add_member_and_rebalance(g, token, r, std::move(id), now);
    }
    // KIP-394: hand out the id; the member joins for real with its second JoinGroup.
    if (g.pending_members.size() >= limits::group_pending_members_max) {
        return fail(kafka_error::group_max_size_reached);
    }
    g.pending_members.insert(id);
    timers_.arm(detail::pending_key(g, id), detail::deadline_after(now, r.session_timeout_ms));
    out_.push_back(join_reply{token, join_error(kafka_error::member_id_required, std::move(id))});
}

void group_coordinator::join_known_member(classic_group& g, request_token token,
                                          const join_request& r, model::timestamp_ms now) {
    auto fail = [&](kafka_error e) {
        out_.push_back(join_reply{token, join_error(e, r.member_id)});
    };
    if (g.is(group_state::dead)) {
        return fail(kafka_error::coordinator_not_available);
    }
    if (!g.supports(r.protocol_type, r.protocols)) {
        return fail(kafka_error::inconsistent_group_protocol);
    }
    if (g.pending_members.contains(r.member_id)) {
        // Pending ids are dynamic; Kafka throws on an instance id here, we refuse it.
        if (r.group_instance_id) {
            return fail(kafka_error::unknown_member_id);
        }
        timers_.cancel(detail::pending_key(g, r.member_id));
        return add_member_and_rebalance(g, token, r, r.member_id, now);
    }
    if (kafka_error e = g.check_member(r.member_id, r.group_instance_id); e != kafka_error::none) {
        return fail(e);
    }
    join_current_generation(g, token, r, now);
}

// A known member's JoinGroup, by state.
void group_coordinator::join_current_generation(classic_group& g, request_token token,
                                                const join_request& r, model::timestamp_ms now) {
    group_member& m = *g.find(r.member_id);
    switch (g.state) {
    case group_state::preparing_rebalance:
        return update_member_and_rebalance(g, m, token, r, now);
    case group_state::completing_rebalance:
        // Same metadata: a retry of a lost JoinGroup answer; the current generation again.
        if (m.matches(r.protocols)) {
            out_.push_back(join_reply{token, generation_response(g, m, g.is_leader(m.id))});
            return;
        }
        return update_member_and_rebalance(g, m, token, r, now);
    case group_state::stable:
        // The leader's JoinGroup always rebalances: it may have seen metadata change.
        if (g.is_leader(m.id) || !m.matches(r.protocols)) {
            return update_member_and_rebalance(g, m, token, r, now);
        }
        out_.push_back(join_reply{token, generation_response(g, m, false)});
        return;
    case group_state::empty:
    case group_state::dead:
        out_.push_back(join_reply{token, join_error(kafka_error::unknown_member_id, r.member_id)});
        return;
    }
}

void group_coordinator::add_member_and_rebalance(classic_group& g, request_token token,
                                                 const join_request& r, std::string member_id,
                                                 model::timestamp_ms now) {
    group_member m{.id = std::move(member_id),
                   .instance_id = r.group_instance_id,
                   .client_id = r.client_id,
                   .client_host = r.client_host,
                   .rebalance_timeout_ms = rebalance_timeout_of(r),
                   .session_timeout_ms = r.session_timeout_ms,
                   .protocol_type = r.protocol_type,
                   .protocols = r.protocols,
                   .assignment = {},
                   .join = parked_join{token, r.version},
                   .sync = std::nullopt,
                   .is_new = true};
    if (g.is(group_state::preparing_rebalance) && g.generation == 0) {
        g.new_member_added = true;  // extends the initial delay
    }
    // A new member cannot heartbeat while parked: the new-member timeout bounds its wait.
    arm_session(g, m, now, detail::ms(cfg_.new_member_join_timeout));
    GREGOR_LOG(group_log, debug, "group={} member={} added", g.id, m.id);
    g.add(std::move(m));
    maybe_prepare_rebalance(g, now, "member added");
}

void group_coordinator::update_member(classic_group& g, group_member& m, const join_request& r,
                                      std::optional<parked_join> join) {
    m.protocols = r.protocols;
    m.rebalance_timeout_ms = rebalance_timeout_of(r);
    m.session_timeout_ms = r.session_timeout_ms;
    if (join) {
        // A member has one JoinGroup in flight; an older parked one was abandoned.
        if (m.join) {
            GREGOR_LOG(group_log, debug, "group={} member={} JoinGroup replaced", g.id, m.id);
            answer_join(m, join_error(kafka_error::rebalance_in_progress, m.id));
        }
        m.join = join;
    }
}

void group_coordinator::update_member_and_rebalance(classic_group& g, group_member& m,
                                                    request_token token, const join_request& r,
                                                    model::timestamp_ms now) {
    update_member(g, m, r, parked_join{token, r.version});
    maybe_prepare_rebalance(g, now, "member rejoined");
}

// KIP-345: a static member came back with a new member id; the old id is fenced.
void group_coordinator::replace_static_member(classic_group& g, request_token token,
                                              const join_request& r, const std::string& old_id,
                                              std::string new_id, model::timestamp_ms now) {
    group_member& old = *g.find(old_id);
    pending_append pa;
    pa.kind = append_kind::static_replace;
    pa.group_id = g.id;
    pa.generation = g.generation;
    pa.old_member_id = old_id;
    pa.new_member_id = new_id;
    pa.old_protocols = old.protocols;
    pa.old_rebalance_timeout_ms = old.rebalance_timeout_ms;
    pa.old_session_timeout_ms = old.session_timeout_ms;
    pa.old_leader = g.leader;
    pa.token = token;
    pa.version = r.version;
    if (old.join) {
        answer_join(old, join_error(kafka_error::fenced_instance_id, old_id));
    }
    if (old.sync) {
        answer_sync(old, sync_failure(kafka_error::fenced_instance_id));
    }
    timers_.cancel(detail::session_key(g, old_id));
    g.rename(old_id, new_id);
    group_member& m = *g.find(new_id);
    arm_session(g, m, now, m.session_timeout_ms);
    update_member(g, m, r, parked_join{token, r.version});
    GREGOR_LOG(group_log, info, "group={} static member {} replaced {} by {}", g.id,
               *m.instance_id, old_id, new_id);
    switch (g.state) {
    case group_state::stable:
        // No rebalance unless the protocol would change: persist the new id and answer.
        if (g.select_protocol() == g.protocol) {
            return store_static_replacement(g, std::move(pa));
        }
        return maybe_prepare_rebalance(g, now, "static member changed the protocol");
    case group_state::completing_rebalance:
        // The leader is assigning to the old id: start over.
        return prepare_rebalance(g, now, "static member rejoined while completing");
    case group_state::preparing_rebalance:
        return;
    case group_state::empty:
    case group_state::dead:
        GREGOR_UNREACHABLE("group {}: static member in state {}", g.id, to_string(g.state));
    }
}

void group_coordinator::store_static_replacement(classic_group& g, pending_append pa) {
    request_append(g, g.to_record(), std::move(pa));
}

void group_coordinator::finish_static_replacement(classic_group& g, const pending_append& pa,
                                                  kafka_error error, model::timestamp_ms now) {
    group_member* m = g.find(pa.new_member_id);
    // Answered meanwhile (fenced again, removed, or carried into a rebalance): nothing to do.
    if (m == nullptr || !m->join || m->join->token != pa.token || !g.is(group_state::stable) ||
        g.generation != pa.generation) {
        return;
    }
    if (error != kafka_error::none) {
        // Not persisted: restore the old member id, as Kafka does.
        m->protocols = pa.old_protocols;
        m->rebalance_timeout_ms = pa.old_rebalance_timeout_ms;
        m->session_timeout_ms = pa.old_session_timeout_ms;
        join_response r = generation_response(g, *m, false);
        r.error = group_metadata_append_error(error);
        r.member_id = "";
        r.leader = pa.old_leader.value_or("");
        answer_join(*m, std::move(r));
        timers_.cancel(detail::session_key(g, pa.new_member_id));
        g.rename(pa.new_member_id, pa.old_member_id);
        group_member& restored = *g.find(pa.old_member_id);
        arm_session(g, restored, now, restored.session_timeout_ms);
        return;
    }
    bool leader = g.is_leader(m->id);
    bool skip = pa.version >= 9;
    // v9+ (KIP-814): the leader learns it leads but must not run the assignor. Older
    // versions get the old leader id, so a returning leader does not assign.
    join_response r = generation_response(g, *m, skip && leader);
    r.skip_assignment = skip && leader;
    if (!skip) {
        r.leader = pa.old_leader.value_or("");
    }
    answer_join(*m, std::move(r));
    arm_session(g, *m, now, m->session_timeout_ms);
}

}  // namespace gregor::group

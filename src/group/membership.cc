// group_coordinator: Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups and the
// membership side of OffsetCommit (Kafka 3.8's handlers of the same names).
#include "base/assert.h"
#include "group/group_coordinator.h"
#include "group/transitions.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace gregor::group {

using model::kafka_error;

kafka_error group_coordinator::heartbeat(model::partition_id partition,
                                         const heartbeat_request& r, model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    kafka_error e = group_status(partition, r.group_id, group_api::heartbeat);
    if (e != kafka_error::none || status(partition) == partition_status::loading) {
        return e;  // loading: NONE blindly, as Kafka answers
    }
    classic_group* g = find_group(r.group_id);
    if (g == nullptr) {
        return kafka_error::unknown_member_id;
    }
    if (g->is(group_state::dead)) {
        return kafka_error::coordinator_not_available;
    }
    if (g->static_fenced(r.member_id, r.group_instance_id)) {
        return kafka_error::fenced_instance_id;
    }
    group_member* m = g->find(r.member_id);
    if (m == nullptr) {
        return kafka_error::unknown_member_id;
    }
    if (r.generation_id != g->generation) {
        return kafka_error::illegal_generation;
    }
    switch (g->state) {
    case group_state::empty:
    case group_state::dead:
        return kafka_error::unknown_member_id;
    case group_state::completing_rebalance:
    case group_state::stable:
        arm_session(*g, *m, now, m->session_timeout_ms);
        return kafka_error::none;
    case group_state::preparing_rebalance:
        // KAFKA-10134: the session is renewed; the error tells the member to rejoin.
        arm_session(*g, *m, now, m->session_timeout_ms);
        return kafka_error::rebalance_in_progress;
    }
    return kafka_error::none;
}

leave_outcome group_coordinator::leave(model::partition_id partition, const leave_request& r,
                                       model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    leave_outcome o;
    o.response.error = group_status(partition, r.group_id, group_api::leave);
    if (o.response.error != kafka_error::none) {
        return o;
    }
    classic_group* g = find_group(r.group_id);
    if (g != nullptr && g->is(group_state::dead)) {
        o.response.error = kafka_error::coordinator_not_available;
        return o;
    }
    for (const auto& lm : r.members) {
        if (g == nullptr) {
            o.response.members.push_back(
                {lm.member_id, lm.group_instance_id, kafka_error::unknown_member_id});
        } else {
            o.response.members.push_back(leave_one(*g, lm, now));
        }
    }
    if (g != nullptr) {
        maybe_drop_unused(*g, now);
    }
    o.out = take_effects();
    return o;
}

leave_member_result group_coordinator::leave_one(classic_group& g, const leave_member& lm,
                                                 model::timestamp_ms now) {
    leave_member_result res{lm.member_id, lm.group_instance_id, kafka_error::none};
    if (lm.member_id.empty()) {
        // Removal by instance id (an admin, KIP-345).
        auto current = lm.group_instance_id ? g.static_member(*lm.group_instance_id)
                                            : std::nullopt;
        if (!current) {
            res.error = kafka_error::unknown_member_id;
        } else {
            remove_member_and_update(g, *current, now, "left (by instance id)");
        }
        return res;
    }
    if (g.pending_members.contains(lm.member_id)) {
        remove_pending_member(g, lm.member_id, now);
        return res;
    }
    res.error = g.check_member(lm.member_id, lm.group_instance_id);
    if (res.error == kafka_error::none) {
        remove_member_and_update(g, lm.member_id, now, "left");
    }
    return res;
}

described_group group_coordinator::describe(model::partition_id partition,
                                            std::string_view group_id) const {
    described_group d;
    d.group_id = std::string(group_id);
    d.error = group_status(partition, group_id, group_api::describe);
    if (d.error != kafka_error::none) {
        return d;
    }
    const classic_group* g = find(group_id);
    if (g == nullptr || g->is(group_state::dead)) {
        d.state = to_string(group_state::dead);  // not an error
        return d;
    }
    bool stable = g->is(group_state::stable);
    d.state = to_string(g->state);
    d.protocol_type = g->protocol_type.value_or("");
    d.protocol_data = stable ? g->protocol.value_or("") : "";
    for (const auto& [id, m] : g->members) {
        described_member dm{id, m.instance_id, m.client_id, m.client_host, {}, {}};
        if (stable) {
            const bytes* meta = m.metadata_for(*g->protocol);
            dm.metadata = meta != nullptr ? *meta : bytes{};
            dm.assignment = m.assignment;
        }
        d.members.push_back(std::move(dm));
    }
    return d;
}

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

list_groups_response group_coordinator::list(std::span<const std::string> states_filter,
                                             std::span<const std::string> types_filter) const {
    list_groups_response out;
    for (const auto& [_, slot] : partitions_) {
        if (slot.status == partition_status::loading) {
            out.error = kafka_error::coordinator_load_in_progress;  // with what we have
        }
    }
    bool classic = types_filter.empty() ||
                   std::any_of(types_filter.begin(), types_filter.end(),
                               [](const std::string& t) { return equals_ignoring_case(t, "classic"); });
    std::set<group_state> states;
    for (const auto& name : states_filter) {
        if (auto s = group_state_from_name(name)) {
            states.insert(*s);
        }
    }
    for (const auto& [id, g] : groups_) {
        if (!classic || (!states_filter.empty() && !states.contains(g.state))) {
            continue;
        }
        out.groups.push_back(
            listed_group{id, g.protocol_type.value_or(""), std::string(to_string(g.state))});
    }
    return out;
}

delete_outcome group_coordinator::delete_groups(std::span<const group_ref> groups,
                                                model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    delete_outcome o;
    std::set<std::string, std::less<>> seen;
    for (const auto& ref : groups) {
        if (seen.insert(ref.group_id).second) {
            o.results.push_back(delete_one(ref, now));
        }
    }
    o.out = take_effects();
    return o;
}

deleted_group group_coordinator::delete_one(const group_ref& ref, model::timestamp_ms now) {
    kafka_error e = group_status(ref.partition, ref.group_id, group_api::delete_groups);
    if (e != kafka_error::none) {
        return {ref.group_id, e};
    }
    classic_group* g = find_group(ref.group_id);
    if (g == nullptr || g->is(group_state::dead)) {
        return {ref.group_id, kafka_error::group_id_not_found};
    }
    if (!g->is(group_state::empty)) {
        return {ref.group_id, kafka_error::non_empty_group};
    }
    // Offsets-only groups (generation 0) never had a group record to tombstone.
    if (g->generation > 0) {
        out_.push_back(append_group_tombstone{g->partition, g->id});
    }
    drop_group(*g, now, "deleted");
    return {ref.group_id, kafka_error::none};
}

kafka_error group_coordinator::validate_offset_commit(model::partition_id partition,
                                                      const commit_identity& c,
                                                      model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    kafka_error e = group_status(partition, c.group_id, group_api::offset_commit);
    if (e != kafka_error::none) {
        return e;
    }
    classic_group* g = find_group(c.group_id);
    if (g == nullptr) {
        // Not managed by Kafka (assign(), admin tools): an offsets-only group. A positive
        // generation comes from a member of a group that is gone.
        if (c.generation_id >= 0 && !c.transactional) {
            return kafka_error::illegal_generation;
        }
        g = create_group(partition, c.group_id, now);
        if (g == nullptr) {
            return kafka_error::coordinator_not_available;
        }
    }
    e = commit_error(*g, c);
    if (e != kafka_error::none) {
        maybe_drop_unused(*g, now);
        return e;
    }
    g->may_have_offsets = true;
    if (group_member* m = c.transactional ? nullptr : g->find(c.member_id)) {
        arm_session(*g, *m, now, m->session_timeout_ms);  // Stable or PreparingRebalance
    }
    return kafka_error::none;
}

kafka_error group_coordinator::commit_error(const classic_group& g, const commit_identity& c) {
    if (g.is(group_state::dead)) {
        return kafka_error::coordinator_not_available;
    }
    if (c.generation_id >= 0 || !c.member_id.empty() || c.group_instance_id) {
        kafka_error e = g.check_member(c.member_id, c.group_instance_id);
        if (e != kafka_error::none) {
            return e;
        }
        if (c.generation_id != g.generation) {
            return kafka_error::illegal_generation;
        }
    } else if (!c.transactional && !g.is(group_state::empty)) {
        return kafka_error::unknown_member_id;  // only members commit to a group with members
    }
    // The member has its new generation but not its assignment yet (plain commits only).
    if (!c.transactional && g.is(group_state::completing_rebalance)) {
        return kafka_error::rebalance_in_progress;
    }
    return kafka_error::none;
}

std::optional<group_view> group_coordinator::view(std::string_view group_id) const {
    const classic_group* g = find(group_id);
    if (g == nullptr) {
        return std::nullopt;
    }
    group_view v;
    v.state = g->state;
    v.protocol_type = g->protocol_type.value_or("");
    v.generation = g->generation;
    v.current_state_timestamp = g->state_timestamp;
    v.subscribed_topics = g->subscribed_topics;
    return v;
}

bool group_coordinator::drop_if_empty(std::string_view group_id, model::timestamp_ms now) {
    classic_group* g = find_group(group_id);
    if (g == nullptr || !g->is(group_state::empty)) {
        return false;
    }
    drop_group(*g, now, "no offsets left");
    return true;
}

}  // namespace gregor::group

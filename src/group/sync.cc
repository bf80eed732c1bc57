// group_coordinator: SyncGroup and the writes of group records (Kafka 3.8's doSyncGroup and
// storeGroup callbacks).
#include "base/assert.h"
#include "base/limits.h"
#include "group/group_coordinator.h"
#include "group/append_errors.h"
#include "group/logger.h"

namespace gregor::group {

using model::kafka_error;

namespace {

kafka_error sync_error(const classic_group* g, const sync_request& r) {
    if (g == nullptr) {
        return kafka_error::unknown_member_id;
    }
    if (g->is(group_state::dead)) {
        return kafka_error::coordinator_not_available;
    }
    if (g->static_fenced(r.member_id, r.group_instance_id)) {
        return kafka_error::fenced_instance_id;
    }
    if (!g->has(r.member_id)) {
        return kafka_error::unknown_member_id;
    }
    if (r.generation_id != g->generation) {
        return kafka_error::illegal_generation;
    }
    if ((r.protocol_type && g->protocol_type != r.protocol_type) ||
        (r.protocol_name && g->protocol != r.protocol_name)) {
        return kafka_error::inconsistent_group_protocol;
    }
    return kafka_error::none;
}

}  // namespace

effects group_coordinator::sync(model::partition_id partition, request_token token,
                                const sync_request& r, model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    auto reply = [&](sync_response response) {
        out_.push_back(sync_reply{token, std::move(response)});
        return take_effects();
    };
    // KIP-559: v5 must name the protocol (checked before anything else, as Kafka does).
    if (r.version >= 5 && (!r.protocol_type || !r.protocol_name)) {
        return reply(sync_failure(kafka_error::inconsistent_group_protocol));
    }
    kafka_error e = group_status(partition, r.group_id, group_api::sync);
    classic_group* g = e == kafka_error::none ? find_group(r.group_id) : nullptr;
    if (e == kafka_error::none) {
        e = sync_error(g, r);
    }
    if (e != kafka_error::none) {
        return reply(sync_failure(e));
    }
    group_member& m = *g->find(r.member_id);
    switch (g->state) {
    case group_state::empty:
        return reply(sync_failure(kafka_error::unknown_member_id));
    case group_state::dead:
        return reply(sync_failure(kafka_error::coordinator_not_available));
    case group_state::preparing_rebalance:
        return reply(sync_failure(kafka_error::rebalance_in_progress));
    case group_state::completing_rebalance:
        sync_completing(*g, m, token, r, now);
        return take_effects();
    case group_state::stable:
        // A late or repeated SyncGroup: the assignment stored for this generation.
        remove_pending_sync(*g, m.id);
        arm_session(*g, m, now, m.session_timeout_ms);
        return reply({kafka_error::none, g->protocol_type, g->protocol, m.assignment});
    }
    GREGOR_UNREACHABLE("group state {}", static_cast<int>(g->state));
}

void group_coordinator::sync_completing(classic_group& g, group_member& m, request_token token,
                                        const sync_request& r, model::timestamp_ms now) {
    if (m.sync) {
        // One SyncGroup per member in flight; the older one was abandoned.
        answer_sync(m, sync_failure(kafka_error::rebalance_in_progress));
    }
    m.sync = token;
    remove_pending_sync(g, m.id);
    if (g.is_leader(m.id)) {
        store_assignment(g, r, now);
    }
}

void group_coordinator::store_assignment(classic_group& g, const sync_request& r,
                                         model::timestamp_ms now) {
    if (g.assignment_append) {
        return;  // this generation's assignment is being written; its answer covers all
    }
    std::map<std::string, bytes, std::less<>> assignments;
    for (const auto& a : r.assignments) {
        if (a.assignment.size() > limits::group_member_assignment_bytes_max) {
            // The record could not be written (Kafka: MESSAGE_TOO_LARGE on append).
            GREGOR_LOG(group_log, warn, "group={} assignment for {} too large: {} bytes", g.id,
                       a.member_id, a.assignment.size());
            reset_and_propagate_error(g, kafka_error::unknown_server_error, now);
            return maybe_prepare_rebalance(g, now, "assignment too large");
        }
        if (g.has(a.member_id)) {
            assignments[a.member_id] = a.assignment;
        }
    }
    for (const auto& [id, _] : g.members) {
        if (!assignments.contains(id)) {
            GREGOR_LOG(group_log, warn, "group={} leader gave member {} no assignment", g.id, id);
            assignments.emplace(id, bytes{});
        }
    }
    group_metadata_value value = g.to_record(&assignments);
    pending_append pa;
    pa.kind = append_kind::assignment;
    pa.group_id = g.id;
    pa.generation = g.generation;
    pa.assignments = std::move(assignments);
    g.assignment_append = request_append(g, std::move(value), std::move(pa));
}

append_token group_coordinator::request_append(const classic_group& g, group_metadata_value value,
                                               pending_append pa) {
    append_token token(next_append_token_++);
    appends_.emplace(token, std::move(pa));
    out_.push_back(append_group_record{token, g.partition, g.id, std::move(value)});
    return token;
}

effects group_coordinator::on_append_done(append_token token, kafka_error append_error,
                                          model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    auto it = appends_.find(token);
    if (it == appends_.end()) {
        return {};  // its group was unloaded or deleted meanwhile
    }
    pending_append pa = std::move(it->second);
    appends_.erase(it);
    classic_group* g = find_group(pa.group_id);
    GREGOR_ASSERT(g != nullptr, "append {} outlived group {}", token, pa.group_id);
    switch (pa.kind) {
    case append_kind::assignment:
        if (g->assignment_append == token) {
            finish_assignment(*g, pa, append_error, now);
        }
        break;
    case append_kind::empty_group:
        if (append_error != kafka_error::none) {
            GREGOR_LOG(group_log, warn, "group={} empty group record not written: {}", g->id,
                       model::kafka_error_name(append_error));
        }
        break;
    case append_kind::static_replace:
        finish_static_replacement(*g, pa, append_error, now);
        break;
    }
    return take_effects();
}

void group_coordinator::finish_assignment(classic_group& g, const pending_append& pa,
                                          kafka_error error, model::timestamp_ms now) {
    GREGOR_ASSERT(g.is(group_state::completing_rebalance) && g.generation == pa.generation,
                  "group {}: assignment append outlived generation {}", g.id, pa.generation);
    g.assignment_append.reset();
    if (error != kafka_error::none) {
        GREGOR_LOG(group_log, warn, "group={} generation={} assignment not stored: {}", g.id,
                   g.generation, model::kafka_error_name(error));
        reset_and_propagate_error(g, group_metadata_append_error(error), now);
        return maybe_prepare_rebalance(g, now, "storing the assignment failed");
    }
    for (auto& [id, m] : g.members) {
        auto a = pa.assignments.find(id);
        m.assignment = a == pa.assignments.end() ? bytes{} : a->second;
    }
    propagate_assignment(g, kafka_error::none, now);
    g.transition_to(group_state::stable, now);
    log_transition(g, group_state::completing_rebalance, "assignment stored");
}

}  // namespace gregor::group

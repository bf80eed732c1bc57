// group_coordinator: construction, offsets partition ownership (load and unload), group
// lookups and the append error table. The APIs live in join.cc, sync.cc, membership.cc;
// the rebalance machinery in rebalance.cc; timers in timers.cc.
#include "group/group_coordinator.h"

#include "base/assert.h"
#include "base/limits.h"
#include "group/internal.h"
#include "group/logger.h"

#include <algorithm>
#include <utility>

namespace gregor::group {

using model::kafka_error;

group_coordinator::group_coordinator(group_config config, uuid_source new_uuid)
    : cfg_(config), new_uuid_(std::move(new_uuid)) {
    GREGOR_ASSERT(static_cast<bool>(new_uuid_), "group_coordinator needs a uuid source");
    cfg_.max_size = std::clamp(cfg_.max_size, 1, limits::group_members_max);
}

effects group_coordinator::take_effects() {
    return std::exchange(out_, {});
}

partition_status group_coordinator::status(model::partition_id partition) const {
    auto it = partitions_.find(partition);
    return it == partitions_.end() ? partition_status::not_owned : it->second.status;
}

bool group_coordinator::begin_load(model::partition_id partition, model::leader_epoch epoch) {
    auto& slot = partitions_[partition];
    if (slot.epoch > epoch) {
        GREGOR_LOG(group_log, info, "load partition={} epoch={} skipped: epoch {} seen",
                   partition, epoch, slot.epoch);
        return false;
    }
    slot.epoch = epoch;
    if (slot.status != partition_status::not_owned) {
        GREGOR_LOG(group_log, info, "load partition={} epoch={} skipped: already {}", partition,
                   epoch, slot.status == partition_status::loading ? "loading" : "owned");
        return false;
    }
    slot.status = partition_status::loading;
    GREGOR_LOG(group_log, info, "loading partition={} epoch={}", partition, epoch);
    return true;
}

effects group_coordinator::complete_load(model::partition_id partition,
                                         model::leader_epoch epoch,
                                         std::vector<loaded_group> groups,
                                         model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    auto it = partitions_.find(partition);
    if (it == partitions_.end() || it->second.status != partition_status::loading ||
        it->second.epoch != epoch) {
        GREGOR_LOG(group_log, info, "load partition={} epoch={} dropped: not loading it",
                   partition, epoch);
        return {};
    }
    it->second.status = partition_status::owned;
    std::size_t count = groups.size();
    for (auto& lg : groups) {
        load_group(partition, std::move(lg), now);
    }
    GREGOR_LOG(group_log, info, "loaded partition={} epoch={} groups={}", partition, epoch,
               count);
    return take_effects();
}

effects group_coordinator::unload(model::partition_id partition,
                                  std::optional<model::leader_epoch> epoch,
                                  model::timestamp_ms now) {
    GREGOR_ASSERT(out_.empty(), "effects left over from an earlier call");
    auto& slot = partitions_[partition];
    if (epoch && slot.epoch > *epoch) {
        GREGOR_LOG(group_log, info, "unload partition={} epoch={} skipped: epoch {} seen",
                   partition, *epoch, slot.epoch);
        return {};
    }
    if (epoch) {
        slot.epoch = *epoch;
    }
    bool was_owned = slot.status != partition_status::not_owned;
    slot.status = partition_status::not_owned;
    std::vector<std::string> ids = group_ids(partition);
    for (const auto& id : ids) {
        classic_group& g = *find_group(id);
        answer_parked_on_unload(g);
        drop_group(g, now, "partition unloaded");
    }
    if (was_owned) {  // a follower's partitions were never loaded: nothing to say
        GREGOR_LOG(group_log, info, "unloaded partition={} groups={}", partition, ids.size());
    }
    return take_effects();
}

namespace {

// A loaded member is kept iff its ids are usable and unique and its bytes within bounds;
// records are untrusted (corruption, another implementation).
bool loadable_member(const classic_group& g, const member_metadata_value& m) {
    if (m.member_id.empty() || g.has(m.member_id) ||
        (m.group_instance_id && g.static_members.contains(*m.group_instance_id))) {
        return false;
    }
    return m.subscription.size() <= limits::group_member_metadata_bytes_max &&
           m.assignment.size() <= limits::group_member_assignment_bytes_max &&
           g.members.size() < static_cast<std::size_t>(limits::group_members_max);
}

void fill_loaded_group(classic_group& g, const group_metadata_value& v) {
    g.generation = v.generation;
    g.protocol = v.protocol;
    if (v.current_state_timestamp() >= 0) {
        g.state_timestamp = v.current_state_timestamp;
    } else {
        g.state_timestamp.reset();
    }
    if (v.protocol) {
        for (const auto& mv : v.members) {
            if (!loadable_member(g, mv)) {
                GREGOR_LOG(group_log, warn, "group={} load: member {} skipped", g.id,
                           mv.member_id);
                continue;
            }
            g.add(group_member{.id = mv.member_id,
                               .instance_id = mv.group_instance_id,
                               .client_id = mv.client_id,
                               .client_host = mv.client_host,
                               .rebalance_timeout_ms = mv.rebalance_timeout_ms,
                               .session_timeout_ms = mv.session_timeout_ms,
                               .protocol_type = v.protocol_type,
                               .protocols = {{*v.protocol, mv.subscription}},
                               .assignment = mv.assignment,
                               .join = std::nullopt,
                               .sync = std::nullopt,
                               .is_new = false});
        }
    } else if (!v.members.empty()) {
        GREGOR_LOG(group_log, warn, "group={} load: {} members without a protocol dropped", g.id,
                   v.members.size());
    }
    // add() made the first member leader and took its type; the record says otherwise.
    g.protocol_type = v.protocol_type.empty() ? std::nullopt : std::optional(v.protocol_type);
    if (v.leader && g.has(*v.leader)) {
        g.leader = v.leader;
    }
    g.state = g.members.empty() ? group_state::empty : group_state::stable;
    if (g.members.empty()) {
        g.protocol.reset();
        g.leader.reset();
    }
    g.subscribed_topics = g.compute_subscribed_topics();
}

}  // namespace

void group_coordinator::load_group(model::partition_id partition, loaded_group lg,
                                   model::timestamp_ms now) {
    if (find(lg.group_id) != nullptr) {
        return;  // created by a request meanwhile: that one wins, as in Kafka
    }
    classic_group* g = create_group(partition, lg.group_id, now);
    if (g == nullptr) {
        GREGOR_LOG(group_log, err, "group={} not loaded: group limit reached", lg.group_id);
        return;
    }
    g->may_have_offsets = true;
    if (lg.metadata) {
        fill_loaded_group(*g, *lg.metadata);
    }
    for (const auto& [id, m] : g->members) {
        arm_session(*g, m, now, m.session_timeout_ms);
    }
    if (g->members.size() > static_cast<std::size_t>(cfg_.max_size)) {
        prepare_rebalance(*g, now, "loaded over group.max.size");
    }
}

void group_coordinator::answer_parked_on_unload(classic_group& g) {
    for (auto& [id, m] : g.members) {
        if (m.join) {
            join_response r;
            r.error = kafka_error::not_coordinator;
            r.member_id = id;
            answer_join(m, std::move(r));
        }
        if (m.sync) {
            answer_sync(m, sync_failure(kafka_error::not_coordinator));
        }
    }
}

std::vector<std::string> group_coordinator::group_ids(model::partition_id partition) const {
    std::vector<std::string> ids;
    for (const auto& [id, g] : groups_) {
        if (g.partition == partition) {
            ids.push_back(id);
        }
    }
    return ids;
}

kafka_error group_coordinator::group_status(model::partition_id partition,
                                            std::string_view group_id, group_api api) const {
    bool id_required = api == group_api::join || api == group_api::sync ||
                       api == group_api::heartbeat || api == group_api::leave;
    if (id_required && group_id.empty()) {
        return kafka_error::invalid_group_id;
    }
    switch (status(partition)) {
    case partition_status::loading:
        // Old clients do not expect LOAD_IN_PROGRESS from these; the rebalance state is
        // lost anyway (Kafka's answers).
        if (api == group_api::sync) {
            return kafka_error::rebalance_in_progress;
        }
        return api == group_api::heartbeat ? kafka_error::none
                                           : kafka_error::coordinator_load_in_progress;
    case partition_status::not_owned:
        return kafka_error::not_coordinator;
    case partition_status::owned:
        break;
    }
    const classic_group* g = find(group_id);
    if (g != nullptr && g->partition != partition) {
        GREGOR_LOG(group_log, err, "group={} lives in partition {}, asked in {}", group_id,
                   g->partition, partition);
        return kafka_error::not_coordinator;
    }
    return kafka_error::none;
}

const classic_group* group_coordinator::find(std::string_view group_id) const {
    auto it = groups_.find(group_id);
    return it == groups_.end() ? nullptr : &it->second;
}

classic_group* group_coordinator::find_group(std::string_view group_id) {
    auto it = groups_.find(group_id);
    return it == groups_.end() ? nullptr : &it->second;
}

classic_group* group_coordinator::create_group(model::partition_id partition,
                                               std::string_view group_id,
                                               model::timestamp_ms now) {
    if (groups_.size() >= limits::groups_max) {
        GREGOR_LOG_RATE_LIMITED(group_log, warn, std::chrono::seconds(10),
                                "group={} refused: {} groups held", group_id, groups_.size());
        return nullptr;
    }
    std::string key(group_id);
    auto [it, inserted] = groups_.try_emplace(key, key, partition, now);
    GREGOR_ASSERT(inserted, "group {} created twice", group_id);
    return &it->second;
}

void group_coordinator::drop_group(classic_group& g, model::timestamp_ms now,
                                   std::string_view reason) {
    if (!g.is(group_state::dead)) {
        group_state from = g.state;
        g.transition_to(group_state::dead, now);
        log_transition(g, from, reason);
    }
    timers_.cancel_group(g.id);
    std::erase_if(appends_, [&](const auto& kv) { return kv.second.group_id == g.id; });
    groups_.erase(g.id);
}

void group_coordinator::maybe_drop_unused(classic_group& g, model::timestamp_ms now) {
    // A group a JoinGroup created that ended up with nobody in it and nothing written: Kafka
    // keeps it until the offset expiry sweep; dropping it at once bounds what a stream of
    // failed joins with fresh group ids can hold.
    if (g.is(group_state::empty) && g.generation == 0 && g.members.empty() &&
        g.pending_members.empty() && !g.may_have_offsets) {
        drop_group(g, now, "unused");
    }
}

}  // namespace gregor::group

#include "group/offsets.h"

#include "base/assert.h"
#include "group/append_errors.h"
#include "group/java_string.h"
#include "group/logger.h"
#include "group/record_batches.h"

#include <limits>
#include <set>

namespace gregor::group {
namespace {

using model::kafka_error;

// now + delta without overflow: the delta is a client's RetentionTimeMs.
model::timestamp_ms saturating_add(model::timestamp_ms now, std::int64_t delta) {
    std::int64_t out = 0;
    if (__builtin_add_overflow(now(), delta, &out)) {
        out = delta > 0 ? std::numeric_limits<std::int64_t>::max()
                        : std::numeric_limits<std::int64_t>::min();
    }
    return model::timestamp_ms{out};
}

offset_commit_value value_for(const commit_partition& p, model::timestamp_ms now,
                              std::optional<model::timestamp_ms> expire) {
    offset_commit_value v;
    v.offset = p.offset;
    v.leader_epoch = p.leader_epoch;
    v.metadata = p.metadata.value_or(std::string());
    const bool explicit_time = p.commit_timestamp && (*p.commit_timestamp)() != -1;
    v.commit_timestamp = explicit_time ? *p.commit_timestamp : now;
    v.expire_timestamp = expire;
    return v;
}

// Applies the metadata length rule; returns the partitions to write and fills `results`.
std::vector<offset_record> accepted_records(const commit_request& request, model::timestamp_ms now,
                                            std::size_t metadata_max_chars,
                                            std::vector<partition_error>& results) {
    std::optional<model::timestamp_ms> expire;
    if (request.retention_ms && *request.retention_ms != -1) {
        expire = saturating_add(now, *request.retention_ms);
    }
    std::vector<offset_record> records;
    records.reserve(request.partitions.size());
    for (const commit_partition& p : request.partitions) {
        const std::string_view metadata = p.metadata ? std::string_view(*p.metadata) : "";
        // Bytes bound UTF-16 units from above, so short strings skip the decode.
        if (metadata.size() > metadata_max_chars &&
            java_string_length(metadata) > metadata_max_chars) {
            results.push_back({p.tp, kafka_error::offset_metadata_too_large});
            continue;
        }
        results.push_back({p.tp, kafka_error::none});
        records.push_back({p.tp, value_for(p, now, expire)});
    }
    return records;
}

void fail_written(std::vector<partition_error>& results, kafka_error error) {
    for (partition_error& r : results) {
        if (r.error == kafka_error::none) {
            r.error = error;
        }
    }
}

}  // namespace

commit_plan offset_store::prepare_commit(const commit_request& request, model::timestamp_ms now) {
    commit_plan plan;
    plan.results.reserve(request.partitions.size());
    if (request.membership_error != kafka_error::none) {
        for (const commit_partition& p : request.partitions) {
            plan.results.push_back({p.tp, request.membership_error});
        }
        return plan;
    }
    std::vector<offset_record> records =
        accepted_records(request, now, config_.metadata_max_chars, plan.results);
    if (records.empty()) {
        return plan;  // nothing written, nothing pending (KAFKA-16371)
    }
    auto batch = build_offset_commit_batch(request.group_id, records, now,
                                           batch_settings{config_.compression});
    if (batch.has_error()) {
        GREGOR_LOG(group_log, warn, "group={} offset commit not written: {}", request.group_id,
                   batch.err().to_string());
        fail_written(plan.results, kafka_error::unknown_server_error);
        return plan;
    }
    plan.batch = std::move(batch).value();
    group_entry& entry = groups_[request.group_id];
    pending_commit commit{request.group_id, {}};
    commit.partitions.reserve(records.size());
    for (offset_record& r : records) {
        ++entry.pending[r.tp];
        commit.partitions.push_back({std::move(r.tp), std::move(r.value), false});
    }
    const std::uint64_t id = next_pending_id_++;
    pending_.emplace(id, std::move(commit));
    plan.pending = pending_commit_id{id};
    return plan;
}

offset_store::pending_commit offset_store::take_pending(pending_commit_id id) {
    auto it = pending_.find(id());
    GREGOR_ASSERT(it != pending_.end(), "commit {} is not pending", id());
    pending_commit commit = std::move(it->second);
    pending_.erase(it);
    auto g = groups_.find(commit.group);
    for (const pending_partition& p : commit.partitions) {
        if (p.cancelled) {
            continue;  // its count went with the removal, maybe the group entry too
        }
        GREGOR_ASSERT(g != groups_.end(), "pending commit of unknown group {}", commit.group);
        auto count = g->second.pending.find(p.tp);
        GREGOR_ASSERT(count != g->second.pending.end() && count->second > 0,
                      "pending count of {} lost", p.tp);
        if (--count->second == 0) {
            g->second.pending.erase(count);
        }
    }
    return commit;
}

std::vector<partition_error> offset_store::complete_commit(pending_commit_id id,
                                                           model::offset batch_offset) {
    pending_commit commit = take_pending(id);
    group_entry& entry = groups_[commit.group];
    std::vector<partition_error> results;
    results.reserve(commit.partitions.size());
    for (pending_partition& p : commit.partitions) {
        results.push_back({p.tp, kafka_error::none});
        if (p.cancelled) {
            continue;
        }
        auto [it, inserted] = entry.offsets.try_emplace(p.tp);
        // Same batch: a later record of it wins, as on replay.
        if (inserted || it->second.batch_offset <= batch_offset) {
            it->second = committed_offset{std::move(p.value), batch_offset};
        }
    }
    erase_if_unused(commit.group);
    return results;
}

std::vector<partition_error> offset_store::fail_commit(pending_commit_id id,
                                                       model::kafka_error append_error) {
    pending_commit commit = take_pending(id);
    const kafka_error mapped = offset_commit_append_error(append_error);
    GREGOR_LOG(group_log, debug, "group={} offset commit append failed: {} -> {}", commit.group,
               model::kafka_error_name(append_error), model::kafka_error_name(mapped));
    std::vector<partition_error> results;
    results.reserve(commit.partitions.size());
    for (const pending_partition& p : commit.partitions) {
        results.push_back({p.tp, mapped});
    }
    erase_if_unused(commit.group);
    return results;
}

bool offset_store::pending_on(std::string_view group, const model::topic_partition& tp) const {
    if (has_pending_commit(group, tp)) {
        return true;
    }
    for (const auto& [producer, stage] : txn_) {
        auto g = stage.find(group);
        if (g != stage.end() && g->second.contains(tp)) {
            return true;
        }
    }
    return false;
}

fetched_offset offset_store::fetch_one(std::string_view group, const group_entry* entry,
                                       const model::topic_partition& tp,
                                       bool require_stable) const {
    fetched_offset out;
    out.tp = tp;
    if (require_stable && pending_on(group, tp)) {
        out.error = kafka_error::unstable_offset_commit;
        return out;
    }
    if (entry == nullptr) {
        return out;
    }
    auto it = entry->offsets.find(tp);
    if (it != entry->offsets.end()) {
        out.offset = it->second.value.offset;
        out.leader_epoch = it->second.value.leader_epoch;
        out.metadata = it->second.value.metadata;
    }
    return out;
}

std::vector<fetched_offset> offset_store::fetch(
    std::string_view group, const std::optional<std::vector<model::topic_partition>>& partitions,
    bool require_stable) const {
    auto g = groups_.find(group);
    const group_entry* entry = g == groups_.end() ? nullptr : &g->second;
    std::vector<fetched_offset> out;
    if (partitions) {
        out.reserve(partitions->size());
        for (const model::topic_partition& tp : *partitions) {
            out.push_back(fetch_one(group, entry, tp, require_stable));
        }
        return out;
    }
    if (entry != nullptr) {
        out.reserve(entry->offsets.size());
        for (const auto& [tp, committed] : entry->offsets) {
            out.push_back(fetch_one(group, entry, tp, require_stable));
        }
    }
    return out;
}

void offset_store::stage_txn_offset(model::producer_id producer, std::string_view group,
                                    const model::topic_partition& tp,
                                    const committed_offset& offset) {
    txn_stage& stage = txn_[producer];
    auto g = stage.find(group);
    if (g == stage.end()) {
        g = stage.emplace(std::string(group), partition_map{}).first;
    }
    g->second.insert_or_assign(tp, offset);
}

void offset_store::complete_txn(model::producer_id producer, bool commit) {
    auto it = txn_.find(producer);
    if (it == txn_.end()) {
        return;
    }
    txn_stage stage = std::move(it->second);
    txn_.erase(it);
    for (auto& [group, staged] : stage) {
        if (commit) {
            partition_map& offsets = groups_[group].offsets;
            for (auto& [tp, offset] : staged) {
                auto [slot, inserted] = offsets.try_emplace(tp, offset);
                if (!inserted && slot->second.batch_offset < offset.batch_offset) {
                    slot->second = offset;
                }
            }
        }
        erase_if_unused(group);
    }
}

void offset_store::replay_offset(std::string_view group, const model::topic_partition& tp,
                                 const committed_offset& offset) {
    auto g = groups_.find(group);
    if (g == groups_.end()) {
        g = groups_.emplace(std::string(group), group_entry{}).first;
    }
    g->second.offsets.insert_or_assign(tp, offset);
}

void offset_store::replay_tombstone(std::string_view group, const model::topic_partition& tp) {
    auto g = groups_.find(group);
    if (g != groups_.end()) {
        g->second.offsets.erase(tp);
        erase_if_unused(group);
    }
}

void offset_store::replay_txn_tombstone(model::producer_id producer, std::string_view group,
                                        const model::topic_partition& tp) {
    auto it = txn_.find(producer);
    if (it == txn_.end()) {
        return;
    }
    auto g = it->second.find(group);
    if (g != it->second.end()) {
        g->second.erase(tp);
        if (g->second.empty()) {
            it->second.erase(g);
        }
    }
}

const committed_offset* offset_store::find(std::string_view group,
                                           const model::topic_partition& tp) const {
    auto g = groups_.find(group);
    if (g == groups_.end()) {
        return nullptr;
    }
    auto it = g->second.offsets.find(tp);
    return it == g->second.offsets.end() ? nullptr : &it->second;
}

bool offset_store::has_pending_commit(std::string_view group,
                                      const model::topic_partition& tp) const {
    auto g = groups_.find(group);
    return g != groups_.end() && g->second.pending.contains(tp);
}

bool offset_store::has_offsets(std::string_view group) const {
    auto g = groups_.find(group);
    if (g != groups_.end() && (!g->second.offsets.empty() || !g->second.pending.empty())) {
        return true;
    }
    for (const auto& [producer, stage] : txn_) {
        if (stage.contains(group)) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> offset_store::group_ids() const {
    std::set<std::string, std::less<>> ids;
    for (const auto& [group, entry] : groups_) {
        ids.insert(group);
    }
    for (const auto& [producer, stage] : txn_) {
        for (const auto& [group, staged] : stage) {
            ids.insert(group);
        }
    }
    return {ids.begin(), ids.end()};
}

std::size_t offset_store::committed_count() const {
    std::size_t n = 0;
    for (const auto& [group, entry] : groups_) {
        n += entry.offsets.size();
    }
    return n;
}

void offset_store::erase_if_unused(std::string_view group) {
    auto g = groups_.find(group);
    if (g != groups_.end() && g->second.offsets.empty() && g->second.pending.empty()) {
        groups_.erase(g);
    }
}

}  // namespace gregor::group

// offset_store's removals: OffsetDelete, DeleteGroups, topic deletion and expiry (KIP-211).
#include "base/assert.h"
#include "group/offsets.h"
#include "group/record_batches.h"

namespace gregor::group {
namespace {

using model::kafka_error;

// Which offsets of a group may expire, and from which time (Kafka's removeExpiredOffsets).
enum class expiry_rule {
    nothing,              // an active group of another protocol, or rebalancing
    since_empty,          // protocol type set and Empty: the Empty clock
    unsubscribed_topics,  // "consumer", Stable, known subscriptions: commit time
    commit_time,          // no protocol type: commit time
};

expiry_rule expiry_rule_for(const group_view& view) {
    if (view.has_protocol_type() && view.state == group_state::empty) {
        return expiry_rule::since_empty;
    }
    if (view.is_consumer_group() && view.subscribed_topics &&
        view.state == group_state::stable) {
        return expiry_rule::unsubscribed_topics;
    }
    if (!view.has_protocol_type()) {
        return expiry_rule::commit_time;
    }
    return expiry_rule::nothing;
}

bool expired(const offset_commit_value& value, model::timestamp_ms base, model::timestamp_ms now,
             std::int64_t retention_ms) {
    if (value.expire_timestamp) {
        return now >= *value.expire_timestamp;
    }
    // now - base >= retention, without overflowing on hostile timestamps.
    std::int64_t age = 0;
    if (__builtin_sub_overflow(now(), base(), &age)) {
        return now > base;
    }
    return age >= retention_ms;
}

bool active(group_state s) {
    return s == group_state::preparing_rebalance || s == group_state::completing_rebalance ||
           s == group_state::stable;
}

}  // namespace

result<bytes> build_cleanup_batch(std::string_view group, const group_cleanup& cleanup,
                                  model::timestamp_ms now, const offsets_config& config) {
    GREGOR_ASSERT(!cleanup.nothing_to_write(), "group {}: a cleanup without tombstones", group);
    std::optional<group_metadata_key> group_key;
    if (cleanup.group_tombstone) {
        group_key = group_metadata_key{std::string(group)};
    }
    return build_tombstone_batch(cleanup.removed, group_key, now,
                                 batch_settings{config.compression});
}

bool offset_store::remove_partition(std::string_view group, const model::topic_partition& tp) {
    bool existed = false;
    auto g = groups_.find(group);
    if (g != groups_.end()) {
        existed = g->second.offsets.erase(tp) > 0;
        if (g->second.pending.erase(tp) > 0) {
            existed = true;
            for (auto& [id, commit] : pending_) {
                if (commit.group != group) {
                    continue;
                }
                for (pending_partition& p : commit.partitions) {
                    p.cancelled = p.cancelled || p.tp == tp;
                }
            }
        }
    }
    // Staged transactional offsets go too (Kafka's removeOffsets); their records sit in
    // a transaction, so a plain tombstone would not cover them.
    for (auto& [producer, stage] : txn_) {
        auto s = stage.find(group);
        if (s != stage.end() && s->second.erase(tp) > 0 && s->second.empty()) {
            stage.erase(s);
        }
    }
    return existed;
}

group_cleanup offset_store::finish_cleanup(std::string_view group, group_cleanup cleanup,
                                           const group_view& view, bool deleting) {
    erase_if_unused(group);
    cleanup.group_dead = deleting || (view.state == group_state::empty && !has_offsets(group));
    cleanup.group_tombstone = cleanup.group_dead && view.generation > 0;
    return cleanup;
}

group_cleanup offset_store::remove_partitions(std::string_view group,
                                              std::span<const model::topic_partition> partitions,
                                              const group_view& view) {
    group_cleanup cleanup;
    for (const model::topic_partition& tp : partitions) {
        if (remove_partition(group, tp)) {
            cleanup.removed.push_back({std::string(group), tp});
        }
    }
    return finish_cleanup(group, std::move(cleanup), view, false);
}

offset_delete_result offset_store::delete_offsets(
    std::string_view group, std::span<const model::topic_partition> partitions,
    const std::optional<group_view>& view) {
    offset_delete_result out;
    if (!view || view->state == group_state::dead) {
        out.error = kafka_error::group_id_not_found;
        return out;
    }
    if (active(view->state) && !view->is_consumer_group()) {
        out.error = kafka_error::non_empty_group;
        return out;
    }
    std::vector<model::topic_partition> eligible;
    for (const model::topic_partition& tp : partitions) {
        // Empty: everything goes. Active consumer group: only topics nobody subscribes to
        // (KAFKA-13636; unknown subscriptions count as subscribed to everything).
        const bool keep = active(view->state) && view->subscribed_to(tp.topic);
        out.partitions.push_back(
            {tp, keep ? kafka_error::group_subscribed_to_topic : kafka_error::none});
        if (!keep) {
            eligible.push_back(tp);
        }
    }
    if (!eligible.empty()) {
        out.cleanup = remove_partitions(group, eligible, *view);
    }
    return out;
}

group_delete_result offset_store::delete_group(std::string_view group,
                                               const std::optional<group_view>& view) {
    group_delete_result out;
    if (!view || view->state == group_state::dead) {
        out.error = kafka_error::group_id_not_found;
        return out;
    }
    if (view->state != group_state::empty) {
        out.error = kafka_error::non_empty_group;
        return out;
    }
    // Pending commits are cancelled and tombstoned as well: their records are already in
    // the log, and without a tombstone a reload would bring the group back.
    std::vector<model::topic_partition> all;
    if (auto g = groups_.find(group); g != groups_.end()) {
        for (const auto& [tp, offset] : g->second.offsets) {
            all.push_back(tp);
        }
        for (const auto& [tp, count] : g->second.pending) {
            if (!g->second.offsets.contains(tp)) {
                all.push_back(tp);
            }
        }
    }
    for (const model::topic_partition& tp : all) {
        if (remove_partition(group, tp)) {
            out.cleanup.removed.push_back({std::string(group), tp});
        }
    }
    out.cleanup = finish_cleanup(group, std::move(out.cleanup), *view, true);
    return out;
}

group_cleanup offset_store::expire(std::string_view group, const group_view& view,
                                   model::timestamp_ms now) {
    group_cleanup cleanup;
    const expiry_rule rule = expiry_rule_for(view);
    auto g = groups_.find(group);
    if (rule != expiry_rule::nothing && g != groups_.end()) {
        partition_map& offsets = g->second.offsets;
        for (auto it = offsets.begin(); it != offsets.end();) {
            const model::topic_partition& tp = it->first;
            const offset_commit_value& value = it->second.value;
            const bool eligible =
                !g->second.pending.contains(tp) &&
                !(rule == expiry_rule::unsubscribed_topics && view.subscribed_to(tp.topic));
            const model::timestamp_ms base = rule == expiry_rule::since_empty
                                                 ? view.current_state_timestamp.value_or(
                                                       value.commit_timestamp)
                                                 : value.commit_timestamp;
            if (eligible && expired(value, base, now, config_.retention_ms)) {
                cleanup.removed.push_back({std::string(group), tp});
                it = offsets.erase(it);
            } else {
                ++it;
            }
        }
    }
    return finish_cleanup(group, std::move(cleanup), view, false);
}

}  // namespace gregor::group

// offset_store: the committed offsets of the groups one `__consumer_offsets` partition owns.
//
// One store per offsets partition this broker leads (group/partitioner.h maps a group to
// its partition). It is built by the loader (group/loader.h) when the broker becomes
// leader, driven by the OffsetCommit/OffsetFetch/OffsetDelete/DeleteGroups handlers and the
// expiry timer while it leads, and dropped when leadership is lost. It holds no group
// membership: the state machine answers membership questions and passes a group_view.
//
// Rules (Kafka 3.8's classic coordinator):
// - OffsetCommit: the membership verdict (the state machine's validate_offset_commit) applies
//   to every partition; then a partition whose metadata is longer than
//   offset.metadata.max.bytes (UTF-16 units) gets OFFSET_METADATA_TOO_LARGE and the others
//   are written in one batch. Written offsets are *pending* until the driver reports the
//   append: complete_commit applies them (the broker answers only after the high watermark
//   passes the batch), fail_commit drops them and maps the append error per partition.
// - "Latest wins" is decided by the offset of the batch in the log, not by timestamps.
// - OffsetFetch: offsets regardless of group state; unknown partition -> offset -1,
//   metadata "", NONE; require_stable and a pending plain or transactional commit on the
//   partition -> offset -1, UNSTABLE_OFFSET_COMMIT.
// - Removing offsets (OffsetDelete, DeleteGroups, topic deletion) also cancels pending
//   commits of those partitions: their record precedes the tombstone in the log.
// - Expiry (KIP-211): see expire().
//
// Owned by the broker's event loop; not thread-safe. Every mutation returns what to write
// or answer; the store never performs I/O.
#pragma once

#include "base/bytes.h"
#include "base/named_type.h"
#include "base/result.h"
#include "group/group_view.h"
#include "group/records.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"
#include "model/record_batch.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::group {

// The offsets.* and offset.* broker configs the store follows (Kafka 3.8 defaults).
struct offsets_config {
    // offset.metadata.max.bytes, counted in UTF-16 code units as Java's String.length.
    std::size_t metadata_max_chars = 4096;
    // offsets.retention.minutes (10080 = 7 days), in milliseconds.
    std::int64_t retention_ms = std::int64_t{10080} * 60 * 1000;
    // offsets.topic.compression.codec.
    model::compression_type compression = model::compression_type::none;
};

// A committed offset with the log offset of the batch that holds its record.
struct committed_offset {
    offset_commit_value value;
    model::offset batch_offset{-1};

    bool operator==(const committed_offset&) const = default;
};

struct partition_error {
    model::topic_partition tp;
    model::kafka_error error = model::kafka_error::none;

    bool operator==(const partition_error&) const = default;
};

// One partition of an OffsetCommit request.
struct commit_partition {
    model::topic_partition tp;
    model::offset offset{0};
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::optional<std::string> metadata;  // null is stored as ""
    // OffsetCommit v1's CommitTimestamp; none or -1 means "now".
    std::optional<model::timestamp_ms> commit_timestamp;
};

struct commit_request {
    std::string group_id;
    std::vector<commit_partition> partitions;
    // OffsetCommit v2..v4 RetentionTimeMs; none or -1 means the broker's retention.
    std::optional<std::int64_t> retention_ms;
    // The state machine's validate_offset_commit verdict; anything but NONE rejects every
    // partition with it and writes nothing.
    model::kafka_error membership_error = model::kafka_error::none;
};

using pending_commit_id = named_type<std::uint64_t, struct pending_commit_id_tag>;

// What prepare_commit decided.
struct commit_plan {
    // One per requested partition, in request order. NONE for written partitions is final
    // unless the append fails (fail_commit returns their errors then).
    std::vector<partition_error> results;
    // Set iff `batch` holds records to append.
    std::optional<pending_commit_id> pending;
    bytes batch;
};

// One partition of an OffsetFetch answer.
struct fetched_offset {
    model::topic_partition tp;
    model::offset offset = model::no_offset;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::string metadata;
    model::kafka_error error = model::kafka_error::none;

    bool operator==(const fetched_offset&) const = default;
};

// Offsets removed from one group, and what to write for them (group/record_batches.h
// build_tombstone_batch, appended with acks=0: a lost batch is re-sent by the next purge).
struct group_cleanup {
    // One tombstone each (offsets removed, and pending commits cancelled).
    std::vector<offset_commit_key> removed;
    // The group is Empty (or being deleted) and has no offsets left, committed or pending:
    // the state machine moves it to Dead and drops it.
    bool group_dead = false;
    // group_dead and generation > 0: tombstone the group key too (offsets-only groups,
    // generation 0, never had a group record).
    bool group_tombstone = false;

    bool nothing_to_write() const { return removed.empty() && !group_tombstone; }
};

struct offset_delete_result {
    // GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP or NONE. The handler adds the broker-level
    // errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, authorization, unknown topics).
    model::kafka_error error = model::kafka_error::none;
    // When error is NONE: one per requested partition (NONE or GROUP_SUBSCRIBED_TO_TOPIC).
    std::vector<partition_error> partitions;
    group_cleanup cleanup;
};

struct group_delete_result {
    // GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP or NONE.
    model::kafka_error error = model::kafka_error::none;
    group_cleanup cleanup;
};

// The tombstone batch of `cleanup` (group/record_batches.h): one tombstone per removed
// offset, then the group key's when cleanup.group_tombstone. Kafka appends it with acks=0.
// REQUIRES: !cleanup.nothing_to_write().
result<bytes> build_cleanup_batch(std::string_view group, const group_cleanup& cleanup,
                                  model::timestamp_ms now, const offsets_config& config);

class offset_store {
public:
    explicit offset_store(offsets_config config = {}) : config_(config) {}

    const offsets_config& config() const { return config_; }

    // OffsetCommit (v1+). Decides per partition, builds the batch to append and registers
    // the written partitions as pending. `now` is the commit time and the batch timestamp.
    commit_plan prepare_commit(const commit_request& request, model::timestamp_ms now);
    // The append of `id` reached the high watermark at `batch_offset`: apply its offsets
    // (unless newer ones or a removal came first). Returns the written partitions, NONE.
    // REQUIRES: `id` is pending.
    std::vector<partition_error> complete_commit(pending_commit_id id, model::offset batch_offset);
    // The append of `id` failed with `append_error`: drop it. Returns the written partitions
    // with the mapped error (group/append_errors.h). REQUIRES: `id` is pending.
    std::vector<partition_error> fail_commit(pending_commit_id id, model::kafka_error append_error);

    // OffsetFetch (v1+). `partitions` none = every committed partition of the group (v2+),
    // sorted by topic and partition. `require_stable` is OffsetFetch v7+'s RequireStable.
    std::vector<fetched_offset> fetch(
        std::string_view group, const std::optional<std::vector<model::topic_partition>>& partitions,
        bool require_stable) const;

    // OffsetDelete. `view` none = the group does not exist.
    offset_delete_result delete_offsets(std::string_view group,
                                        std::span<const model::topic_partition> partitions,
                                        const std::optional<group_view>& view);
    // DeleteGroups: an Empty group loses every offset and dies.
    group_delete_result delete_group(std::string_view group, const std::optional<group_view>& view);
    // Removes `partitions` of `group` (topic deletion, OffsetDelete's eligible partitions).
    group_cleanup remove_partitions(std::string_view group,
                                    std::span<const model::topic_partition> partitions,
                                    const group_view& view);

    // Offset expiry (KIP-211), run for every group every offsets.retention.check.interval.ms
    // with retention = config().retention_ms. Skips partitions with a pending commit. An
    // offset with an explicit expire timestamp expires at that time, otherwise once
    // now - base >= retention, where by group:
    //   protocol type set and Empty: base = current_state_timestamp (the offset's commit
    //     timestamp when unknown); every offset;
    //   "consumer", Stable, subscriptions known: base = commit timestamp; offsets of topics
    //     the group does not subscribe to;
    //   no protocol type (any state): base = commit timestamp; every offset;
    //   otherwise nothing expires.
    // An Empty group left without offsets is reported dead (group_cleanup).
    group_cleanup expire(std::string_view group, const group_view& view, model::timestamp_ms now);

    // Transactional offsets (TxnOffsetCommit after its append, and the loader): staged per
    // producer until the transaction's marker. complete_txn(commit) applies each staged
    // offset that is newer by batch offset than the committed one; both outcomes drop the
    // stage.
    void stage_txn_offset(model::producer_id producer, std::string_view group,
                          const model::topic_partition& tp, const committed_offset& offset);
    void complete_txn(model::producer_id producer, bool commit);

    // Log replay (the loader): a record read from the log, in log order.
    void replay_offset(std::string_view group, const model::topic_partition& tp,
                       const committed_offset& offset);
    void replay_tombstone(std::string_view group, const model::topic_partition& tp);
    void replay_txn_tombstone(model::producer_id producer, std::string_view group,
                              const model::topic_partition& tp);

    // Queries.
    const committed_offset* find(std::string_view group, const model::topic_partition& tp) const;
    // Iff the group has committed offsets, pending commits or staged transactional offsets.
    bool has_offsets(std::string_view group) const;
    bool has_pending_commit(std::string_view group, const model::topic_partition& tp) const;
    // Every group with committed, pending or staged offsets, sorted.
    std::vector<std::string> group_ids() const;
    std::size_t committed_count() const;
    std::size_t pending_commit_count() const { return pending_.size(); }

private:
    using partition_map = std::map<model::topic_partition, committed_offset>;
    struct group_entry {
        partition_map offsets;
        // In-flight plain commits per partition.
        std::map<model::topic_partition, std::int32_t> pending;
    };
    struct pending_partition {
        model::topic_partition tp;
        offset_commit_value value;
        bool cancelled = false;  // the partition's offsets were removed meanwhile
    };
    struct pending_commit {
        std::string group;
        std::vector<pending_partition> partitions;
    };
    using txn_stage = std::map<std::string, partition_map, std::less<>>;

    bool pending_on(std::string_view group, const model::topic_partition& tp) const;
    fetched_offset fetch_one(std::string_view group, const group_entry* entry,
                             const model::topic_partition& tp, bool require_stable) const;
    pending_commit take_pending(pending_commit_id id);
    // Removes committed, pending and staged offsets of `tp`; returns true iff any existed.
    bool remove_partition(std::string_view group, const model::topic_partition& tp);
    group_cleanup finish_cleanup(std::string_view group, group_cleanup cleanup,
                                 const group_view& view, bool deleting);
    void erase_if_unused(std::string_view group);

    offsets_config config_;
    std::map<std::string, group_entry, std::less<>> groups_;
    std::map<std::uint64_t, pending_commit> pending_;
    std::uint64_t next_pending_id_ = 1;
    std::map<model::producer_id, txn_stage> txn_;
};

}  // namespace gregor::group

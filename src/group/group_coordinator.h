// group_coordinator: Kafka's classic consumer group coordinator (3.8, ZooKeeper mode) as a
// sans-IO state machine.
//
// It holds every group of the `__consumer_offsets` partitions this broker leads and runs
// their membership: JoinGroup (v0-v9, KIP-394 MEMBER_ID_REQUIRED, KIP-345 static members),
// SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups, and the
// membership check of OffsetCommit. It owns no sockets, timers or files:
//   - time is an argument (`now`) of every mutating call; next_deadline() says when the
//     driver must call on_time(now) next (session expiry, join phase end, initial delay,
//     SyncGroup deadline, KIP-394 id expiry). Call it whenever next_deadline() <= now,
//     including right after another call returned (a zero initial delay is due at once);
//   - JoinGroup and SyncGroup are answered through effects (join_reply, sync_reply) tagged
//     with the caller's request token, in the same call or a later one; every request
//     given a token is answered exactly once (unload answers the parked ones);
//   - group records are written through append_group_record effects; the driver answers
//     each with on_append_done(token, append error) once the high watermark passed it or
//     the append failed (errors mapped as Kafka's §11.1 table), or never if the partition
//     was unloaded meanwhile (late answers for unknown tokens are ignored);
//   - the group -> partition mapping (group/partitioner.h) is the caller's: every call
//     names the offsets partition of its group.
// Partition ownership: begin_load (partition now loading: COORDINATOR_LOAD_IN_PROGRESS,
// per API as Kafka answers it), complete_load (groups from the log; Stable with members,
// Empty without; sessions armed; a rebalance is never resumed), unload (groups Dead, parked
// requests answered NOT_COORDINATOR). Loads and unloads are fenced by the partition's
// leader epoch (the coordinator epoch). Partitions never loaded answer NOT_COORDINATOR.
//
// Untrusted input (requests, loaded records) is validated, never asserted; sizes are capped
// by group.max.size and base/limits.h. Transitions are asserted against the table in
// group/transitions.h.
//
// Threading: one event loop owns it; not thread-safe.
#pragma once

#include "group/classic_group.h"
#include "group/config.h"
#include "group/deadlines.h"
#include "group/effects.h"
#include "group/group_view.h"
#include "group/member_id.h"
#include "group/messages.h"
#include "group/records.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::group {

enum class partition_status { not_owned, loading, owned };

// A group as read from the log by the loader: its latest group record, or none for a
// group that only has offsets (it loads as an Empty group of generation 0).
struct loaded_group {
    std::string group_id;
    std::optional<group_metadata_value> metadata;
};

struct group_ref {
    model::partition_id partition;
    std::string group_id;
};

struct leave_outcome {
    leave_response response;
    effects out;
};

struct delete_outcome {
    std::vector<deleted_group> results;  // one per distinct group, in request order
    effects out;
};


class group_coordinator {
public:
    // REQUIRES: new_uuid returns a different value on each call.
    group_coordinator(group_config config, uuid_source new_uuid);

    const group_config& config() const { return cfg_; }

    // ---- Offsets partition ownership (LeaderAndIsr / StopReplica, in arrival order).

    // The broker became leader of `partition` in `epoch`: its groups answer
    // COORDINATOR_LOAD_IN_PROGRESS until complete_load. Returns false (and changes nothing)
    // iff a newer epoch was seen for it or it is already loading or owned.
    bool begin_load(model::partition_id partition, model::leader_epoch epoch);
    // The groups read from the log. Ignored (empty result) unless `partition` is loading in
    // `epoch`. A group that already exists is kept as it is.
    effects complete_load(model::partition_id partition, model::leader_epoch epoch,
                          std::vector<loaded_group> groups, model::timestamp_ms now);
    // Leadership lost (epoch given) or the replica deleted (epoch may be none). Ignored iff
    // the epoch is older than the newest seen for the partition.
    effects unload(model::partition_id partition, std::optional<model::leader_epoch> epoch,
                   model::timestamp_ms now);
    partition_status status(model::partition_id partition) const;

    // ---- The group APIs. `partition` is the group's offsets partition.

    effects join(model::partition_id partition, request_token token, const join_request& r,
                 model::timestamp_ms now);
    effects sync(model::partition_id partition, request_token token, const sync_request& r,
                 model::timestamp_ms now);
    // Renews the member's session; never changes a group's state.
    model::kafka_error heartbeat(model::partition_id partition, const heartbeat_request& r,
                                 model::timestamp_ms now);
    leave_outcome leave(model::partition_id partition, const leave_request& r,
                        model::timestamp_ms now);
    described_group describe(model::partition_id partition, std::string_view group_id) const;
    // Empty filters match everything; states compare case-insensitively; the only type is
    // "classic". COORDINATOR_LOAD_IN_PROGRESS (with the groups it has) while loading.
    list_groups_response list(std::span<const std::string> states_filter,
                              std::span<const std::string> types_filter) const;
    // Empty groups become Dead and are dropped (a group tombstone when generation > 0);
    // duplicates are answered once. The caller removes their offsets.
    delete_outcome delete_groups(std::span<const group_ref> groups, model::timestamp_ms now);

    // ---- What the offsets side needs.

    // The membership verdict of an OffsetCommit (v1+) or TxnOffsetCommit: NONE iff the
    // commit may be written. Creates an Empty offsets-only group for generation < 0 and an
    // unknown group; renews a member's session in Stable and PreparingRebalance.
    model::kafka_error validate_offset_commit(model::partition_id partition,
                                              const commit_identity& c, model::timestamp_ms now);
    // The group as offset expiry, OffsetDelete and DeleteGroups read it; none if unknown.
    std::optional<group_view> view(std::string_view group_id) const;
    // The offsets side found no offsets left for the group: an Empty group becomes Dead and
    // is dropped (its tombstone is the offsets side's to write). Returns true iff dropped.
    bool drop_if_empty(std::string_view group_id, model::timestamp_ms now);
    // The ids of the groups of one partition (expiry walks them).
    std::vector<std::string> group_ids(model::partition_id partition) const;

    // ---- Time and appends.

    std::optional<model::timestamp_ms> next_deadline() const { return timers_.next(); }
    effects on_time(model::timestamp_ms now);
    effects on_append_done(append_token token, model::kafka_error append_error,
                           model::timestamp_ms now);

    // ---- Introspection (describe, tests, simulation).

    const classic_group* find(std::string_view group_id) const;
    std::size_t group_count() const { return groups_.size(); }
    std::size_t appends_in_flight() const { return appends_.size(); }
    // "" iff every internal invariant holds (membership maps, timers armed for every state
    // that needs one and only those, nothing due at `now` left unfired); else what broke.
    std::string check_invariants(model::timestamp_ms now) const;

private:
    struct partition_slot {
        partition_status status = partition_status::not_owned;
        model::leader_epoch epoch = model::no_leader_epoch;
    };
    enum class append_kind { assignment, empty_group, static_replace };
    // A group record written on the group's behalf, waiting for on_append_done.
    struct pending_append {
        append_kind kind = append_kind::assignment;
        std::string group_id;
        std::int32_t generation = 0;
        std::map<std::string, bytes, std::less<>> assignments;  // assignment
        // static_replace: what to answer, and what to restore if the write fails.
        std::string old_member_id;
        std::string new_member_id;
        std::vector<member_protocol> old_protocols;
        std::int32_t old_rebalance_timeout_ms = 0;
        std::int32_t old_session_timeout_ms = 0;
        std::optional<std::string> old_leader;
        request_token token;
        std::int16_t version = 0;
    };
    enum class group_api { join, sync, heartbeat, leave, offset_commit, describe, delete_groups };

    // coordinator.cc: ownership, lookups, loading.
    model::kafka_error group_status(model::partition_id partition, std::string_view group_id,
                                    group_api api) const;
    classic_group* find_group(std::string_view group_id);
    classic_group* find_owned(model::partition_id partition, std::string_view group_id);
    classic_group* create_group(model::partition_id partition, std::string_view group_id,
                                model::timestamp_ms now);
    void drop_group(classic_group& g, model::timestamp_ms now, std::string_view reason);
    void maybe_drop_unused(classic_group& g, model::timestamp_ms now);
    void load_group(model::partition_id partition, loaded_group lg, model::timestamp_ms now);
    void answer_parked_on_unload(classic_group& g);
    effects take_effects();

    // join.cc
    void join_new_member(classic_group& g, request_token token, const join_request& r,
                         model::timestamp_ms now);
    void join_known_member(classic_group& g, request_token token, const join_request& r,
                           model::timestamp_ms now);
    void join_current_generation(classic_group& g, request_token token, const join_request& r,
                                 model::timestamp_ms now);
    bool accept_joining_member(const classic_group& g, const join_request& r) const;
    void add_member_and_rebalance(classic_group& g, request_token token, const join_request& r,
                                  std::string member_id, model::timestamp_ms now);
    void update_member(classic_group& g, group_member& m, const join_request& r,
                       std::optional<parked_join> join);
    void update_member_and_rebalance(classic_group& g, group_member& m, request_token token,
                                     const join_request& r, model::timestamp_ms now);
    void replace_static_member(classic_group& g, request_token token, const join_request& r,
                               const std::string& old_id, std::string new_id,
                               model::timestamp_ms now);
    void store_static_replacement(classic_group& g, pending_append pa);
    void finish_static_replacement(classic_group& g, const pending_append& pa,
                                   model::kafka_error error, model::timestamp_ms now);

    // rebalance.cc
    void maybe_prepare_rebalance(classic_group& g, model::timestamp_ms now,
                                 std::string_view reason);
    void prepare_rebalance(classic_group& g, model::timestamp_ms now, std::string_view reason);
    void maybe_complete_join(classic_group& g, model::timestamp_ms now);
    void complete_join(classic_group& g, model::timestamp_ms now);
    void remove_unjoined_members(classic_group& g);
    bool elect_joined_leader(classic_group& g);
    void init_next_generation(classic_group& g, model::timestamp_ms now);
    void remove_member(classic_group& g, std::string_view member_id, std::string_view reason);
    void remove_member_and_update(classic_group& g, std::string_view member_id,
                                  model::timestamp_ms now, std::string_view reason);
    void remove_pending_member(classic_group& g, std::string_view member_id,
                               model::timestamp_ms now);
    void remove_pending_sync(classic_group& g, std::string_view member_id);
    void reset_and_propagate_error(classic_group& g, model::kafka_error error,
                                   model::timestamp_ms now);
    void propagate_assignment(classic_group& g, model::kafka_error error,
                              model::timestamp_ms now);
    void answer_join(group_member& m, join_response response);
    void answer_sync(group_member& m, sync_response response);
    join_response generation_response(const classic_group& g, const group_member& m,
                                      bool with_members) const;
    void arm_session(const classic_group& g, const group_member& m, model::timestamp_ms now,
                     std::int64_t timeout_ms);
    void log_transition(const classic_group& g, group_state from, std::string_view reason) const;

    // sync.cc
    void sync_completing(classic_group& g, group_member& m, request_token token,
                         const sync_request& r, model::timestamp_ms now);
    void store_assignment(classic_group& g, const sync_request& r, model::timestamp_ms now);
    append_token request_append(const classic_group& g, group_metadata_value value,
                                pending_append pa);
    void finish_assignment(classic_group& g, const pending_append& pa, model::kafka_error error,
                           model::timestamp_ms now);

    // membership.cc: leave, queries, offset commits.
    leave_member_result leave_one(classic_group& g, const leave_member& lm,
                                  model::timestamp_ms now);
    deleted_group delete_one(const group_ref& ref, model::timestamp_ms now);
    static model::kafka_error commit_error(const classic_group& g, const commit_identity& c);

    // timers.cc
    void fire(const timer_key& key, model::timestamp_ms now);
    void on_join_deadline(classic_group& g, model::timestamp_ms now);
    void on_sync_deadline(classic_group& g, model::timestamp_ms now);
    void on_session_deadline(classic_group& g, std::string_view member_id,
                             model::timestamp_ms now);
    std::string check_group(const classic_group& g, model::timestamp_ms now) const;

    group_config cfg_;
    uuid_source new_uuid_;
    std::map<std::string, classic_group, std::less<>> groups_;
    std::map<model::partition_id, partition_slot> partitions_;
    std::map<append_token, pending_append> appends_;
    deadline_index timers_;
    std::uint64_t next_append_token_ = 1;
    effects out_;  // what the current call returns
};

}  // namespace gregor::group

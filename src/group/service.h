// group_service: the group coordinator as the broker runs it.
//
// It drives the sans-IO cores of this module on the broker's event loop: the membership
// state machine (group_coordinator) and one offset_store per `__consumer_offsets` partition
// this broker leads. It carries out their effects: parked JoinGroup/SyncGroup answers reach
// the awaiting handler, group records and offset commits are appended to the offsets
// partition through the offsets_log port and answered only once the partition's high
// watermark passed them (acks=all, offsets.commit.timeout.ms), tombstones are appended with
// acks=0, and one timer follows the state machine's next deadline. Becoming leader of an
// offsets partition loads it (groups and offsets replayed from the log start to the log end
// offset, in chunks, yielding to the loop between them); resigning unloads it.
// Every `offsets.retention.check.interval.ms` it expires offsets (KIP-211).
//
// Handlers compute nothing about groups: they translate the Kafka messages of every
// version to and from the structs of group/messages.h and group/offsets.h and call one
// method here. Errors are Kafka's (model::kafka_error), ready for the wire.
//
// Threading: the broker's loop only; the offsets_log port is called on it too.
#pragma once

#include "group/append_queue.h"
#include "group/config.h"
#include "group/group_coordinator.h"
#include "group/messages.h"
#include "group/offsets.h"
#include "group/offsets_log.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"
#include "net/asio.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::group {

namespace asio = boost::asio;

// The broker configs of the group coordinator, with Kafka's names and 3.8 defaults.
struct service_config {
    group_config groups;
    offsets_config offsets;
    // offsets.topic.num.partitions: the partition count used until the topic exists.
    std::int32_t offsets_topic_partitions = 50;
    // offsets.commit.timeout.ms: how long an append waits for the ISR.
    std::chrono::milliseconds commit_timeout{5000};
    // offsets.retention.check.interval.ms.
    std::chrono::milliseconds retention_check_interval{600000};
    // offsets.load.buffer.size: the read chunk while loading.
    std::size_t load_buffer_bytes = 5 * 1024 * 1024;
    // The largest batch a load accepts, and its largest decompressed size.
    std::size_t load_batch_bytes_max = 64 * 1024 * 1024;
    std::size_t load_decompressed_bytes_max = 256 * 1024 * 1024;
};

// OffsetFetch's answer for one group.
struct offset_fetch_result {
    model::kafka_error error = model::kafka_error::none;  // group-level
    std::vector<fetched_offset> offsets;
};

class group_service {
public:
    using clock_source = std::function<model::timestamp_ms()>;

    // REQUIRES: `log` outlives the service; `now` is wall-clock milliseconds.
    group_service(asio::io_context& ioc, service_config config, offsets_log& log, clock_source now,
                  uuid_source new_uuid);
    ~group_service();
    group_service(const group_service&) = delete;
    group_service& operator=(const group_service&) = delete;

    // Starts the expiry timer. stop() cancels every timer and load and answers every
    // parked request NOT_COORDINATOR (broker shutdown).
    void start();
    void stop();

    // The partition count of `__consumer_offsets`, fixed the first time the topic is seen
    // (Kafka reads it once; changing it would move groups).
    void set_partition_count(std::int32_t partitions);
    std::int32_t partition_count() const { return partitions_; }
    // The offsets partition that coordinates `group_id` (Java's String.hashCode, Kafka's
    // Utils.abs, modulo the partition count).
    model::partition_id partition_for(std::string_view group_id) const;

    // ---- Offsets partition ownership, in the order the controller's requests arrive.

    // LeaderAndIsr made this broker leader of `__consumer_offsets-p` in `epoch`: load it.
    void became_leader(model::partition_id p, model::leader_epoch epoch);
    // LeaderAndIsr made it a follower (epoch given), or StopReplica removed it (epoch may be
    // none): unload its groups and offsets.
    void resigned(model::partition_id p, std::optional<model::leader_epoch> epoch);
    // The status of the partition that coordinates `group_id`.
    partition_status status_of(std::string_view group_id) const;

    // ---- JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups,
    // DeleteGroups: group/messages.h says what each field means per version.

    // Answers once the join phase ends (or at once for errors and MEMBER_ID_REQUIRED).
    asio::awaitable<join_response> join(join_request request);
    // Answers once the leader's assignment is stored (or at once for errors).
    asio::awaitable<sync_response> sync(sync_request request);
    model::kafka_error heartbeat(const heartbeat_request& request);
    leave_response leave(const leave_request& request);
    described_group describe(std::string_view group_id) const;
    // The groups this broker coordinates.
    list_groups_response list(std::span<const std::string> states_filter,
                              std::span<const std::string> types_filter) const;
    // One result per distinct group, in request order; deleted groups lose their offsets
    // (tombstones written with acks=0).
    std::vector<deleted_group> delete_groups(std::span<const std::string> group_ids);

    // ---- OffsetCommit, OffsetFetch, OffsetDelete.

    // OffsetCommit: `who` is the group, generation, member and instance the request names
    // (generation -1 and member "" for OffsetCommit v0 and for assign() consumers). Answers
    // one error per partition of `request`, in order, once the commit is stored or failed.
    // The handler checks topics beforehand (UNKNOWN_TOPIC_OR_PARTITION) and leaves those
    // partitions out.
    asio::awaitable<std::vector<partition_error>> commit(commit_identity who,
                                                         commit_request request);
    // OffsetFetch for one group: `partitions` none = every committed partition.
    offset_fetch_result fetch(std::string_view group_id,
                              const std::optional<std::vector<model::topic_partition>>& partitions,
                              bool require_stable) const;
    // OffsetDelete: the top-level error, and per partition when it is NONE.
    offset_delete_result delete_offsets(std::string_view group_id,
                                        std::span<const model::topic_partition> partitions);

    // Introspection (tests, metrics).
    const group_coordinator& coordinator() const { return coordinator_; }
    std::size_t committed_offsets() const;

private:
    // A parked JoinGroup or SyncGroup: the handler waits on `signal` until `answered`.
    struct parked;

    void run(effects out);
    void arm_deadline_timer();
    void append_group_record_of(const append_group_record& a);
    void append_tombstones(model::partition_id p, std::string_view group,
                           const group_cleanup& cleanup);
    asio::awaitable<void> load(model::partition_id p, model::leader_epoch epoch);
    void expire_offsets();
    void arm_expiry_timer();
    offset_store* store_for(model::partition_id p);
    const offset_store* store_for(model::partition_id p) const;
    model::kafka_error offsets_status(model::partition_id p) const;

    asio::io_context& ioc_;
    service_config config_;
    offsets_log& log_;
    // Every append goes through it: coalesced per partition while one waits (group commit).
    append_queue appends_;
    clock_source now_;
    group_coordinator coordinator_;
    std::int32_t partitions_;
    bool partitions_fixed_ = false;
    std::map<model::partition_id, offset_store> stores_;
    // Bumped by every load: a commit's append that ends after its store was replaced
    // leaves the new store alone.
    std::map<model::partition_id, std::uint64_t> store_generations_;
    // The epoch of each partition's current load; a load that finds another epoch here
    // (resigned meanwhile, or a newer leadership) gives up.
    std::map<model::partition_id, model::leader_epoch> loading_;
    std::map<std::uint64_t, std::shared_ptr<parked>> parked_;
    std::uint64_t next_token_ = 1;
    asio::steady_timer deadline_timer_;
    std::optional<model::timestamp_ms> armed_deadline_;  // what deadline_timer_ waits for
    asio::steady_timer expiry_timer_;
    bool stopped_ = false;
    // Cleared by the destructor: completions that arrive later do nothing.
    std::shared_ptr<bool> alive_;
};

}  // namespace gregor::group

// group_client: the consumer-group operations behind `gregor groups ...`, through the
// Kafka protocol only, as Kafka's admin client performs them.
//
// ListGroups goes to every broker (each lists only the groups it coordinates). The other
// group requests go to the group's coordinator, found with FindCoordinator (GROUP key).
// While a coordinator is unknown, loading or has moved (COORDINATOR_NOT_AVAILABLE,
// COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR, or its connection breaks), a call looks
// it up again and retries with a backoff of group_backoff_min doubling to group_backoff_max,
// for at most `retry_timeout` per call; then it fails with errc::no_coordinator naming the
// last error. ListOffsets goes to each partition's leader (Metadata), retrying retriable
// partition errors in the same way.
//
// Blocking; one thread. Holds one connection per broker it has talked to.
#pragma once

#include "admin/admin_client.h"
#include "admin/group_model.h"
#include "protocol/messages/list_offsets.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gregor::admin {

inline constexpr std::chrono::milliseconds group_backoff_min{100};
inline constexpr std::chrono::milliseconds group_backoff_max{1000};

// ListOffsets' special timestamps.
inline constexpr std::int64_t latest_timestamp = -1;
inline constexpr std::int64_t earliest_timestamp = -2;

class group_client {
public:
    // REQUIRES: `admin` outlives this client.
    group_client(admin_client& admin, std::chrono::milliseconds request_timeout,
                 std::chrono::milliseconds retry_timeout);

    // Every consumer group (protocol type "consumer" or none, as Kafka's admin client
    // lists them) of every broker. `states` (canonical names) is sent as ListGroups v4's
    // StatesFilter and also applied here, for brokers older than v4.
    result<std::vector<listed_group>> list_groups(const std::vector<std::string>& states);
    // The coordinator of `group` (FindCoordinator), cached.
    result<coordinator_info> find_coordinator(const std::string& group);
    // DescribeGroups for one group, with its coordinator. An unknown group is state "Dead".
    result<group_description> describe_group(const std::string& group);
    // The group's committed offsets (OffsetFetch with every partition); partitions
    // without a committed offset are left out.
    result<offset_map> fetch_offsets(const std::string& group);
    // OffsetCommit as an admin does it (generation -1, no member id): the error code of
    // each partition, 0 for committed.
    result<std::map<topic_partition, std::int16_t>> commit_offsets(
        const std::string& group, const std::vector<planned_offset>& offsets);
    // DeleteGroups for one group: Kafka's error code, 0 for deleted.
    result<std::int16_t> delete_group(const std::string& group);
    // ListOffsets at `timestamp` (latest_timestamp, earliest_timestamp or ms since the
    // epoch) from each partition's leader: the offset, or nullopt where no record is at or
    // after the timestamp.
    result<std::map<topic_partition, std::optional<std::int64_t>>> list_offsets(
        const std::vector<topic_partition>& partitions, std::int64_t timestamp);
    // Every partition of `topics` (Metadata); errc::request_failed for a topic the cluster
    // does not know.
    result<std::vector<topic_partition>> partitions_of(const std::vector<std::string>& topics);

private:
    using clock = std::chrono::steady_clock;

    // Sends a request built by `make(version)` to the group's coordinator until
    // `group_error(response)` is not a coordinator error, or the retry deadline passes.
    template <class Api>
    result<typename Api::response_type> to_coordinator(
        const std::string& group, std::int16_t min_version,
        const std::function<typename Api::request_type(std::int16_t)>& make,
        const std::function<std::int16_t(const typename Api::response_type&)>& group_error);
    // One FindCoordinator round trip: the coordinator, or its error code.
    result<std::pair<coordinator_info, std::int16_t>> lookup_coordinator(const std::string& group);
    result<connection*> coordinator_connection(const std::string& group);
    result<connection*> broker(std::int32_t id, const std::string& host, std::int32_t port);
    // ListGroups on one broker, retrying while it loads.
    result<std::vector<listed_group>> list_groups_on(std::int32_t id, const std::string& host,
                                                     std::int32_t port,
                                                     const std::vector<std::string>& states);
    // One ListOffsets pass: the offsets found, and the partitions to retry (a retriable
    // error, or no leader); or a non-retriable error.
    struct offsets_pass {
        std::map<topic_partition, std::optional<std::int64_t>> found;
        std::vector<topic_partition> retry;
        std::string last_error;  // why the last partition is retried
    };
    result<offsets_pass> list_offsets_once(const std::vector<topic_partition>& partitions,
                                           std::int64_t timestamp);
    // Adds one ListOffsets response to `pass` (found or retried); a non-retriable
    // partition error fails it.
    static result<void> take_offsets(const protocol::list_offsets_response& resp,
                                     offsets_pass& pass);
    // Sleeps for the next backoff; returns false (without sleeping) once past `deadline`.
    static bool back_off(std::chrono::milliseconds& backoff, clock::time_point deadline);

    admin_client& admin_;
    std::chrono::milliseconds request_timeout_;
    std::chrono::milliseconds retry_timeout_;
    std::map<std::string, coordinator_info> coordinators_;
    std::map<std::int32_t, std::unique_ptr<connection>> brokers_;
};

}  // namespace gregor::admin

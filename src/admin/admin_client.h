// admin_client: the Kafka admin operations behind `gregor topics`, `gregor cluster
// describe|health` and `gregor leaders elect`, through the Kafka protocol only.
//
// Reads go to any bootstrap server. Writes (CreateTopics, DeleteTopics, CreatePartitions,
// IncrementalAlterConfigs, ElectLeaders, Alter/ListPartitionReassignments) go to the controller
// found through Metadata; when an answer says NOT_CONTROLLER (the controller moved), the client
// refreshes Metadata and retries, at most controller_attempts_max times. Blocking; one thread.
#pragma once

#include "admin/connection.h"
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/elect_leaders.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/list_partition_reassignments.h"
#include "protocol/messages/metadata.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gregor::admin {

inline constexpr int controller_attempts_max = 5;
inline constexpr std::chrono::milliseconds controller_retry_backoff{500};

class admin_client {
public:
    // Connects to the first bootstrap server that answers.
    static result<std::unique_ptr<admin_client>> connect(std::vector<endpoint> bootstrap,
                                                         std::chrono::milliseconds timeout);

    // Metadata for `topics` (nullopt: every topic); never auto-creates topics.
    result<protocol::metadata_response> metadata(
        const std::optional<std::vector<std::string>>& topics);
    // DescribeCluster, or nullopt-equivalent errc::unsupported if the broker lacks it.
    result<protocol::describe_cluster_response> describe_cluster();
    result<protocol::describe_configs_response> describe_topic_configs(
        const std::vector<std::string>& topics,
        const std::optional<std::vector<std::string>>& keys);

    result<protocol::create_topics_response> create_topics(protocol::create_topics_request req);
    result<protocol::delete_topics_response> delete_topics(const std::vector<std::string>& names,
                                                           std::chrono::milliseconds timeout);
    result<protocol::create_partitions_response> create_partitions(
        protocol::create_partitions_request req);
    result<protocol::incremental_alter_configs_response> alter_configs(
        protocol::incremental_alter_configs_request req);
    result<protocol::elect_leaders_response> elect_leaders(protocol::elect_leaders_request req);
    result<protocol::alter_partition_reassignments_response> alter_reassignments(
        protocol::alter_partition_reassignments_request req);
    // Answered by the controller (it alone knows the reassignments in progress).
    result<protocol::list_partition_reassignments_response> list_reassignments(
        protocol::list_partition_reassignments_request req);

    const endpoint& bootstrap_peer() const { return bootstrap_->peer(); }
    // The bootstrap connection, for requests any broker answers (FindCoordinator).
    connection& bootstrap_connection() { return *bootstrap_; }

private:
    admin_client(std::unique_ptr<connection> bootstrap, std::chrono::milliseconds timeout);
    // Connects to the current controller (refreshing Metadata).
    result<connection*> controller();
    // Sends `req` to the controller; retries while `moved(response)` says NOT_CONTROLLER.
    // A request that is not `idempotent` is not sent again once it may have been delivered
    // (the connection broke or timed out mid-request): the controller may have acted on it,
    // and a second CreateTopics would report the topic it created as already existing.
    template <class Api>
    result<typename Api::response_type> to_controller(
        const typename Api::request_type& req, std::int16_t min_version,
        const std::function<bool(const typename Api::response_type&)>& moved,
        bool idempotent = true);

    std::unique_ptr<connection> bootstrap_;
    std::unique_ptr<connection> controller_;
    std::chrono::milliseconds timeout_;
};

}  // namespace gregor::admin

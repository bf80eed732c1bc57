// The one list of Kafka APIs the broker implements. dispatch.cc builds its dispatch table
// from it and the ApiVersions handler advertises it, so what is advertised is exactly what
// is handled: an API with a handler here is advertised with its schema's full version range.
#pragma once

#include "broker/handlers/api_versions.h"
#include "broker/handlers/config_apis.h"
#include "broker/handlers/controller_apis.h"
#include "broker/handlers/describe_cluster.h"
#include "broker/handlers/describe_producers.h"
#include "broker/handlers/fetch.h"
#include "broker/handlers/find_coordinator.h"
#include "broker/handlers/group_apis.h"
#include "broker/handlers/init_producer_id.h"
#include "broker/handlers/leader_and_isr.h"
#include "broker/handlers/list_offsets.h"
#include "broker/handlers/metadata.h"
#include "broker/handlers/offset_apis.h"
#include "broker/handlers/offset_for_leader_epoch.h"
#include "broker/handlers/produce.h"
#include "broker/handlers/stop_replica.h"
#include "broker/handlers/update_metadata.h"

namespace gregor::broker {

template <class... Apis>
struct api_list {};

using handled_apis =
    api_list<protocol::produce_api, protocol::fetch_api, protocol::list_offsets_api,
             protocol::metadata_api, protocol::leader_and_isr_api, protocol::stop_replica_api,
             protocol::update_metadata_api, protocol::find_coordinator_api,
             protocol::api_versions_api, protocol::describe_cluster_api,
             protocol::create_topics_api, protocol::delete_topics_api,
             protocol::controlled_shutdown_api, protocol::alter_partition_api,
             protocol::offset_for_leader_epoch_api, protocol::elect_leaders_api,
             protocol::create_partitions_api, protocol::alter_partition_reassignments_api,
             protocol::list_partition_reassignments_api, protocol::describe_configs_api,
             protocol::incremental_alter_configs_api, protocol::alter_configs_api,
             // The group coordinator's APIs.
             protocol::join_group_api, protocol::sync_group_api, protocol::heartbeat_api,
             protocol::leave_group_api, protocol::describe_groups_api, protocol::list_groups_api,
             protocol::delete_groups_api, protocol::offset_commit_api, protocol::offset_fetch_api,
             protocol::offset_delete_api,
             // Idempotent producers.
             protocol::init_producer_id_api, protocol::describe_producers_api>;

// The highest version served, when below the schema's: Fetch v13+ names topics by topic id,
// which the broker does not assign yet.
template <class Api>
inline constexpr std::int16_t served_version_max = Api::version_max;
template <>
inline constexpr std::int16_t served_version_max<protocol::fetch_api> = 12;

}  // namespace gregor::broker

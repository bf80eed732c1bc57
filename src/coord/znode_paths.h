// Kafka's ZooKeeper layout: every znode path gregor reads or writes.
//
// The layout is Kafka's own (ZooKeeper mode, 2.x/3.x), so zkCli.sh shows a gregor cluster
// exactly as it shows a Kafka cluster. Only two kinds of znode are ephemeral: /controller and
// /brokers/ids/<id>. Names read back from ZooKeeper (child lists) are untrusted and parsed
// with the parse_* helpers, which reject anything that is not exactly what Kafka writes.
// Pure functions; any thread.
#pragma once

#include "base/result.h"
#include "model/fundamental.h"

#include <span>
#include <string>
#include <string_view>

namespace gregor::coord::paths {

inline constexpr std::string_view cluster_id = "/cluster/id";
inline constexpr std::string_view controller = "/controller";
inline constexpr std::string_view controller_epoch = "/controller_epoch";
inline constexpr std::string_view consumers = "/consumers";
inline constexpr std::string_view brokers_ids = "/brokers/ids";
inline constexpr std::string_view brokers_topics = "/brokers/topics";
inline constexpr std::string_view brokers_seqid = "/brokers/seqid";
inline constexpr std::string_view config_changes = "/config/changes";
inline constexpr std::string_view config_topics = "/config/topics";
inline constexpr std::string_view admin_delete_topics = "/admin/delete_topics";
inline constexpr std::string_view reassign_partitions = "/admin/reassign_partitions";
inline constexpr std::string_view preferred_replica_election = "/admin/preferred_replica_election";
inline constexpr std::string_view isr_change_notification = "/isr_change_notification";
inline constexpr std::string_view log_dir_event_notification = "/log_dir_event_notification";
inline constexpr std::string_view feature = "/feature";
inline constexpr std::string_view latest_producer_id_block = "/latest_producer_id_block";
// gregor's own (see decode_unclean_receipt); Kafka's tools ignore it.
inline constexpr std::string_view unclean_receipts = "/gregor/unclean_receipts";

// Prefixes of persistent-sequential children (ZooKeeper appends a 10-digit counter).
inline constexpr std::string_view config_change_prefix = "config_change_";
inline constexpr std::string_view isr_change_prefix = "isr_change_";
inline constexpr std::string_view log_dir_event_prefix = "log_dir_event_";
inline constexpr std::string_view unclean_receipt_prefix = "receipt_";

// The paths every broker ensures at start (Kafka's createTopLevelPaths), each preceded by
// its missing ancestors, so creating them in order never hits a missing parent.
std::span<const std::string_view> top_level_paths();

std::string broker(model::node_id id);                 // /brokers/ids/<id>
std::string topic(std::string_view topic);             // /brokers/topics/<t>
std::string topic_partitions(std::string_view topic);  // /brokers/topics/<t>/partitions
std::string partition(std::string_view topic, model::partition_id p);
std::string partition_state(std::string_view topic, model::partition_id p);  // .../<p>/state
std::string topic_config(std::string_view topic);                            // /config/topics/<t>
std::string config_entity(std::string_view type, std::string_view name);     // /config/<type>/<n>
std::string delete_topic(std::string_view topic);  // /admin/delete_topics/<t>
// The path to create (persistent-sequential) for a config change notification.
std::string config_change_sequential();
std::string isr_change_sequential();
std::string log_dir_event_sequential();
std::string unclean_receipt_sequential();

// Parses a child name of /brokers/ids ("3") into a broker id: plain decimal, no sign, no
// leading zeros, within int32. Returns errc::malformed_data otherwise.
result<model::node_id> parse_broker_id(std::string_view child);
// Parses a child name of /brokers/topics/<t>/partitions into a partition id (same rules).
result<model::partition_id> parse_partition_id(std::string_view child);
// Parses the counter of a sequential child name with the given prefix
// ("config_change_0000000012" -> 12).
result<std::int64_t> parse_sequence(std::string_view child, std::string_view prefix);

}  // namespace gregor::coord::paths

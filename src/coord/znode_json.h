// JSON codecs for the content of Kafka's znodes, field for field.
//
// encode_* writes exactly what Kafka (ZooKeeper mode, 3.x) writes, so zkCli.sh and Kafka's
// own tools read a gregor cluster unchanged. decode_* treats the bytes as untrusted: wrong
// JSON, wrong types, out-of-range numbers or unknown versions give errc::malformed_data with
// the field named, never a crash or an exception. Versions accepted on read are listed per
// codec. Pure functions; any thread.
#pragma once

#include "base/result.h"
#include "model/fundamental.h"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::coord {

// /cluster/id: {"version":"1","id":"<22-char base64url UUID>"} (version is a string).
std::string encode_cluster_id(std::string_view id);
result<std::string> decode_cluster_id(std::string_view json);
// A cluster id from 16 random bytes: unpadded base64url, 22 characters (Kafka's Uuid form).
std::string make_cluster_id(std::span<const std::uint8_t, 16> bytes);
// The 16 bytes of an id make_cluster_id wrote (topic ids too), or nullopt if `id` is not one.
std::optional<std::array<std::uint8_t, 16>> parse_uuid_string(std::string_view id);
// Returns true iff `id` has the form make_cluster_id produces.
bool is_valid_uuid_string(std::string_view id);

// /controller: written as version 1; versions 1 and 2 (with kraftControllerEpoch) are read.
struct controller_data {
    model::node_id broker;
    model::timestamp_ms timestamp;
    std::optional<std::int32_t> kraft_controller_epoch;
};
std::string encode_controller(const controller_data& c);
result<controller_data> decode_controller(std::string_view json);

// /controller_epoch: the bare decimal epoch ("7"), not JSON.
std::string encode_controller_epoch(model::controller_epoch e);
result<model::controller_epoch> decode_controller_epoch(std::string_view text);

// /brokers/ids/<id>: written as version 5; versions 2..5 are read.
struct broker_endpoint {
    std::string listener;  // listener name, e.g. "PLAINTEXT" or "INTERNAL"
    std::string host;
    std::int32_t port = 0;
    std::string security_protocol;  // e.g. "PLAINTEXT", "SSL"
    bool operator==(const broker_endpoint&) const = default;
};
struct feature_range {
    std::int16_t min_version = 0;
    std::int16_t max_version = 0;
    bool operator==(const feature_range&) const = default;
};
struct broker_info {
    std::int32_t jmx_port = -1;
    model::timestamp_ms timestamp;
    std::vector<broker_endpoint> endpoints;
    std::optional<std::string> rack;
    std::map<std::string, feature_range> features;
    bool operator==(const broker_info&) const = default;
};
std::string encode_broker(const broker_info& b);
result<broker_info> decode_broker(std::string_view json);

// /brokers/topics/<t>: written as version 3 with a topic id, else version 2; 1..3 are read.
using replica_map = std::map<model::partition_id, std::vector<model::node_id>>;
struct topic_assignment {
    replica_map partitions;       // first replica = preferred leader
    replica_map adding_replicas;  // only partitions under reassignment
    replica_map removing_replicas;
    std::optional<std::string> topic_id;
    bool operator==(const topic_assignment&) const = default;
};
std::string encode_topic(const topic_assignment& t);
result<topic_assignment> decode_topic(std::string_view json);

// /brokers/topics/<t>/partitions/<p>/state: version 1.
// Fields ordered without padding (the controller holds one per partition).
struct partition_state {
    model::node_id leader;
    model::leader_epoch leader_epoch;
    model::controller_epoch controller_epoch;
    bool recovering = false;  // leader_recovery_state 1, written only when set
    std::vector<model::node_id> isr;
    bool operator==(const partition_state&) const = default;
};
std::string encode_partition_state(const partition_state& s);
result<partition_state> decode_partition_state(std::string_view json);

// /config/<type>/<name>: {"version":1,"config":{"k":"v"}} (values are strings).
using config_map = std::map<std::string, std::string>;
std::string encode_entity_config(const config_map& c);
result<config_map> decode_entity_config(std::string_view json);

// /config/changes/config_change_NNNNNNNNNN: written as version 2 {"entity_path":"topics/T"};
// version 1 ({"entity_type":"topics","entity_name":"T"}) is read and converted.
std::string encode_config_change(std::string_view entity_path);
result<std::string> decode_config_change(std::string_view json);

// /admin/reassign_partitions: {"version":1,"partitions":[{"topic","partition","replicas"}]}.
struct partition_reassignment {
    model::topic_partition tp;
    std::vector<model::node_id> replicas;
    bool operator==(const partition_reassignment&) const = default;
};
std::string encode_reassignment(std::span<const partition_reassignment> r);
result<std::vector<partition_reassignment>> decode_reassignment(std::string_view json);

// /admin/preferred_replica_election and /isr_change_notification/isr_change_N:
// {"version":1,"partitions":[{"topic":"T","partition":0}]}.
std::string encode_partition_list(std::span<const model::topic_partition> ps);
result<std::vector<model::topic_partition>> decode_partition_list(std::string_view json);

// /log_dir_event_notification/log_dir_event_N: {"version":1,"broker":N,"event":1}.
inline constexpr std::int32_t log_dir_failure_event = 1;
std::string encode_log_dir_event(model::node_id broker);
result<model::node_id> decode_log_dir_event(std::string_view json);

// gregor's own, beside Kafka's notifications (Kafka's tools ignore it):
// /gregor/unclean_receipts/receipt_N, a replica's receipt of what an unclean election cost,
// folded into the controller's decision journal. {"version":1,"broker":N,"topic":"t",
// "partition":p,"leader_epoch":e,"kind":"takeover"|"truncation","log_end_offset":o,
// "high_watermark":h[,"truncated_to":t]}.
//   takeover: `broker` became leader from outside the ISR with its log ending at
//     log_end_offset; whatever the old leader acknowledged from there on is gone (it had
//     acknowledged at least up to high_watermark, the high watermark known to `broker`).
//   truncation: `broker`, following the leader of leader_epoch, cut its log from
//     log_end_offset back to truncated_to, below its high watermark: the acknowledged
//     records [truncated_to, high_watermark) are gone.
struct unclean_receipt {
    model::node_id broker = model::no_node;
    model::topic_partition tp;
    model::leader_epoch leader_epoch{0};
    bool takeover = true;
    model::offset log_end_offset{0};
    model::offset high_watermark{0};
    model::offset truncated_to = model::no_offset;  // truncation only
    bool operator==(const unclean_receipt&) const = default;
};
std::string encode_unclean_receipt(const unclean_receipt& r);
// Checks the offsets' order too: takeover high_watermark <= log_end_offset; truncation
// truncated_to < high_watermark <= log_end_offset.
result<unclean_receipt> decode_unclean_receipt(std::string_view json);

// /feature: versions 1 and 2; status 0 disabled, 1 enabled; v2 drops min_version_level.
struct finalized_feature {
    std::int16_t max_version_level = 0;
    std::optional<std::int16_t> min_version_level;
    bool operator==(const finalized_feature&) const = default;
};
struct feature_znode {
    int version = 2;
    bool enabled = true;
    std::map<std::string, finalized_feature> features;
    bool operator==(const feature_znode&) const = default;
};
std::string encode_feature(const feature_znode& f);
result<feature_znode> decode_feature(std::string_view json);

// /latest_producer_id_block: {"version":1,"broker":N,"block_start":"S","block_end":"E"}.
struct producer_id_block {
    model::node_id broker;
    model::producer_id block_start;
    model::producer_id block_end;
    bool operator==(const producer_id_block&) const = default;
};
std::string encode_producer_id_block(const producer_id_block& b);
result<producer_id_block> decode_producer_id_block(std::string_view json);

}  // namespace gregor::coord

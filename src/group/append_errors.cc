#include "group/append_errors.h"

#include <optional>

namespace gregor::group {
namespace {

using model::kafka_error;

// The rows both tables share; nullopt for the rest.
std::optional<kafka_error> common_mapping(kafka_error e) {
    switch (e) {
    case kafka_error::unknown_topic_or_partition:
    case kafka_error::not_enough_replicas:
    case kafka_error::not_enough_replicas_after_append:
        return kafka_error::coordinator_not_available;
    case kafka_error::not_leader_or_follower:
    case kafka_error::kafka_storage_error:
        return kafka_error::not_coordinator;
    default:
        return std::nullopt;
    }
}

bool is_size_error(kafka_error e) {
    return e == kafka_error::message_too_large || e == kafka_error::record_list_too_large ||
           e == kafka_error::invalid_fetch_size;
}

}  // namespace

model::kafka_error offset_commit_append_error(model::kafka_error append_error) {
    if (auto mapped = common_mapping(append_error)) {
        return *mapped;
    }
    if (is_size_error(append_error)) {
        return kafka_error::invalid_commit_offset_size;
    }
    if (append_error == kafka_error::network_exception) {
        return kafka_error::coordinator_load_in_progress;
    }
    return append_error;
}

model::kafka_error group_metadata_append_error(model::kafka_error append_error) {
    if (auto mapped = common_mapping(append_error)) {
        return *mapped;
    }
    if (is_size_error(append_error)) {
        return kafka_error::unknown_server_error;
    }
    if (append_error == kafka_error::request_timed_out) {
        return kafka_error::rebalance_in_progress;
    }
    return append_error;
}

}  // namespace gregor::group

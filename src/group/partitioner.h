// Which `__consumer_offsets` partition owns a group (and so which broker coordinates it).
//
// Kafka: partition = Utils.abs(groupId.hashCode()) % partition count. hashCode runs over the
// UTF-16 code units of the Java String (group/java_string.h: a non-BMP character counts as
// two surrogate units, ill-formed UTF-8 as the U+FFFD the client's decoder would have
// produced). Utils.abs maps INT32_MIN to 0, unlike Math.abs. The partition count is the one
// the coordinator read at start-up; changing it re-homes groups. Pure; any thread.
#pragma once

#include "model/fundamental.h"

#include <cstdint>
#include <string_view>

namespace gregor::group {

// The internal topic that holds every group's records and committed offsets.
inline constexpr std::string_view offsets_topic_name = "__consumer_offsets";

// Kafka's Utils.abs: |n|, and 0 for INT32_MIN (whose magnitude does not fit).
std::int32_t kafka_abs(std::int32_t n);

// The offsets partition of `group_id_utf8`. REQUIRES: partition_count > 0.
model::partition_id offsets_partition_for(std::string_view group_id_utf8,
                                          std::int32_t partition_count);

}  // namespace gregor::group

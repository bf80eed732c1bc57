// Strong types for the identifiers, epochs and offsets that cross module boundaries.
//
// Every one of these is an integer on the Kafka wire and in ZooKeeper, but mixing them up
// (an offset where a leader epoch belongs, a broker epoch where a controller epoch
// belongs) is a classic source of fencing bugs, so each gets its own type. Value types.
#pragma once

#include "base/named_type.h"

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <string>

namespace gregor::model {

using node_id = named_type<std::int32_t, struct node_id_tag>;
using partition_id = named_type<std::int32_t, struct partition_id_tag>;
using offset = named_type<std::int64_t, struct offset_tag>;
using leader_epoch = named_type<std::int32_t, struct leader_epoch_tag>;
using controller_epoch = named_type<std::int32_t, struct controller_epoch_tag>;
// The czxid of a broker's /brokers/ids/<id> registration znode.
using broker_epoch = named_type<std::int64_t, struct broker_epoch_tag>;
// A znode's data version (Stat.version) for conditional writes.
using zk_version = named_type<std::int32_t, struct zk_version_tag>;
using timestamp_ms = named_type<std::int64_t, struct timestamp_ms_tag>;
using producer_id = named_type<std::int64_t, struct producer_id_tag>;

// Kafka's sentinels.
inline constexpr node_id no_node{-1};
inline constexpr leader_epoch no_leader_epoch{-1};
inline constexpr offset no_offset{-1};
inline constexpr broker_epoch no_broker_epoch{-1};
inline constexpr controller_epoch no_controller_epoch{0};

// A topic name plus partition index: the key of almost every map in the broker.
struct topic_partition {
    std::string topic;
    partition_id partition;

    auto operator<=>(const topic_partition&) const = default;
};

}  // namespace gregor::model

template <>
struct std::hash<gregor::model::topic_partition> {
    std::size_t operator()(const gregor::model::topic_partition& tp) const noexcept {
        std::size_t h = std::hash<std::string>{}(tp.topic);
        return h ^ (std::hash<std::int32_t>{}(tp.partition()) + 0x9e3779b97f4a7c15ULL + (h << 6) +
                    (h >> 2));
    }
};

template <>
struct fmt::formatter<gregor::model::topic_partition> : fmt::formatter<std::string_view> {
    auto format(const gregor::model::topic_partition& tp, fmt::format_context& ctx) const {
        return fmt::format_to(ctx.out(), "{}-{}", tp.topic, tp.partition());
    }
};

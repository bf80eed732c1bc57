// Kafka's replica assignment for new topics and new partitions, as pure functions.
//
// CreateTopics and CreatePartitions without an explicit assignment ask these functions
// which brokers hold each partition's replicas; the controller then writes the map to
// /brokers/topics/<t>. The two algorithms are Kafka's (AdminUtils.assignReplicasToBrokers):
//
// - rack-unaware: brokers sorted by id form a ring. Partition p's first replica (its
//   preferred leader) is ring[(p + start_index) % n]; replica j (j >= 1) sits
//   1 + (shift + j - 1) % (n - 1) places after it, and the shift grows by one each time p
//   passes a multiple of n. Leaders thus rotate over every broker, and followers spread
//   too instead of always sitting next to their leader.
// - rack-aware (every broker has a rack): the ring alternates racks (racks by name, brokers
//   by id within a rack: r1b0, r2b0, r3b0, r1b1, ...), and each follower skips brokers
//   whose rack already holds a replica while some rack holds none, so a partition spans
//   min(rf, #racks) racks.
//
// start_index and the initial shift are random in Kafka; here they come from `seed`
// (std::mt19937_64, so one seed gives the same assignment on every platform), or are given
// explicitly with assign_replicas_from. Errors are returned as admin_result<T>, a value or
// an admin_error holding the Kafka error code and message a CreateTopics or
// CreatePartitions response carries. Pure functions; any thread.
#pragma once

#include "base/assert.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gregor::controller {

struct broker_rack {
    model::node_id id;
    std::optional<std::string> rack;
};

// Partition -> replicas, first replica = preferred leader (the type of coord::replica_map).
using replica_map = std::map<model::partition_id, std::vector<model::node_id>>;

// Partition ids an assignment may reach (start_partition + partitions): bounds the map one
// request can make the controller build.
inline constexpr std::int32_t assigned_partitions_max = 100'000;

struct admin_error {
    model::kafka_error code;
    std::string message;

    bool operator==(const admin_error&) const = default;
};

inline admin_error admin_fail(model::kafka_error code, std::string message) {
    return admin_error{code, std::move(message)};
}

// A value or the admin_error that replaces it.
template <class T>
class [[nodiscard]] admin_result {
public:
    admin_result(T value) : state_(std::in_place_index<0>, std::move(value)) {}    // NOLINT
    admin_result(admin_error e) : state_(std::in_place_index<1>, std::move(e)) {}  // NOLINT

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    const T& value() const& {
        GREGOR_ASSERT(has_value(), "value() on an admin error: {}", std::get<1>(state_).message);
        return std::get<0>(state_);
    }
    T&& value() && {
        GREGOR_ASSERT(has_value(), "value() on an admin error: {}", std::get<1>(state_).message);
        return std::get<0>(std::move(state_));
    }
    const admin_error& err() const {
        GREGOR_ASSERT(!has_value(), "err() on a value");
        return std::get<1>(state_);
    }

private:
    std::variant<T, admin_error> state_;
};

// What to do with racks (Kafka's RackAwareMode). enforced: rack-aware when every broker
// has a rack, an error when only some have one. safe: rack-aware when every broker has a
// rack, else rack-unaware. disabled: always rack-unaware.
enum class rack_mode { enforced, safe, disabled };

// The two numbers Kafka draws at random: the ring index of partition 0's leader and the
// initial follower shift. Kafka's CreatePartitions fixes both to the same value.
struct placement_start {
    std::uint32_t start_index = 0;
    std::uint32_t replica_shift = 0;
};

// Assigns `rf` replicas to each of the partitions start_partition ..
// start_partition + partitions - 1 (CreatePartitions passes the current partition count;
// a negative start_partition counts as 0, as in Kafka). Broker order in `brokers` does not
// matter; a broker id listed twice counts once. Errors (code, message):
// - partitions <= 0: INVALID_PARTITIONS "Number of partitions must be larger than 0."
// - rf <= 0: INVALID_REPLICATION_FACTOR "Replication factor must be larger than 0."
// - rf > brokers: INVALID_REPLICATION_FACTOR
//   "Replication factor: 3 larger than available brokers: 2."
// - racks on some brokers only (rack_mode::enforced): INVALID_REPLICATION_FACTOR
//   "Not all brokers have rack information for replica rack aware assignment."
// - partition ids beyond assigned_partitions_max: INVALID_PARTITIONS.
admin_result<replica_map> assign_replicas(std::span<const broker_rack> brokers,
                                          std::int32_t partitions, std::int16_t rf,
                                          std::uint64_t seed, std::int32_t start_partition = 0,
                                          rack_mode mode = rack_mode::enforced);

// assign_replicas with Kafka's two random numbers given (the same errors). start_index is
// taken modulo the number of brokers; Kafka draws both from [0, number of brokers).
admin_result<replica_map> assign_replicas_from(std::span<const broker_rack> brokers,
                                               std::int32_t partitions, std::int16_t rf,
                                               placement_start start,
                                               std::int32_t start_partition = 0,
                                               rack_mode mode = rack_mode::enforced);

// CreatePartitions without an explicit assignment, as Kafka's ZK-mode controller does it:
// the replication factor is partition 0's; start index and shift are the position of the
// first broker (by id) whose id is >= partition 0's preferred leader (0 if none). Returns
// only the new partitions, numbered from existing.size(). Errors, besides assign_replicas':
// - new_total < existing: INVALID_PARTITIONS
//   "Topic currently has 3 partitions, which is higher than the requested 2."
// - new_total == existing: INVALID_PARTITIONS "Topic already has 3 partitions."
// - partition 0 missing or without replicas: UNKNOWN_SERVER_ERROR.
admin_result<replica_map> assign_added_partitions(std::span<const broker_rack> brokers,
                                                  const replica_map& existing,
                                                  std::int32_t new_total,
                                                  rack_mode mode = rack_mode::enforced);

// The rack-alternating broker ring of the rack-aware algorithm (racks by name, brokers by
// id within a rack). Brokers without a rack are left out; an id listed twice counts once.
std::vector<model::node_id> rack_alternated_brokers(std::span<const broker_rack> brokers);

}  // namespace gregor::controller

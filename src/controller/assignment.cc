#include "controller/assignment.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <random>
#include <set>
#include <string_view>

namespace gregor::controller {
namespace {

using model::kafka_error;
using model::node_id;

admin_error invalid_partitions(std::string message) {
    return {kafka_error::invalid_partitions, std::move(message)};
}

admin_error invalid_replication_factor(std::string message) {
    return {kafka_error::invalid_replication_factor, std::move(message)};
}

// Brokers sorted by id, each id once (its first entry wins).
std::vector<broker_rack> normalized(std::span<const broker_rack> brokers) {
    std::vector<broker_rack> out(brokers.begin(), brokers.end());
    std::stable_sort(out.begin(), out.end(),
                     [](const broker_rack& a, const broker_rack& b) { return a.id < b.id; });
    auto last = std::unique(out.begin(), out.end(), [](const broker_rack& a, const broker_rack& b) {
        return a.id == b.id;
    });
    out.erase(last, out.end());
    return out;
}

std::optional<admin_error> check_request(std::size_t brokers, std::int32_t partitions,
                                         std::int16_t rf, std::int32_t first_partition) {
    if (partitions <= 0) {
        return invalid_partitions("Number of partitions must be larger than 0.");
    }
    if (rf <= 0) {
        return invalid_replication_factor("Replication factor must be larger than 0.");
    }
    if (static_cast<std::size_t>(rf) > brokers) {
        return invalid_replication_factor(
            fmt::format("Replication factor: {} larger than available brokers: {}.", rf, brokers));
    }
    if (partitions > assigned_partitions_max - first_partition) {
        return invalid_partitions(
            fmt::format("Partition ids must stay below {}, but {} partitions from id {} were "
                        "asked for.",
                        assigned_partitions_max, partitions, first_partition));
    }
    return std::nullopt;
}

// Whether the rack-aware algorithm applies under `mode`, or the error for racks on only
// some brokers.
admin_result<bool> uses_racks(const std::vector<broker_rack>& brokers, rack_mode mode) {
    auto with_rack = std::count_if(brokers.begin(), brokers.end(),
                                   [](const broker_rack& b) { return b.rack.has_value(); });
    if (mode == rack_mode::disabled || with_rack == 0) {
        return false;
    }
    if (static_cast<std::size_t>(with_rack) == brokers.size()) {
        return true;
    }
    if (mode == rack_mode::safe) {
        return false;
    }
    return invalid_replication_factor(
        "Not all brokers have rack information for replica rack aware assignment.");
}

// Kafka's replicaIndex: where follower j of the partition led from ring[first] sits.
std::size_t replica_index(std::size_t first, std::size_t shift, std::size_t j, std::size_t n) {
    GREGOR_ASSERT(n > 1, "followers need a second broker");
    return (first + 1 + (shift + j) % (n - 1)) % n;
}

std::vector<node_id> unaware_replicas(const std::vector<node_id>& ring, std::size_t first,
                                      std::size_t shift, std::size_t rf) {
    std::vector<node_id> out{ring[first]};
    for (std::size_t j = 0; j + 1 < rf; ++j) {
        out.push_back(ring[replica_index(first, shift, j, ring.size())]);
    }
    return out;
}

struct rack_ring {
    std::vector<node_id> ids;
    std::vector<std::string> racks;  // racks[i] is the rack of ids[i]
    std::size_t rack_count = 0;
};

rack_ring make_rack_ring(const std::vector<broker_rack>& brokers) {
    rack_ring ring;
    ring.ids = rack_alternated_brokers(brokers);
    std::set<std::string_view> racks;
    for (node_id id : ring.ids) {
        auto it = std::find_if(brokers.begin(), brokers.end(),
                               [&](const broker_rack& b) { return b.id == id; });
        ring.racks.push_back(it->rack.value());
        racks.insert(*it->rack);
    }
    ring.rack_count = racks.size();
    return ring;
}

// Followers skip a broker whose rack already holds a replica while some rack holds none.
// (Kafka also lets a follower reuse a broker once every broker holds one, which cannot
// happen with rf <= brokers.)
std::vector<node_id> aware_replicas(const rack_ring& ring, std::size_t first, std::size_t shift,
                                    std::size_t rf) {
    const std::size_t n = ring.ids.size();
    std::vector<std::size_t> chosen{first};
    std::set<std::string_view> racks_used{ring.racks[first]};
    for (std::size_t k = 0; chosen.size() < rf; ++k) {
        GREGOR_ASSERT(k < rf * n, "rack-aware placement found no broker after {} tries", k);
        std::size_t index = replica_index(first, shift * ring.rack_count, k, n);
        bool rack_free =
            !racks_used.contains(ring.racks[index]) || racks_used.size() == ring.rack_count;
        bool broker_free = std::find(chosen.begin(), chosen.end(), index) == chosen.end();
        if (rack_free && broker_free) {
            chosen.push_back(index);
            racks_used.insert(ring.racks[index]);
        }
    }
    std::vector<node_id> out;
    for (std::size_t index : chosen) {
        out.push_back(ring.ids[index]);
    }
    return out;
}

// The loop both algorithms share: partition p is led from ring index (p + start) % n, and
// the follower shift grows each time p reaches a multiple of n.
template <class Place>
replica_map round_robin(std::size_t n, std::int32_t partitions, std::int32_t first_partition,
                        placement_start start, Place place) {
    replica_map out;
    std::size_t shift = start.replica_shift;
    for (std::int32_t i = 0; i < partitions; ++i) {
        auto p = static_cast<std::size_t>(first_partition + i);
        if (p > 0 && p % n == 0) {
            ++shift;
        }
        out.emplace(model::partition_id{first_partition + i},
                    place((p + start.start_index) % n, shift));
    }
    return out;
}

}  // namespace

std::vector<node_id> rack_alternated_brokers(std::span<const broker_rack> brokers) {
    std::map<std::string, std::vector<node_id>> by_rack;
    for (const auto& b : normalized(brokers)) {
        if (b.rack) {
            by_rack[*b.rack].push_back(b.id);  // ids ascend: `normalized` sorted them
        }
    }
    std::size_t deepest = 0;
    for (const auto& [rack, ids] : by_rack) {
        deepest = std::max(deepest, ids.size());
    }
    // One broker from each rack in turn: level L takes every rack's L-th broker.
    std::vector<node_id> out;
    for (std::size_t level = 0; level < deepest; ++level) {
        for (const auto& [rack, ids] : by_rack) {
            if (level < ids.size()) {
                out.push_back(ids[level]);
            }
        }
    }
    return out;
}

admin_result<replica_map> assign_replicas_from(std::span<const broker_rack> brokers,
                                               std::int32_t partitions, std::int16_t rf,
                                               placement_start start, std::int32_t start_partition,
                                               rack_mode mode) {
    auto sorted = normalized(brokers);
    std::int32_t first = std::max(start_partition, 0);
    if (auto e = check_request(sorted.size(), partitions, rf, first)) {
        return std::move(*e);
    }
    auto racks = uses_racks(sorted, mode);
    if (!racks) {
        return racks.err();
    }
    auto count = static_cast<std::size_t>(rf);
    if (!racks.value()) {
        std::vector<node_id> ring;
        for (const auto& b : sorted) {
            ring.push_back(b.id);
        }
        return round_robin(ring.size(), partitions, first, start, [&](auto index, auto shift) {
            return unaware_replicas(ring, index, shift, count);
        });
    }
    auto ring = make_rack_ring(sorted);
    return round_robin(ring.ids.size(), partitions, first, start, [&](auto index, auto shift) {
        return aware_replicas(ring, index, shift, count);
    });
}

admin_result<replica_map> assign_replicas(std::span<const broker_rack> brokers,
                                          std::int32_t partitions, std::int16_t rf,
                                          std::uint64_t seed, std::int32_t start_partition,
                                          rack_mode mode) {
    const auto n = normalized(brokers).size();
    placement_start start;
    if (n > 0) {
        std::mt19937_64 rng(seed);
        start.start_index = static_cast<std::uint32_t>(rng() % n);
        start.replica_shift = static_cast<std::uint32_t>(rng() % n);
    }
    return assign_replicas_from(brokers, partitions, rf, start, start_partition, mode);
}

admin_result<replica_map> assign_added_partitions(std::span<const broker_rack> brokers,
                                                  const replica_map& existing,
                                                  std::int32_t new_total, rack_mode mode) {
    const auto current = static_cast<std::int64_t>(existing.size());
    if (new_total < current) {
        return invalid_partitions(
            fmt::format("Topic currently has {} partitions, which is higher than the requested {}.",
                        current, new_total));
    }
    if (new_total == current) {
        return invalid_partitions(fmt::format("Topic already has {} partitions.", current));
    }
    auto p0 = existing.find(model::partition_id{0});
    if (p0 == existing.end() || p0->second.empty() ||
        p0->second.size() > static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
        return admin_error{kafka_error::unknown_server_error,
                           "The topic's partition 0 has no usable replica list to extend from."};
    }
    auto sorted = normalized(brokers);
    node_id p0_leader = p0->second.front();
    auto it = std::find_if(sorted.begin(), sorted.end(),
                           [&](const broker_rack& b) { return b.id >= p0_leader; });
    auto index = static_cast<std::uint32_t>(it == sorted.end() ? 0 : it - sorted.begin());
    auto rf = static_cast<std::int16_t>(p0->second.size());
    return assign_replicas_from(brokers, static_cast<std::int32_t>(new_total - current), rf,
                                {index, index}, static_cast<std::int32_t>(current), mode);
}

}  // namespace gregor::controller

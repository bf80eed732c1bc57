// The JSON the dashboard reads (src/dashboard), built from what the broker already keeps:
//   /api/cluster?limit=N  the metadata cache: brokers, the controller and the controllers
//                         this broker has heard of, and partitions with leader, replicas,
//                         ISR and a state (offline, under-replicated, ok), problems first
//                         and at most N of them (default and cap partitions_max), with
//                         totals over all of them;
//   /api/groups           the groups this broker coordinates (at most groups_max, with the
//                         total), with committed offsets and lag (high watermark -
//                         committed) where this broker hosts the partition.
// Pure functions of their inputs; the loop thread calls them.
#pragma once

#include "broker/metadata_cache.h"
#include "model/fundamental.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace gregor::group {
class group_service;
}

namespace gregor::broker {

inline constexpr std::size_t partitions_max = 10'000;
inline constexpr std::size_t groups_max = 1'000;

std::string cluster_json(const metadata_cache& cache, model::node_id self, std::size_t limit);

// `high_watermark` answers for the partitions this broker hosts (nullopt otherwise).
using watermark_source = std::function<std::optional<model::offset>(const model::topic_partition&)>;
std::string groups_json(const group::group_service& groups, const watermark_source& high_watermark);

}  // namespace gregor::broker

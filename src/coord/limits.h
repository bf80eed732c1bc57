// Named bounds of the coordination layer.
//
// Kept beside the module rather than in base/limits.h because only coord uses them; each is
// a compile-time constant with its unit last. Any thread may read them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gregor::coord::limits {

// Operations sent to ZooKeeper and not yet answered. Kafka's own client uses 10
// (zookeeper.max.in.flight.requests); a controller failover reads one znode per partition,
// so a deeper pipeline pays off on loopback and LAN while still bounding server load.
inline constexpr std::size_t in_flight_ops_max = 64;
// Operations waiting behind the in-flight window. Failover issues one read per partition
// (Kafka's guidance tops out near 200k partitions per cluster), so the queue holds that
// many; beyond it a call fails at once with errc::queue_full instead of growing memory.
inline constexpr std::size_t queued_ops_max = 256 * 1024;
// ZooKeeper's jute.maxbuffer default: no znode payload is larger, so anything bigger that
// reaches a decoder is rejected before parsing.
inline constexpr std::size_t znode_bytes_max = 1024 * 1024;
// The largest request ZooKeeper's server reads: its jute.maxbuffer default, 0xfffff. A
// longer one makes the server close the connection, failing everything else in flight on
// it, so the client refuses it instead (errc::request_too_large).
inline constexpr std::size_t request_bytes_max = 0xfffff;
// Ops in one multi (ZooKeeper bounds the request by jute.maxbuffer only; we bound the count).
inline constexpr std::size_t multi_ops_max = 1024;
// Batched reads (read_many) running at once, each on a short-lived session of its own.
inline constexpr std::size_t multi_reads_max = 8;

static_assert(in_flight_ops_max >= 1);
static_assert(queued_ops_max >= in_flight_ops_max);

}  // namespace gregor::coord::limits

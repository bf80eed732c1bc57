// Named bounds for every queue, buffer and untrusted length in gregor.
//
// Each limit is a compile-time constant with its unit last. Runtime-configurable limits
// (Kafka's config keys) take their defaults from here and are checked against the hard
// caps. Nothing here allocates; any thread may read it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gregor::limits {

// Kafka's socket.request.max.bytes default (100 MiB) is also the hard cap of one frame.
inline constexpr std::int32_t request_bytes_max = 100 * 1024 * 1024;
// Hard cap on one decompressed record batch: bounds decompression bombs.
inline constexpr std::size_t decompressed_batch_bytes_max = 128 * 1024 * 1024;
// Maximum records claimed by one batch header (Kafka uses int32; we refuse absurd counts
// before allocating anything per record).
inline constexpr std::int32_t batch_records_max = 64 * 1024 * 1024;
// Longest topic name Kafka accepts.
inline constexpr std::size_t topic_name_bytes_max = 249;

static_assert(request_bytes_max > 0);
static_assert(decompressed_batch_bytes_max >= 1024 * 1024);

}  // namespace gregor::limits

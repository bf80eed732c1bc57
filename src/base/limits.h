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

// Largest checkpoint file storage will read (recovery points, epochs): a corrupt or hostile
// file is refused before it is buffered.
inline constexpr std::size_t checkpoint_file_bytes_max = 64 * 1024 * 1024;
// Depth of the storage I/O worker's queue (fsyncs, deletes, checkpoint writes); a full queue
// answers with back-pressure instead of growing.
inline constexpr std::size_t storage_io_queue_max = 65536;

// Idempotent producers whose de-duplication state one partition keeps (Kafka has no bound).
// Every producer instance that wrote to the partition within producer.id.expiration.ms (a
// day) has an entry, and every restart of a client is a new producer id, so a big fleet
// with rolling restarts reaches tens of thousands; a client that creates a producer per
// message (KIP-936's flood) would reach millions. At about 250 bytes per entry this caps a
// partition at ~12 MiB and its .snapshot file at 2.3 MB. When full, the producer with the
// oldest last timestamp is evicted: it becomes "unknown" (its next batch is accepted with
// any sequence, as after expiry), which costs de-duplication only if that idlest producer
// is still retrying.
inline constexpr std::size_t partition_producers_max = 50'000;

// net: hard caps for the server and the inter-broker client (configs default below them).
// Accepted connections per server (Kafka's max.connections).
inline constexpr std::size_t connections_max = 100'000;
// Requests read from one connection whose responses are not yet written.
inline constexpr std::size_t in_flight_requests_per_connection_max = 1024;
// Bytes of every request frame a server holds at once (queued.max.request.bytes).
inline constexpr std::size_t server_request_memory_bytes_max = std::size_t{16} << 30;
// A connection's input buffer; frames larger than this are read straight into their own
// buffer.
inline constexpr std::size_t connection_read_buffer_bytes = 64 * 1024;
// One response frame accepted by the inter-broker client.
inline constexpr std::int32_t client_response_bytes_max = 1024 * 1024 * 1024;
// Requests queued in one client beyond those in flight.
inline constexpr std::size_t client_queued_requests_max = 65'536;

// group: bounds of the consumer group coordinator (group/group_coordinator.h).
// Groups one broker coordinates (every __consumer_offsets partition it leads together).
inline constexpr std::size_t groups_max = 1'000'000;
// Members of one group, whatever group.max.size says (Kafka's default is Int.MAX).
inline constexpr std::int32_t group_members_max = 100'000;
// KIP-394 member ids handed out (MEMBER_ID_REQUIRED) and not yet used, per group.
inline constexpr std::size_t group_pending_members_max = 10'000;
// Protocols one JoinGroup may list, and the bytes of all their metadata together.
inline constexpr std::size_t group_member_protocols_max = 64;
inline constexpr std::size_t group_member_metadata_bytes_max = 1024 * 1024;
// One member's assignment in a leader's SyncGroup.
inline constexpr std::size_t group_member_assignment_bytes_max = 1024 * 1024;

static_assert(request_bytes_max > 0);
static_assert(partition_producers_max >= 20'000);
static_assert(decompressed_batch_bytes_max >= 1024 * 1024);
static_assert(server_request_memory_bytes_max >= static_cast<std::size_t>(request_bytes_max));
static_assert(client_response_bytes_max >= request_bytes_max);
static_assert(group_members_max > 0 && group_pending_members_max > 0);
static_assert(group_member_metadata_bytes_max <= static_cast<std::size_t>(request_bytes_max));

}  // namespace gregor::limits

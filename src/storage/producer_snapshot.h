// Kafka's producer-state snapshot files, `<20-digit offset>.snapshot` in the partition
// directory, byte for byte (reference: kafka-transactions.md §2.4), so Kafka's tools read
// ours and ours read Kafka's. The offset in the name is the exclusive end of the state the
// file captures (the next offset to apply).
//
// Layout, big-endian:
//    0  version  int16 = 1 (anything else: corrupt)
//    2  crc      uint32, CRC-32C of bytes [6, end)
//    6  count    int32, number of entries
//   10  entries, 46 bytes each: producer_id int64, epoch int16, last_sequence int32 (-1: no
//       batch), last_offset int64 (-1: no batch), offset_delta int32 (last - first offset of
//       that batch), timestamp int64 (last timestamp), coordinator_epoch int32,
//       current_txn_first_offset int64 (-1: no open transaction)
// Only the last batch of each producer is stored: after a load the de-duplication window is
// that one batch until replayed batches add more, as in Kafka.
//
// Decoding trusts nothing: the length, version, CRC and count must agree, and every entry
// must hold values a writer can produce (ids >= 0, offsets below the file's offset, a
// sequence only with a batch, ...) before any entry is delivered; otherwise
// errc::corrupt_snapshot. Pure functions; any thread.
#pragma once

#include "base/bytes.h"
#include "base/limits.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "storage/producer_state.h"

#include <cstdint>
#include <functional>

namespace gregor::storage {

inline constexpr std::int16_t producer_snapshot_version = 1;
inline constexpr std::size_t producer_snapshot_header_bytes = 10;
inline constexpr std::size_t producer_snapshot_entry_bytes = 46;
// The largest snapshot file read: room for a Kafka-written file with four times our
// producer bound (loading keeps the newest partition_producers_max of them).
inline constexpr std::size_t producer_snapshot_bytes_max =
    producer_snapshot_header_bytes + producer_snapshot_entry_bytes * 4 * limits::partition_producers_max;

// Every entry of `state`, sorted by producer id.
bytes encode_producer_snapshot(const producer_state& state);

// Validates the whole file (named for `end_offset`), then calls `on_entry` for each entry in
// file order. Returns the number of entries, or errc::corrupt_snapshot (no entry delivered).
result<std::size_t> decode_producer_snapshot(
    bytes_view data, model::offset end_offset,
    const std::function<void(const producer_entry&)>& on_entry);

}  // namespace gregor::storage

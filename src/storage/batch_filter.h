// Rewrites one v2 record batch keeping only some of its records: the log cleaner's
// per-batch step (Kafka's MemoryRecords.filterTo; reference: kafka-log-compaction.md §4.3
// and §5). Sans-IO: bytes in, bytes appended to the caller's buffer.
//
// A batch whose records are all kept, and that needs no delete horizon, is copied byte for
// byte (`unchanged`). Otherwise it is rebuilt from the surviving records' own bytes (their
// offset and timestamp deltas stay relative to the unchanged base offset and base
// timestamp), recompressed with the same codec, with a new length, record count and CRC;
// every other header field is kept: base offset, last_offset_delta (so the batch still ends
// at its original last offset, as Kafka's overrideLastOffset does), partition leader epoch,
// attributes, base and max timestamps, producer id, epoch and base sequence. Unlike Kafka's
// MemoryRecordsBuilder, the base and max timestamps are not recomputed from the survivors.
//
// A batch left without records is dropped (nothing written), or with retain_empty written
// as a bare 61-byte header with record_count 0, exactly as Kafka's
// DefaultRecordBatch.writeEmptyHeader: original base offset, last_offset_delta, leader epoch
// and producer fields; attributes keep only the timestamp type, transactional and control
// bits (no codec, no delete horizon); base timestamp = max timestamp = the original max.
//
// Delete horizon (KIP-534): with stamp_horizon set, a batch that keeps a tombstone (or any
// batch, with stamp_without_tombstone: Kafka's removable transaction marker) and has no
// horizon yet (attribute bit 0x40) is rebuilt with the bit set and base_timestamp = the
// horizon; every record's timestamp delta is re-encoded so its absolute timestamp (base +
// delta) is unchanged, max timestamp unchanged. Log-append-time batches get the same
// treatment (their records' stored deltas are not what readers see, but stay consistent).
//
// Input: a whole v2 batch that passed model::validate_batch, and its header. The records
// are still untrusted: malformed records or compressed bytes are records_errc errors (and
// nothing is appended), decompression is bounded by decompressed_bytes_max. Pure
// functions; any thread.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "model/record_batch.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace gregor::storage {

// Attribute bit 6: base_timestamp holds the delete horizon (KIP-534).
inline constexpr std::int16_t delete_horizon_bit = 0x40;

// The batch's delete horizon: its base timestamp iff bit 0x40 is set.
std::optional<model::timestamp_ms> delete_horizon(const model::record_batch_header& header);

// What the predicate sees of one record. Views point into the batch (or its decompressed
// records) and live only during the call.
struct filter_record {
    model::offset offset;
    std::optional<bytes_view> key;  // nullopt: a record without a key
    bool tombstone = false;         // null value
};

// A non-owning reference to a callable `bool(const filter_record&)` (true: keep). The
// callable must outlive the reference (pass a lambda straight to filter_batch).
class record_predicate {
public:
    template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, record_predicate>)
        record_predicate(F&& f)  // NOLINT: implicit, like std::function_ref
        : object_(const_cast<void*>(static_cast<const void*>(&f))),  // NOLINT
          call_([](void* o, const filter_record& r) -> bool {
              return (*static_cast<std::remove_reference_t<F>*>(o))(r);
          }) {}

    bool operator()(const filter_record& r) const { return call_(object_, r); }

private:
    void* object_;
    bool (*call_)(void*, const filter_record&);
};

struct filter_options {
    // Bound on the decompressed records section (also capped by
    // limits::decompressed_batch_bytes_max).
    std::size_t decompressed_bytes_max = 0;
    // Write an empty batch instead of nothing when no record survives (Kafka's
    // RETAIN_EMPTY: an active producer's last batch keeps its sequence and epoch).
    bool retain_empty = false;
    // The delete horizon to stamp (now + delete.retention.ms), if any.
    std::optional<model::timestamp_ms> stamp_horizon;
    // When no record survives, keep the batch's last record with a value anyway (the
    // cleaner's last batch of a segment: a record, not an empty batch, so that no fetch
    // answers with empty batches alone, which kafka-python 2.0.2's fetcher cannot take).
    // Never a tombstone (one past its horizon must go); without such a record, retain_empty
    // decides.
    bool keep_last_record = false;
    // Stamp it even if no tombstone survives (a removable transaction marker).
    bool stamp_without_tombstone = false;
};

enum class filter_kind : std::uint8_t {
    unchanged,  // copied byte for byte
    rebuilt,    // re-encoded with the survivors (or with a newly stamped horizon)
    empty,      // no survivor, retain_empty: a 61-byte header with record_count 0
    dropped,    // no survivor: nothing written
};

struct filter_result {
    filter_kind kind = filter_kind::unchanged;
    std::int32_t records_kept = 0;
    std::int32_t records_dropped = 0;
    std::size_t bytes_written = 0;
    bool kept_tombstone = false;
    bool stamped_horizon = false;
};

// Filters `batch` (a whole batch described by `header`) through `keep`, appending the
// result to `out`. On error nothing is appended. `scratch`, when given, is the buffer a
// compressed batch is decompressed into, kept for the next call (one allocation per pass).
result<filter_result> filter_batch(const model::record_batch_header& header, bytes_view batch,
                                   const filter_options& options, record_predicate keep, bytes& out,
                                   bytes* scratch = nullptr);

// The indexes (0-based, within the batch) of the records with a null key; empty when every
// record has one. Kafka refuses such records in compacted topics (INVALID_RECORD, naming
// the indexes). Errors: malformed records or compressed bytes (records_errc).
result<std::vector<std::int32_t>> records_without_key(const model::record_batch_header& header,
                                                      bytes_view batch,
                                                      std::size_t decompressed_bytes_max);

}  // namespace gregor::storage

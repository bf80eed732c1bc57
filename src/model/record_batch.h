// Record batch v2 (magic 2): the header view, validation and in-place rewrites.
//
// Layout (big endian), offsets in bytes from the start of the batch:
//    0 base_offset int64          8 batch_length int32 (bytes after this field)
//   12 partition_leader_epoch int32
//   16 magic int8                17 crc uint32 (CRC32C of bytes 21..end)
//   21 attributes int16          23 last_offset_delta int32
//   27 base_timestamp int64      35 max_timestamp int64
//   43 producer_id int64         51 producer_epoch int16
//   53 base_sequence int32       57 record_count int32
//   61 records...
// base_offset and partition_leader_epoch sit outside the CRC, so a broker assigns offsets
// and stamps the leader epoch without re-encoding or re-checksumming. Nothing here looks
// inside the records; protocol/records.h iterates and decompresses them. All input is
// untrusted: every failure is a batch_errc, never an assertion. Pure functions; any thread.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"

#include <cstdint>
#include <optional>
#include <system_error>

namespace gregor::model {

inline constexpr std::size_t batch_header_bytes = 61;
// Bytes before batch_length counts: base_offset + batch_length.
inline constexpr std::size_t batch_log_overhead_bytes = 12;
inline constexpr std::size_t batch_crc_start = 21;
inline constexpr std::int8_t batch_magic_v2 = 2;

enum class compression_type : std::uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };
enum class timestamp_type : std::uint8_t { create_time = 0, log_append_time = 1 };

enum class batch_errc {
    truncated = 1,      // fewer bytes than the header or batch_length claims
    bad_length,         // batch_length below the header size or above the limit
    unsupported_magic,  // magic 0/1 message sets or an unknown magic
    bad_crc,            // CRC32C mismatch
    bad_record_count,   // negative, or inconsistent with last_offset_delta / size
    bad_compression,    // unknown compression codec bits
    bad_offsets,        // last_offset_delta negative
};
const std::error_category& batch_category();
inline std::error_code make_error_code(batch_errc e) {
    return {static_cast<int>(e), batch_category()};
}

struct record_batch_header {
    offset base_offset;
    std::int32_t batch_length = 0;
    leader_epoch partition_leader_epoch;
    std::int8_t magic = 0;
    std::uint32_t crc = 0;
    std::int16_t attributes = 0;
    std::int32_t last_offset_delta = 0;
    timestamp_ms base_timestamp;
    timestamp_ms max_timestamp;
    producer_id producer;
    std::int16_t producer_epoch = 0;
    std::int32_t base_sequence = 0;
    std::int32_t record_count = 0;

    // Total bytes of the batch including base_offset and batch_length.
    std::size_t size_bytes() const {
        return static_cast<std::size_t>(batch_length) + batch_log_overhead_bytes;
    }
    offset last_offset() const { return base_offset + last_offset_delta; }
    // REQUIRES: the header was validated (codec bits known).
    compression_type compression() const {
        return static_cast<compression_type>(attributes & 0x07);
    }
    timestamp_type ts_type() const {
        return (attributes & 0x08) != 0 ? timestamp_type::log_append_time
                                        : timestamp_type::create_time;
    }
    bool is_transactional() const { return (attributes & 0x10) != 0; }
    bool is_control() const { return (attributes & 0x20) != 0; }
};

// How strictly validate_batch checks record_count against last_offset_delta.
enum class count_rule {
    // Produce requests: offsets are 0..count-1, so last_offset_delta == count - 1.
    exact,
    // Logs and replication: compaction may remove records, so count <= delta + 1.
    at_most,
};

// Parses the 61-byte header at the front of `data` and checks the fields that do not need
// the body: magic, batch_length bounds (>= header, <= max_batch_bytes), codec bits, and
// that `data` holds the whole batch. Does not check the CRC. max_batch_bytes bounds the
// whole batch (batch_length + 12), as Kafka's max.message.bytes does. The magic is checked
// first, so a v0/v1 message set reports unsupported_magic whatever its length.
result<record_batch_header> parse_batch_header(bytes_view data, std::size_t max_batch_bytes);

// parse_batch_header plus the CRC32C over bytes 21..end and the record count rule
// (record_count >= 0; for uncompressed batches also record_count * 7 <= body bytes,
// the smallest possible record). Returns the header iff the batch is intact.
result<record_batch_header> validate_batch(bytes_view data, std::size_t max_batch_bytes,
                                           count_rule rule);

// Rewrites fields that lie outside the CRC, in place. REQUIRES: batch.size() >= 61.
void set_base_offset(mutable_bytes_view batch, offset base);
void set_partition_leader_epoch(mutable_bytes_view batch, leader_epoch epoch);
// Sets the timestamp type to log-append-time and max_timestamp to `now`; these lie inside
// the CRC, so the CRC is recomputed (over the whole batch). REQUIRES: batch validated.
void stamp_log_append_time(mutable_bytes_view batch, timestamp_ms now);

// Walks a record set: consecutive batches in one buffer (a produce payload, a segment
// file region). next() returns the next batch's header and bytes, nullopt at the clean
// end, or an error at the first malformed batch (the caller decides: produce refuses the
// whole set, recovery truncates at error_position()).
class batch_reader {
public:
    struct entry {
        record_batch_header header;
        bytes_view bytes;  // the whole batch, a view into the reader's input
    };

    batch_reader(bytes_view data, std::size_t max_batch_bytes, count_rule rule)
        : data_(data), max_batch_bytes_(max_batch_bytes), rule_(rule) {}

    // Returns the next batch, nullopt at the end of the data, or the error of a bad batch.
    // With validate_crc=false only headers are checked (for trusted, already validated data):
    // everything validate_batch checks except the CRC. After an error, position() stays at
    // the start of the bad batch and next() returns the same error again.
    result<std::optional<entry>> next(bool validate_crc = true);
    // Bytes consumed by the batches returned so far: the truncation point after an error.
    std::size_t position() const { return position_; }

private:
    bytes_view data_;
    std::size_t max_batch_bytes_;
    count_rule rule_;
    std::size_t position_ = 0;
};

}  // namespace gregor::model

template <>
struct std::is_error_code_enum<gregor::model::batch_errc> : std::true_type {};

// Builds complete v2 record batches: encodes records, compresses the records section with
// any codec, and fills lengths, counts, offsets, timestamps, producer fields and the CRC.
//
// Used by tests, benchmarks, and the broker for batches it writes itself (the consumer
// offsets topic, transaction control records). The inputs are trusted (built by gregor), so
// misuse is asserted. A builder is a value owned by one thread at a time.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "model/record_batch.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace gregor::protocol {

struct header_input {
    std::string_view key;
    std::optional<bytes_view> value;
};

struct record_input {
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
    std::span<const header_input> headers;
    model::timestamp_ms timestamp{0};
};

struct batch_options {
    model::compression_type compression = model::compression_type::none;
    model::offset base_offset{0};
    model::leader_epoch partition_leader_epoch = model::no_leader_epoch;
    // -1 / -1 / -1: not an idempotent producer.
    model::producer_id producer{-1};
    std::int16_t producer_epoch = -1;
    std::int32_t base_sequence = -1;
    bool transactional = false;
    bool control = false;
    model::timestamp_type ts_type = model::timestamp_type::create_time;
};

class batch_builder {
public:
    explicit batch_builder(batch_options options) : options_(options) {}

    // Appends a record at the next offset delta (0, 1, 2, ...). Timestamp deltas are taken
    // from the first record's timestamp, which becomes the batch's base_timestamp.
    void add(const record_input& record);

    std::int32_t record_count() const { return count_; }
    // Uncompressed size of the records encoded so far (to cut batches by size).
    std::size_t records_bytes() const { return records_.size(); }

    // Returns the complete batch. REQUIRES: at least one record was added.
    result<bytes> build() const;

private:
    batch_options options_;
    bytes records_;
    std::int32_t count_ = 0;
    model::timestamp_ms base_timestamp_{-1};
    model::timestamp_ms max_timestamp_{-1};
};

// One batch from `records` with `options`. REQUIRES: !records.empty().
result<bytes> build_batch(std::span<const record_input> records, const batch_options& options);

}  // namespace gregor::protocol

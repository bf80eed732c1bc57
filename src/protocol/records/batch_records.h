// The records of one validated batch, decompressed when the batch is compressed.
//
// The broker uses this where Kafka looks inside batches: validating compressed produce
// data, the consumer offsets and transaction state loaders, and tests. The decompressed
// buffer is owned here; record views from records() point into it (or into the caller's
// batch bytes when uncompressed), so both must outlive the views. Move-only value; one
// thread at a time.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "model/record_batch.h"
#include "protocol/records/record_reader.h"

#include <cstddef>

namespace gregor::protocol {

class batch_records {
public:
    // `batch`: a whole batch that passed model::validate_batch (or parse_batch_header when the
    // CRC is known good), `header` its parsed header. Decompresses the records section with
    // at most `decompressed_bytes_max` bytes of output. Errors are records_errc values.
    // `storage`: a buffer to decompress into (protocol::decompress_into), so a caller opening
    // batch after batch reuses one allocation: pass back what release_storage() returned.
    static result<batch_records> open(const model::record_batch_header& header, bytes_view batch,
                                      std::size_t decompressed_bytes_max, bytes storage = {});

    batch_records(batch_records&&) = default;
    batch_records& operator=(batch_records&&) = default;
    batch_records(const batch_records&) = delete;
    batch_records& operator=(const batch_records&) = delete;

    const model::record_batch_header& header() const { return header_; }
    // The (decompressed) records section.
    bytes_view section() const {
        return owned_ ? bytes_view(decompressed_).first(decompressed_size_) : body_;
    }
    record_reader records() const { return {section(), header_.record_count}; }

    // A record's absolute offset and timestamp (Kafka's rules: log-append-time batches give
    // every record the batch's max_timestamp).
    model::offset offset_of(const record_view& r) const;
    model::timestamp_ms timestamp_of(const record_view& r) const;

    // The decompression buffer, for the next open(); the views into it end here.
    bytes release_storage() && { return std::move(decompressed_); }

private:
    batch_records(const model::record_batch_header& header, bytes_view body)
        : header_(header), body_(body) {}

    model::record_batch_header header_;
    bytes_view body_;
    bytes decompressed_;
    std::size_t decompressed_size_ = 0;
    bool owned_ = false;
};

}  // namespace gregor::protocol

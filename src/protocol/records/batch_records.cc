#include "protocol/records/batch_records.h"

#include "base/assert.h"
#include "protocol/records/compression.h"

namespace gregor::protocol {

result<batch_records> batch_records::open(const model::record_batch_header& header,
                                          bytes_view batch, std::size_t decompressed_bytes_max,
                                          bytes storage) {
    GREGOR_ASSERT(batch.size() >= header.size_bytes(), "batch of {} bytes, header says {}",
                  batch.size(), header.size_bytes());
    const bytes_view body =
        batch.subspan(model::batch_header_bytes, header.size_bytes() - model::batch_header_bytes);
    batch_records out(header, body);
    out.decompressed_ = std::move(storage);
    if (header.compression() != model::compression_type::none) {
        GREGOR_TRY(
            out.decompressed_size_,
            decompress_into(header.compression(), body, decompressed_bytes_max, out.decompressed_));
        out.owned_ = true;
    }
    return out;
}

namespace {
// The fields are untrusted: add with two's-complement wrap instead of overflowing.
std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
}  // namespace

model::offset batch_records::offset_of(const record_view& r) const {
    return model::offset{wrapping_add(header_.base_offset(), r.offset_delta)};
}

model::timestamp_ms batch_records::timestamp_of(const record_view& r) const {
    if (header_.ts_type() == model::timestamp_type::log_append_time) {
        return header_.max_timestamp;
    }
    return model::timestamp_ms{wrapping_add(header_.base_timestamp(), r.timestamp_delta)};
}

}  // namespace gregor::protocol

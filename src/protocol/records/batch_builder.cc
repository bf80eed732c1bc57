#include "protocol/records/batch_builder.h"

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/limits.h"
#include "protocol/records/compression.h"
#include "protocol/records/varint.h"

#include <algorithm>
#include <limits>

namespace gregor::protocol {
namespace {

using records_detail::put_varint;
using records_detail::varint_size;

constexpr std::int16_t transactional_bit = 0x10;
constexpr std::int16_t control_bit = 0x20;
constexpr std::int16_t log_append_time_bit = 0x08;

template <class T>
void put_be(bytes& out, T value) {
    using U = std::make_unsigned_t<T>;
    const auto v = static_cast<U>(value);
    for (std::size_t i = sizeof(T); i-- > 0;) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

std::int32_t checked_length(std::size_t n) {
    GREGOR_ASSERT(n <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                  "field of {} bytes does not fit a v2 record", n);
    return static_cast<std::int32_t>(n);
}

std::size_t nullable_size(const std::optional<bytes_view>& field) {
    return field ? varint_size(checked_length(field->size())) + field->size() : 1;
}

void put_nullable(bytes& out, const std::optional<bytes_view>& field) {
    if (!field) {
        put_varint(out, -1);
        return;
    }
    put_varint(out, checked_length(field->size()));
    out.insert(out.end(), field->begin(), field->end());
}

std::int16_t attributes_of(const batch_options& o) {
    auto a = static_cast<std::int16_t>(o.compression);
    if (o.ts_type == model::timestamp_type::log_append_time) {
        a = static_cast<std::int16_t>(a | log_append_time_bit);
    }
    if (o.transactional) {
        a = static_cast<std::int16_t>(a | transactional_bit);
    }
    if (o.control) {
        a = static_cast<std::int16_t>(a | control_bit);
    }
    return a;
}

}  // namespace

void batch_builder::add(const record_input& record) {
    GREGOR_ASSERT(count_ < limits::batch_records_max, "batch full at {} records", count_);
    if (count_ == 0) {
        base_timestamp_ = record.timestamp;
        max_timestamp_ = record.timestamp;
    }
    max_timestamp_ = std::max(max_timestamp_, record.timestamp);
    const std::int64_t ts_delta = record.timestamp() - base_timestamp_();
    std::size_t body = 1 + varint_size(ts_delta) + varint_size(count_) + nullable_size(record.key) +
                       nullable_size(record.value) +
                       varint_size(static_cast<std::int64_t>(record.headers.size()));
    for (const header_input& h : record.headers) {
        body += varint_size(checked_length(h.key.size())) + h.key.size() + nullable_size(h.value);
    }
    put_varint(records_, checked_length(body));
    records_.push_back(0);  // attributes: unused in v2
    put_varint(records_, ts_delta);
    put_varint(records_, count_);
    put_nullable(records_, record.key);
    put_nullable(records_, record.value);
    put_varint(records_, checked_length(record.headers.size()));
    for (const header_input& h : record.headers) {
        put_varint(records_, checked_length(h.key.size()));
        const auto* key = reinterpret_cast<const std::uint8_t*>(h.key.data());  // NOLINT
        records_.insert(records_.end(), key, key + h.key.size());
        put_nullable(records_, h.value);
    }
    ++count_;
}

result<bytes> batch_builder::build() const {
    GREGOR_ASSERT(count_ > 0, "building an empty batch");
    // Uncompressed batches take the records as they are, without an intermediate copy.
    bytes compressed;
    if (options_.compression != model::compression_type::none) {
        GREGOR_TRY(compressed, compress(options_.compression, records_));
    }
    const bytes_view body =
        options_.compression == model::compression_type::none ? bytes_view(records_) : compressed;
    const std::size_t total = model::batch_header_bytes + body.size();
    bytes out;
    out.reserve(total);
    put_be<std::int64_t>(out, options_.base_offset());
    put_be<std::int32_t>(out, checked_length(total - model::batch_log_overhead_bytes));
    put_be<std::int32_t>(out, options_.partition_leader_epoch());
    put_be<std::int8_t>(out, model::batch_magic_v2);
    put_be<std::uint32_t>(out, 0);  // CRC, filled in below
    put_be<std::int16_t>(out, attributes_of(options_));
    put_be<std::int32_t>(out, count_ - 1);
    put_be<std::int64_t>(out, base_timestamp_());
    put_be<std::int64_t>(out, max_timestamp_());
    put_be<std::int64_t>(out, options_.producer());
    put_be<std::int16_t>(out, options_.producer_epoch);
    put_be<std::int32_t>(out, options_.base_sequence);
    put_be<std::int32_t>(out, count_);
    GREGOR_ASSERT(out.size() == model::batch_header_bytes, "header of {} bytes", out.size());
    out.insert(out.end(), body.begin(), body.end());
    const std::uint32_t crc = crc32c(bytes_view(out).subspan(model::batch_crc_start));
    for (std::size_t i = 0; i < 4; ++i) {
        out[17 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    }
    return out;
}

result<bytes> build_batch(std::span<const record_input> records, const batch_options& options) {
    GREGOR_ASSERT(!records.empty(), "building an empty batch");
    batch_builder builder(options);
    for (const record_input& r : records) {
        builder.add(r);
    }
    return builder.build();
}

}  // namespace gregor::protocol

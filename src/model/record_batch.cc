// Record batch v2 header parsing, validation and in-place rewrites (see record_batch.h).
//
// Every read below is bounds-checked against the caller's span before it happens: the bytes
// come from the network or the disk and are never trusted.
#include "model/record_batch.h"

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/limits.h"

#include <cstring>
#include <string>

namespace gregor::model {
namespace {

// Field offsets inside the batch (see the layout table in the header).
constexpr std::size_t off_base_offset = 0;
constexpr std::size_t off_batch_length = 8;
constexpr std::size_t off_leader_epoch = 12;
constexpr std::size_t off_magic = 16;
constexpr std::size_t off_crc = 17;
constexpr std::size_t off_attributes = 21;
constexpr std::size_t off_last_offset_delta = 23;
constexpr std::size_t off_base_timestamp = 27;
constexpr std::size_t off_max_timestamp = 35;
constexpr std::size_t off_producer_id = 43;
constexpr std::size_t off_producer_epoch = 51;
constexpr std::size_t off_base_sequence = 53;
constexpr std::size_t off_record_count = 57;
static_assert(off_record_count + 4 == batch_header_bytes);
static_assert(off_attributes == batch_crc_start);

// The smallest v2 record: length, attributes, timestamp delta, offset delta, key length,
// value length and header count, one byte each.
constexpr std::int64_t min_record_bytes = 7;
constexpr std::int16_t codec_mask = 0x07;
constexpr std::int16_t log_append_time_bit = 0x08;

template <class T>
T read_be(bytes_view data, std::size_t at) {
    using U = std::make_unsigned_t<T>;
    U v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        v = static_cast<U>((v << 8) | data[at + i]);
    }
    return static_cast<T>(v);
}

template <class T>
void write_be(mutable_bytes_view data, std::size_t at, T value) {
    using U = std::make_unsigned_t<T>;
    auto v = static_cast<U>(value);
    for (std::size_t i = sizeof(T); i-- > 0;) {
        data[at + i] = static_cast<std::uint8_t>(v & 0xFFU);
        v = static_cast<U>(v >> 8);
    }
}

// REQUIRES: data.size() >= batch_header_bytes.
record_batch_header decode_header(bytes_view data) {
    record_batch_header h;
    h.base_offset = offset{read_be<std::int64_t>(data, off_base_offset)};
    h.batch_length = read_be<std::int32_t>(data, off_batch_length);
    h.partition_leader_epoch = leader_epoch{read_be<std::int32_t>(data, off_leader_epoch)};
    h.magic = read_be<std::int8_t>(data, off_magic);
    h.crc = read_be<std::uint32_t>(data, off_crc);
    h.attributes = read_be<std::int16_t>(data, off_attributes);
    h.last_offset_delta = read_be<std::int32_t>(data, off_last_offset_delta);
    h.base_timestamp = timestamp_ms{read_be<std::int64_t>(data, off_base_timestamp)};
    h.max_timestamp = timestamp_ms{read_be<std::int64_t>(data, off_max_timestamp)};
    h.producer = producer_id{read_be<std::int64_t>(data, off_producer_id)};
    h.producer_epoch = read_be<std::int16_t>(data, off_producer_epoch);
    h.base_sequence = read_be<std::int32_t>(data, off_base_sequence);
    h.record_count = read_be<std::int32_t>(data, off_record_count);
    return h;
}

// Checks record_count and last_offset_delta against each other and the body size.
result<void> check_counts(const record_batch_header& h, count_rule rule) {
    if (h.last_offset_delta < 0) {
        return error(batch_errc::bad_offsets,
                     fmt::format("last_offset_delta {}", h.last_offset_delta));
    }
    const std::int64_t count = h.record_count;
    const std::int64_t span = std::int64_t{h.last_offset_delta} + 1;
    const bool count_ok =
        rule == count_rule::exact ? (count >= 1 && count == span) : (count >= 0 && count <= span);
    if (!count_ok || count > limits::batch_records_max) {
        return error(batch_errc::bad_record_count,
                     fmt::format("record_count {} last_offset_delta {}", h.record_count,
                                 h.last_offset_delta));
    }
    const std::int64_t body = std::int64_t{h.batch_length} + 12 - std::int64_t{batch_header_bytes};
    if (h.compression() == compression_type::none && count * min_record_bytes > body) {
        return error(batch_errc::bad_record_count,
                     fmt::format("record_count {} cannot fit in {} bytes", count, body));
    }
    return ok();
}

result<record_batch_header> check_batch(bytes_view data, std::size_t max_batch_bytes,
                                        count_rule rule, bool validate_crc) {
    GREGOR_TRY(record_batch_header h, parse_batch_header(data, max_batch_bytes));
    GREGOR_TRY_VOID(check_counts(h, rule));
    if (validate_crc) {
        const std::uint32_t actual =
            crc32c(data.subspan(batch_crc_start, h.size_bytes() - batch_crc_start));
        if (actual != h.crc) {
            return error(batch_errc::bad_crc,
                         fmt::format("stored {:#010x} computed {:#010x}", h.crc, actual));
        }
    }
    return h;
}

class batch_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "record_batch"; }
    std::string message(int value) const override {
        switch (static_cast<batch_errc>(value)) {
            case batch_errc::truncated:
                return "record batch truncated";
            case batch_errc::bad_length:
                return "record batch length out of bounds";
            case batch_errc::unsupported_magic:
                return "unsupported record batch magic";
            case batch_errc::bad_crc:
                return "record batch CRC mismatch";
            case batch_errc::bad_record_count:
                return "record batch count inconsistent";
            case batch_errc::bad_compression:
                return "unknown compression codec";
            case batch_errc::bad_offsets:
                return "record batch offsets invalid";
        }
        return "unknown record batch error";
    }
};

}  // namespace

const std::error_category& batch_category() {
    static const batch_category_impl category;
    return category;
}

result<record_batch_header> parse_batch_header(bytes_view data, std::size_t max_batch_bytes) {
    // The magic byte sits at the same position in v0/v1 message sets, so an old client's
    // bytes are recognised as such before their (shorter) length is judged.
    if (data.size() <= off_magic) {
        return error(batch_errc::truncated, fmt::format("{} bytes", data.size()));
    }
    const auto magic = read_be<std::int8_t>(data, off_magic);
    if (magic != batch_magic_v2) {
        return error(batch_errc::unsupported_magic, fmt::format("magic {}", magic));
    }
    const auto length = read_be<std::int32_t>(data, off_batch_length);
    const std::int64_t total = std::int64_t{length} + std::int64_t{batch_log_overhead_bytes};
    if (total < std::int64_t{batch_header_bytes} ||
        static_cast<std::uint64_t>(total) > max_batch_bytes) {
        return error(batch_errc::bad_length,
                     fmt::format("batch_length {} (max batch {})", length, max_batch_bytes));
    }
    if (data.size() < static_cast<std::size_t>(total)) {
        return error(batch_errc::truncated,
                     fmt::format("batch of {} bytes, {} available", total, data.size()));
    }
    record_batch_header h = decode_header(data);
    if ((h.attributes & codec_mask) > static_cast<std::int16_t>(compression_type::zstd)) {
        return error(batch_errc::bad_compression,
                     fmt::format("codec bits {}", h.attributes & codec_mask));
    }
    return h;
}

result<record_batch_header> validate_batch(bytes_view data, std::size_t max_batch_bytes,
                                           count_rule rule) {
    return check_batch(data, max_batch_bytes, rule, true);
}

void set_base_offset(mutable_bytes_view batch, offset base) {
    GREGOR_ASSERT(batch.size() >= batch_header_bytes, "batch of {} bytes", batch.size());
    write_be<std::int64_t>(batch, off_base_offset, base());
}

void set_partition_leader_epoch(mutable_bytes_view batch, leader_epoch epoch) {
    GREGOR_ASSERT(batch.size() >= batch_header_bytes, "batch of {} bytes", batch.size());
    write_be<std::int32_t>(batch, off_leader_epoch, epoch());
}

void stamp_log_append_time(mutable_bytes_view batch, timestamp_ms now) {
    GREGOR_ASSERT(batch.size() >= batch_header_bytes, "batch of {} bytes", batch.size());
    const auto length = read_be<std::int32_t>(batch, off_batch_length);
    const std::int64_t total = std::int64_t{length} + std::int64_t{batch_log_overhead_bytes};
    GREGOR_ASSERT(total >= std::int64_t{batch_header_bytes} &&
                      static_cast<std::uint64_t>(total) <= batch.size(),
                  "stamping an unvalidated batch: batch_length {} span {}", length, batch.size());
    const auto attributes = read_be<std::int16_t>(batch, off_attributes);
    write_be<std::int16_t>(batch, off_attributes,
                           static_cast<std::int16_t>(attributes | log_append_time_bit));
    write_be<std::int64_t>(batch, off_max_timestamp, now());
    const auto covered =
        batch.subspan(batch_crc_start, static_cast<std::size_t>(total) - batch_crc_start);
    write_be<std::uint32_t>(batch, off_crc, crc32c(covered));
}

result<std::optional<batch_reader::entry>> batch_reader::next(bool validate_crc) {
    if (position_ == data_.size()) {
        return std::optional<entry>{};
    }
    const bytes_view rest = data_.subspan(position_);
    GREGOR_TRY(record_batch_header h, check_batch(rest, max_batch_bytes_, rule_, validate_crc));
    const bytes_view batch = rest.first(h.size_bytes());
    position_ += batch.size();
    return std::optional<entry>{entry{h, batch}};
}

}  // namespace gregor::model

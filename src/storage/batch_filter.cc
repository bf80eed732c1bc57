#include "storage/batch_filter.h"

#include "base/assert.h"
#include "base/crc32c.h"
#include "protocol/records/batch_records.h"
#include "protocol/records/compression.h"
#include "protocol/records/errc.h"
#include "protocol/records/varint.h"
#include "storage/endian.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace gregor::storage {
namespace batch_filter_impl {
namespace {

// Attribute bits an empty batch keeps (Kafka's writeEmptyHeader): timestamp type,
// transactional, control.
constexpr std::int16_t empty_batch_attributes = 0x08 | 0x10 | 0x20;
constexpr std::size_t crc_at = 17;

// A surviving record: its bytes on the wire (length prefix included) and timestamp delta.
struct survivor {
    bytes_view wire;
    std::int64_t timestamp_delta = 0;
};

std::int64_t wrapping_sub(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

template <class T>
void append_be(bytes& out, T value) {
    auto v = static_cast<std::make_unsigned_t<T>>(value);
    for (std::size_t i = sizeof(T); i-- > 0;) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

// Appends `h` (its batch_length, magic and CRC recomputed) followed by `body`.
void append_batch(bytes& out, const model::record_batch_header& h, bytes_view body) {
    const std::size_t start = out.size();
    // Geometric growth: an exact reserve per batch would copy the whole buffer every time.
    const std::size_t need = start + model::batch_header_bytes + body.size();
    if (out.capacity() < need) {
        out.reserve(std::max(need, 2 * out.capacity()));
    }
    append_be<std::int64_t>(out, h.base_offset());
    const std::size_t length =
        model::batch_header_bytes - model::batch_log_overhead_bytes + body.size();
    append_be<std::int32_t>(out, static_cast<std::int32_t>(length));
    append_be<std::int32_t>(out, h.partition_leader_epoch());
    append_be<std::int8_t>(out, model::batch_magic_v2);
    append_be<std::uint32_t>(out, 0);  // CRC, set below
    append_be<std::int16_t>(out, h.attributes);
    append_be<std::int32_t>(out, h.last_offset_delta);
    append_be<std::int64_t>(out, h.base_timestamp());
    append_be<std::int64_t>(out, h.max_timestamp());
    append_be<std::int64_t>(out, h.producer());
    append_be<std::int16_t>(out, h.producer_epoch);
    append_be<std::int32_t>(out, h.base_sequence);
    append_be<std::int32_t>(out, h.record_count);
    out.insert(out.end(), body.begin(), body.end());
    const bytes_view covered = bytes_view(out).subspan(start + model::batch_crc_start);
    detail::store_be32(out.data() + start + crc_at, crc32c(covered));
}

// Runs `keep` over every record, collecting the survivors and the counts.
result<void> scan(const protocol::batch_records& records, record_predicate keep,
                  bool keep_last, std::vector<survivor>& kept, filter_result& res) {
    protocol::record_reader reader = records.records();
    std::optional<survivor> last;  // the last record with a value
    for (;;) {
        GREGOR_TRY(auto next, reader.next());
        if (!next) {
            if (kept.empty() && keep_last && last) {
                kept.push_back(*last);
                res.records_kept = 1;
                --res.records_dropped;
            }
            return ok();
        }
        const protocol::record_view& r = *next;
        const filter_record view{records.offset_of(r), r.key, !r.value.has_value()};
        if (!view.tombstone) {
            last.emplace(survivor{r.wire, r.timestamp_delta});
        }
        if (keep(view)) {
            kept.push_back(survivor{r.wire, r.timestamp_delta});
            res.kept_tombstone = res.kept_tombstone || view.tombstone;
            ++res.records_kept;
        } else {
            ++res.records_dropped;
        }
    }
}

// Appends one record with its timestamp delta moved by `shift` (new delta = old + shift),
// re-encoding its length prefix.
result<void> append_shifted(bytes& section, const survivor& s, std::int64_t shift) {
    protocol::records_detail::byte_cursor cursor(s.wire);
    (void)cursor.read_varint();  // length
    const std::int8_t attributes = cursor.read_i8();
    (void)cursor.read_varlong();  // timestamp delta, already in s
    if (!cursor.ok()) {
        return error(cursor.error(), "re-reading a record");
    }
    const bytes_view rest = s.wire.subspan(cursor.position());
    const std::int64_t delta = wrapping_add(s.timestamp_delta, shift);
    const std::size_t body = 1 + protocol::records_detail::varint_size(delta) + rest.size();
    protocol::records_detail::put_varint(section, static_cast<std::int64_t>(body));
    section.push_back(static_cast<std::uint8_t>(attributes));
    protocol::records_detail::put_varint(section, delta);
    section.insert(section.end(), rest.begin(), rest.end());
    return ok();
}

// The uncompressed records section of the survivors; `shift` moves every timestamp delta.
result<bytes> build_section(const std::vector<survivor>& kept, std::optional<std::int64_t> shift) {
    std::size_t size = 0;
    for (const survivor& s : kept) {
        size += s.wire.size() + (shift ? protocol::records_detail::varlong_bytes_max : 0);
    }
    bytes section;
    section.reserve(size);
    for (const survivor& s : kept) {
        if (shift) {
            GREGOR_TRY_VOID(append_shifted(section, s, *shift));
        } else {
            section.insert(section.end(), s.wire.begin(), s.wire.end());
        }
    }
    return section;
}

// Rebuilds the batch from the survivors (stamping `horizon` if set) and appends it.
result<void> append_rebuilt(const model::record_batch_header& header,
                            const std::vector<survivor>& kept,
                            std::optional<model::timestamp_ms> horizon, bytes& out) {
    model::record_batch_header h = header;
    h.record_count = static_cast<std::int32_t>(kept.size());
    std::optional<std::int64_t> shift;
    if (horizon) {
        h.attributes = static_cast<std::int16_t>(h.attributes | delete_horizon_bit);
        h.base_timestamp = *horizon;
        shift = wrapping_sub(header.base_timestamp(), (*horizon)());
    }
    GREGOR_TRY(bytes section, build_section(kept, shift));
    if (h.compression() == model::compression_type::none) {
        append_batch(out, h, section);
        return ok();
    }
    GREGOR_TRY(bytes compressed, protocol::compress(h.compression(), section));
    append_batch(out, h, compressed);
    return ok();
}

void append_empty(const model::record_batch_header& header, bytes& out) {
    model::record_batch_header h = header;
    h.attributes = static_cast<std::int16_t>(header.attributes & empty_batch_attributes);
    h.base_timestamp = header.max_timestamp;
    h.record_count = 0;
    append_batch(out, h, {});
}

}  // namespace
}  // namespace batch_filter_impl

std::optional<model::timestamp_ms> delete_horizon(const model::record_batch_header& header) {
    if ((header.attributes & delete_horizon_bit) == 0) {
        return std::nullopt;
    }
    return header.base_timestamp;
}

result<filter_result> filter_batch(const model::record_batch_header& header, bytes_view batch,
                                   const filter_options& options, record_predicate keep, bytes& out,
                                   bytes* scratch) {
    using namespace batch_filter_impl;  // NOLINT: this file's own helpers
    GREGOR_ASSERT(header.magic == model::batch_magic_v2 && batch.size() >= header.size_bytes(),
                  "filter of a batch of {} bytes, magic {}, header says {}", batch.size(),
                  header.magic, header.size_bytes());
    GREGOR_TRY(auto records,
               protocol::batch_records::open(header, batch, options.decompressed_bytes_max,
                                             scratch != nullptr ? std::move(*scratch) : bytes{}));
    // Gives the buffer back on every return below (the survivors' views die with `records`).
    struct give_back {
        protocol::batch_records& records;
        bytes* scratch;
        ~give_back() {
            if (scratch != nullptr) {
                *scratch = std::move(records).release_storage();
            }
        }
    } give_back_scratch{records, scratch};
    std::vector<survivor> kept;
    // The count is not trusted to size memory: the vector grows past this if it must.
    kept.reserve(static_cast<std::size_t>(std::clamp<std::int32_t>(header.record_count, 0, 4096)));
    filter_result res;
    GREGOR_TRY_VOID(scan(records, keep, options.keep_last_record, kept, res));
    const std::size_t start = out.size();
    if (kept.empty()) {
        res.kind = options.retain_empty ? filter_kind::empty : filter_kind::dropped;
        if (options.retain_empty) {
            append_empty(header, out);
        }
    } else {
        const bool stamp = options.stamp_horizon && !delete_horizon(header) &&
                           (res.kept_tombstone || options.stamp_without_tombstone);
        if (res.records_dropped == 0 && !stamp) {
            res.kind = filter_kind::unchanged;
            const bytes_view whole = batch.first(header.size_bytes());
            out.insert(out.end(), whole.begin(), whole.end());
        } else {
            res.kind = filter_kind::rebuilt;
            res.stamped_horizon = stamp;
            GREGOR_TRY_VOID(
                append_rebuilt(header, kept, stamp ? options.stamp_horizon : std::nullopt, out));
        }
    }
    res.bytes_written = out.size() - start;
    return res;
}

result<std::vector<std::int32_t>> records_without_key(const model::record_batch_header& header,
                                                      bytes_view batch,
                                                      std::size_t decompressed_bytes_max) {
    GREGOR_TRY(auto records, protocol::batch_records::open(header, batch, decompressed_bytes_max));
    protocol::record_reader reader = records.records();
    std::vector<std::int32_t> out;
    for (std::int32_t index = 0;; ++index) {
        GREGOR_TRY(auto next, reader.next());
        if (!next) {
            return out;
        }
        if (!next->key) {
            out.push_back(index);
        }
    }
}

}  // namespace gregor::storage

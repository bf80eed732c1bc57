#include "protocol/writer.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace gregor::protocol {

bytes wire_buffer::flatten() const {
    bytes out;
    out.reserve(size_bytes());
    for_each_piece([&](bytes_view piece) { out.insert(out.end(), piece.begin(), piece.end()); });
    return out;
}

gregor::error writer::error() const {
    GREGOR_ASSERT(failed_, "writer::error() without an error");
    return gregor::error(code_, detail_);
}

void writer::fail(errc code, std::string_view what) {
    if (!failed_) {
        failed_ = true;
        code_ = code;
        detail_ = std::string(what);
    }
}

wire_buffer writer::finish() && {
    GREGOR_ASSERT(!failed_, "finish() on a failed writer: {}", detail_);
    return std::move(out_);
}

void writer::write_be(std::uint64_t v, std::size_t n) {
    for (std::size_t i = n; i > 0; --i) {
        out_.owned_.push_back(static_cast<std::uint8_t>(v >> (8 * (i - 1))));
    }
}

void writer::write_float64(double v) {
    write_be(std::bit_cast<std::uint64_t>(v), 8);
}

void writer::write_unsigned_varint(std::uint64_t v) {
    while (v >= 0x80) {
        out_.owned_.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out_.owned_.push_back(static_cast<std::uint8_t>(v));
}

void writer::write_varint(std::int32_t v) {
    auto u = static_cast<std::uint32_t>(v);
    write_unsigned_varint((u << 1) ^ static_cast<std::uint32_t>(v >> 31));
}

void writer::write_varlong(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    write_unsigned_varint((u << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

bool writer::write_length(std::size_t n, bool compact, bool wide) {
    std::size_t max = compact ? std::numeric_limits<std::uint32_t>::max() - 1
                      : wide  ? static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())
                              : static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max());
    if (n > max) {
        fail(errc::value_too_large, "length does not fit its wire type");
        n = 0;
    }
    if (compact) {
        write_unsigned_varint(n + 1);
    } else if (wide) {
        write_int32(static_cast<std::int32_t>(n));
    } else {
        write_int16(static_cast<std::int16_t>(n));
    }
    return n > 0;
}

void writer::write_string(std::string_view v, bool compact) {
    if (write_length(v.size(), compact, false)) {
        out_.owned_.insert(out_.owned_.end(), v.begin(), v.end());
    }
}

void writer::write_nullable_string(const std::optional<std::string>& v, bool compact,
                                   bool nullable) {
    if (v) {
        write_string(*v, compact);
        return;
    }
    if (!nullable) {
        fail(errc::unexpected_null, "string");
    }
    compact ? write_uvarint(0) : write_int16(-1);
}

void writer::write_bytes(bytes_view v, bool compact) {
    if (write_length(v.size(), compact, true)) {
        write_raw(v);
    }
}

void writer::write_nullable_bytes(const std::optional<bytes>& v, bool compact, bool nullable) {
    if (v) {
        write_bytes(*v, compact);
        return;
    }
    if (!nullable) {
        fail(errc::unexpected_null, "bytes");
    }
    compact ? write_uvarint(0) : write_int32(-1);
}

void writer::write_records(const std::optional<records_ref>& v, bool compact, bool nullable) {
    if (!v) {
        if (!nullable) {
            fail(errc::unexpected_null, "records");
        }
        compact ? write_uvarint(0) : write_int32(-1);
        return;
    }
    if (write_length(v->size(), compact, true)) {
        out_.splices_.push_back(wire_buffer::splice{out_.owned_.size(), *v});
        out_.spliced_bytes_ += v->size();
    }
}

void writer::write_array_length(std::size_t n, bool compact) {
    write_length(n, compact, true);
}

void writer::write_unknown_tags(std::span<const tagged_field> unknown) {
    write_uvarint(static_cast<std::uint32_t>(unknown.size()));
    for (const tagged_field& f : unknown) {
        write_tagged(f.tag, f.data);
    }
}

void writer::write_tagged(std::uint32_t tag, bytes_view data) {
    write_uvarint(tag);
    if (data.size() >= std::numeric_limits<std::uint32_t>::max()) {
        fail(errc::value_too_large, "tagged field");
        write_uvarint(0);
        return;
    }
    write_uvarint(static_cast<std::uint32_t>(data.size()));
    write_raw(data);
}

std::size_t writer::reserve_int32() {
    std::size_t at = out_.owned_.size();
    write_int32(0);
    return at;
}

void writer::patch_int32(std::size_t at, std::int32_t v) {
    GREGOR_ASSERT(at + 4 <= out_.owned_.size(), "patch_int32 beyond the buffer");
    auto u = static_cast<std::uint32_t>(v);
    for (std::size_t i = 0; i < 4; ++i) {
        out_.owned_[at + i] = static_cast<std::uint8_t>(u >> (8 * (3 - i)));
    }
}

writer& tagged_writer::begin(std::uint32_t tag) {
    GREGOR_ASSERT(entries_.empty() || entries_.back().tag < tag, "known tags out of order");
    entries_.push_back(entry{tag, writer()});
    return entries_.back().data;
}

void tagged_writer::finish(writer& out, std::span<const tagged_field> unknown) {
    std::size_t total = entries_.size() + unknown.size();
    out.write_uvarint(static_cast<std::uint32_t>(total));
    std::size_t k = 0;
    for (const tagged_field& f : unknown) {
        for (; k < entries_.size() && entries_[k].tag < f.tag; ++k) {
            write_entry(out, entries_[k]);
        }
        out.write_tagged(f.tag, f.data);
    }
    for (; k < entries_.size(); ++k) {
        write_entry(out, entries_[k]);
    }
}

void tagged_writer::write_entry(writer& out, const entry& e) {
    if (!e.data.ok()) {
        out.fail(e.data.code_, e.data.detail_);
    }
    GREGOR_ASSERT(e.data.out_.splices().empty(), "records inside a tagged field");
    out.write_tagged(e.tag, e.data.out_.owned());
}

}  // namespace gregor::protocol

#include "protocol/records/record_reader.h"

#include "base/assert.h"
#include "protocol/records/varint.h"

#include <fmt/format.h>

namespace gregor::protocol {

using records_detail::byte_cursor;

void record_header_range::iterator::load() {
    if (left_ <= 0) {
        left_ = 0;
        return;
    }
    byte_cursor c(rest_);
    const std::int32_t key_len = c.read_varint();
    GREGOR_ASSERT(key_len >= 0, "header iteration over unvalidated bytes");
    const bytes_view key = c.take(static_cast<std::size_t>(key_len));
    current_.key = records_detail::as_string_view(key);
    current_.value = c.read_nullable_bytes();
    GREGOR_ASSERT(c.ok(), "header iteration over unvalidated bytes");
    rest_ = rest_.subspan(c.position());
}

namespace {

// Reads `count` headers; the cursor fails on any malformed one.
void skip_headers(byte_cursor& c, std::int32_t count) {
    for (std::int32_t i = 0; i < count && c.ok(); ++i) {
        const std::int32_t key_len = c.read_varint();
        if (key_len < 0) {
            c.fail(records_errc::bad_field_length);
            return;
        }
        c.take(static_cast<std::size_t>(key_len));
        c.read_nullable_bytes();
    }
}

}  // namespace

record_reader::parsed record_reader::parse_one() const {
    const bytes_view rest = records_.subspan(pos_);
    byte_cursor outer(rest);
    const std::int32_t length = outer.read_varint();
    parsed out;
    if (!outer.ok()) {
        out.error = outer.error();
        return out;
    }
    if (length < 0 || static_cast<std::size_t>(length) > outer.remaining()) {
        out.error = length < 0 ? records_errc::bad_record_length : records_errc::truncated;
        return out;
    }
    const std::size_t prefix = outer.position();
    byte_cursor c(rest.subspan(prefix, static_cast<std::size_t>(length)));
    record_view& r = out.view;
    r.attributes = c.read_i8();
    r.timestamp_delta = c.read_varlong();
    r.offset_delta = c.read_varint();
    r.key = c.read_nullable_bytes();
    r.value = c.read_nullable_bytes();
    const std::int32_t header_count = c.read_varint();
    // Each header takes at least two bytes, which bounds the loop by the bytes present.
    if (c.ok() &&
        (header_count < 0 || static_cast<std::size_t>(header_count) > c.remaining() / 2)) {
        c.fail(records_errc::bad_header_count);
    }
    const std::size_t headers_start = c.position();
    skip_headers(c, header_count);
    if (c.ok() && c.remaining() != 0) {
        c.fail(records_errc::bad_record_length);
    }
    if (!c.ok()) {
        // Inside the record a field running past its end means the length lied.
        out.error =
            c.error() == records_errc::truncated ? records_errc::bad_record_length : c.error();
        return out;
    }
    r.headers = record_header_range(
        rest.subspan(prefix + headers_start, static_cast<std::size_t>(length) - headers_start),
        header_count);
    r.wire = rest.first(prefix + static_cast<std::size_t>(length));
    return out;
}

result<std::optional<record_view>> record_reader::next() {
    if (failed_) {
        return *failed_;
    }
    if (read_ >= expected_ || pos_ == records_.size()) {
        if (read_ == expected_ && pos_ == records_.size()) {
            return std::optional<record_view>{};
        }
        failed_ = error(records_errc::record_count_mismatch,
                        fmt::format("header says {} records, body has {}{}", expected_, read_,
                                    pos_ == records_.size() ? "" : " and trailing bytes"));
        return *failed_;
    }
    const parsed p = parse_one();
    if (p.error != records_errc{}) {
        failed_ =
            error(p.error, fmt::format("record {} at byte {} of {}", read_, pos_, records_.size()));
        return *failed_;
    }
    pos_ += p.view.wire.size();
    ++read_;
    return std::optional<record_view>{p.view};
}

result<std::int32_t> validate_records(bytes_view records, std::int32_t record_count) {
    record_reader reader(records, record_count);
    for (;;) {
        GREGOR_TRY(auto r, reader.next());
        if (!r) {
            return reader.records_read();
        }
    }
}

}  // namespace gregor::protocol

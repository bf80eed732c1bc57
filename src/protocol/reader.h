// reader: decodes Kafka wire primitives from an untrusted byte buffer.
//
// Errors are sticky: the first malformed field records an errc (truncated, bad_length,
// bad_varint, invalid_utf8, unexpected_null, bad_tagged_fields), every later read returns a
// zero value without touching the input, and the caller checks ok() once at the end. So
// generated decoders stay straight-line code and no read ever leaves the buffer. Every
// length is checked against the bytes left before anything is allocated: an array of N
// elements needs at least N bytes left, a string or byte field of N bytes needs N bytes.
//
// The reader never owns its input; views it returns (records, rest()) point into it, so the
// caller keeps the buffer alive while decoded messages hold records. One thread at a time.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "protocol/errc.h"
#include "protocol/types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::protocol {

// Returns true iff `data` is well-formed UTF-8 (no overlong forms, no surrogates, no code
// point above U+10FFFF).
bool valid_utf8(bytes_view data);

class reader {
public:
    explicit reader(bytes_view data) : data_(data) {}

    bool ok() const { return !failed_; }
    // REQUIRES: !ok().
    gregor::error error() const;
    // Records the first error; later errors are ignored.
    void fail(errc code, std::string_view what);

    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return data_.size() - pos_; }
    bytes_view rest() const { return data_.subspan(pos_); }

    bool read_bool() { return read_uint8() != 0; }
    std::int8_t read_int8() { return static_cast<std::int8_t>(read_uint8()); }
    std::int16_t read_int16() { return static_cast<std::int16_t>(read_be(2)); }
    std::uint16_t read_uint16() { return static_cast<std::uint16_t>(read_be(2)); }
    std::int32_t read_int32() { return static_cast<std::int32_t>(read_be(4)); }
    std::uint32_t read_uint32() { return static_cast<std::uint32_t>(read_be(4)); }
    std::int64_t read_int64() { return static_cast<std::int64_t>(read_be(8)); }
    double read_float64();
    uuid read_uuid();

    // Unsigned LEB128, at most 5 bytes for 32 bits.
    std::uint32_t read_uvarint();
    // Zigzag-encoded signed varints (record fields): 5 bytes for int32, 10 for int64.
    std::int32_t read_varint();
    std::int64_t read_varlong();

    // Non-compact: int16 length (-1 null). Compact: unsigned varint length + 1 (0 null).
    // The plain forms fail with unexpected_null on a null; the nullable forms accept null iff
    // `nullable` (the field is nullable in this version).
    std::string read_string(bool compact);
    std::optional<std::string> read_nullable_string(bool compact, bool nullable);
    // Non-compact: int32 length (-1 null). Compact as strings.
    bytes read_bytes(bool compact);
    std::optional<bytes> read_nullable_bytes(bool compact, bool nullable);
    // Like bytes, but returns a view into the input instead of a copy.
    std::optional<records_ref> read_records(bool compact, bool nullable);
    // REQUIRES: n <= remaining() is checked by the caller or this fails with truncated.
    bytes_view read_raw(std::size_t n);

    // Returns the element count, or -1 for null (only if `nullable`). Fails if the count is
    // larger than the bytes left, since each element takes at least one byte.
    std::int64_t read_array_length(bool compact, bool nullable);

    // Reads an array into `out` with `element(T&)` per element; stops at the first error.
    template <class T, class F>
    void read_array(std::vector<T>& out, bool compact, F&& element);
    template <class T, class F>
    void read_nullable_array(std::optional<std::vector<T>>& out, bool compact, bool nullable,
                             F&& element);

    // Reads a tagged-field section. For each field, `known(tag, sub_reader)` decodes it and
    // returns true, or returns false to keep it in `unknown`. Tags must be strictly
    // ascending; a known field must consume exactly its size.
    template <class F>
    void read_tagged_fields(std::vector<tagged_field>& unknown, F&& known);
    void read_unknown_tags(std::vector<tagged_field>& unknown) {
        read_tagged_fields(unknown, [](std::uint32_t, reader&) { return false; });
    }

private:
    std::uint8_t read_uint8();
    std::uint64_t read_be(std::size_t n);
    std::uint64_t read_unsigned_varint(std::size_t max_bytes, const char* what);
    // Reads a string/bytes length; returns -1 for null. Fails on bad lengths.
    std::int64_t read_length(bool compact, bool wide, const char* what);
    bool take_tag(std::uint32_t& last, bool& first, std::uint32_t& tag, std::size_t& size);
    template <class T, class F>
    void read_elements(std::vector<T>& out, std::int64_t n, F& element);

    bytes_view data_;
    std::size_t pos_ = 0;
    bool failed_ = false;
    errc code_ = errc::truncated;
    std::string detail_;
};

template <class T, class F>
void reader::read_elements(std::vector<T>& out, std::int64_t n, F& element) {
    out.clear();
    auto count = static_cast<std::size_t>(n);
    // Reserve only what the input can back byte for byte; larger arrays grow as decoded.
    if (count * sizeof(T) <= remaining()) {
        out.reserve(count);
    }
    for (std::size_t i = 0; i < count && ok(); ++i) {
        element(out.emplace_back());
    }
}

template <class T, class F>
void reader::read_array(std::vector<T>& out, bool compact, F&& element) {
    std::int64_t n = read_array_length(compact, false);
    if (n > 0) {
        read_elements(out, n, element);
    } else {
        out.clear();
    }
}

template <class T, class F>
void reader::read_nullable_array(std::optional<std::vector<T>>& out, bool compact,
                                 bool nullable, F&& element) {
    std::int64_t n = read_array_length(compact, nullable);
    if (n < 0) {
        out.reset();
        return;
    }
    out.emplace();
    if (n > 0) {
        read_elements(*out, n, element);
    }
}

template <class F>
void reader::read_tagged_fields(std::vector<tagged_field>& unknown, F&& known) {
    unknown.clear();
    std::uint32_t count = read_uvarint();
    if (count > remaining()) {
        fail(errc::bad_length, "tagged field count");
        return;
    }
    std::uint32_t last = 0;
    bool first = true;
    for (std::uint32_t i = 0; i < count && ok(); ++i) {
        std::uint32_t tag = 0;
        std::size_t size = 0;
        if (!take_tag(last, first, tag, size)) {
            return;
        }
        reader sub(data_.subspan(pos_, size));
        if (known(tag, sub)) {
            if (!sub.ok()) {
                fail(sub.code_, sub.detail_);
                return;
            }
            if (sub.remaining() != 0) {
                fail(errc::bad_tagged_fields, "known tagged field size mismatch");
                return;
            }
        } else {
            bytes_view raw = data_.subspan(pos_, size);
            unknown.push_back(tagged_field{tag, bytes(raw.begin(), raw.end())});
        }
        pos_ += size;
    }
}

}  // namespace gregor::protocol

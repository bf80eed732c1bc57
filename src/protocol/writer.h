// writer: encodes Kafka wire primitives into a wire_buffer.
//
// A wire_buffer is owned bytes with external record sets spliced in at recorded positions:
// records fields are never copied, so the network layer can send the pieces with one writev
// (and, once storage hands out file slices, with sendfile for those pieces). Values that do
// not fit their wire type in the requested version (a string over 32767 bytes in a
// non-compact field, null where the version forbids it) set a sticky error instead of
// asserting, because a handler may echo client input into an older version; callers check
// ok() before sending. One thread at a time; a finished wire_buffer is a plain value.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "protocol/errc.h"
#include "protocol/types.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::protocol {

class wire_buffer {
public:
    // An external record set that goes on the wire before owned byte `at`.
    struct splice {
        std::size_t at = 0;
        records_ref records;
    };

    const bytes& owned() const { return owned_; }
    std::span<const splice> splices() const { return splices_; }
    // Total bytes on the wire: owned plus spliced.
    std::size_t size_bytes() const { return owned_.size() + spliced_bytes_; }

    // Calls f(bytes_view) for each contiguous piece in wire order (empty pieces skipped).
    template <class F>
    void for_each_piece(F&& f) const;
    // One contiguous copy of the wire bytes (tests, small messages).
    bytes flatten() const;

private:
    friend class writer;
    bytes owned_;
    std::vector<splice> splices_;
    std::size_t spliced_bytes_ = 0;
};

class writer {
public:
    writer() = default;
    explicit writer(std::size_t reserve_bytes) { out_.owned_.reserve(reserve_bytes); }

    bool ok() const { return !failed_; }
    // REQUIRES: !ok().
    gregor::error error() const;
    std::size_t size_bytes() const { return out_.size_bytes(); }

    void write_bool(bool v) { write_uint8(v ? 1 : 0); }
    void write_int8(std::int8_t v) { write_uint8(static_cast<std::uint8_t>(v)); }
    void write_int16(std::int16_t v) { write_be(static_cast<std::uint16_t>(v), 2); }
    void write_uint16(std::uint16_t v) { write_be(v, 2); }
    void write_int32(std::int32_t v) { write_be(static_cast<std::uint32_t>(v), 4); }
    void write_uint32(std::uint32_t v) { write_be(v, 4); }
    void write_int64(std::int64_t v) { write_be(static_cast<std::uint64_t>(v), 8); }
    void write_float64(double v);
    void write_uuid(const uuid& v) { write_raw(v.bytes); }
    void write_uvarint(std::uint32_t v) { write_unsigned_varint(v); }
    void write_varint(std::int32_t v);
    void write_varlong(std::int64_t v);
    void write_raw(bytes_view data) { out_.owned_.insert(out_.owned_.end(), data.begin(), data.end()); }

    void write_string(std::string_view v, bool compact);
    // Writes null iff `v` is empty; fails with unexpected_null if also !nullable.
    void write_nullable_string(const std::optional<std::string>& v, bool compact, bool nullable);
    void write_bytes(bytes_view v, bool compact);
    void write_nullable_bytes(const std::optional<bytes>& v, bool compact, bool nullable);
    // Splices the records in by reference (no copy).
    void write_records(const std::optional<records_ref>& v, bool compact, bool nullable);
    void write_array_length(std::size_t n, bool compact);
    void write_null_array(bool compact) { compact ? write_uvarint(0) : write_int32(-1); }

    template <class T, class F>
    void write_array(const std::vector<T>& v, bool compact, F&& element);
    template <class T, class F>
    void write_nullable_array(const std::optional<std::vector<T>>& v, bool compact,
                              bool nullable, F&& element);

    // Writes a tagged-field section with only unknown fields (they must be sorted by tag).
    void write_unknown_tags(std::span<const tagged_field> unknown);
    // One tagged field: tag, size, bytes.
    void write_tagged(std::uint32_t tag, bytes_view data);

    // Reserves 4 owned bytes (a size prefix) and returns their position for patch_int32.
    std::size_t reserve_int32();
    void patch_int32(std::size_t at, std::int32_t v);

    void fail(errc code, std::string_view what);
    // Moves the result out. REQUIRES: ok().
    wire_buffer finish() &&;

private:
    friend class tagged_writer;
    void write_uint8(std::uint8_t v) { out_.owned_.push_back(v); }
    void write_be(std::uint64_t v, std::size_t n);
    void write_unsigned_varint(std::uint64_t v);
    // Writes a length; returns true iff it is positive and fit (else 0 was written).
    bool write_length(std::size_t n, bool compact, bool wide);

    wire_buffer out_;
    bool failed_ = false;
    errc code_ = errc::value_too_large;
    std::string detail_;
};

// Collects the known tagged fields of one struct (in ascending tag order, each encoded into
// its own small writer), then writes them merged with the struct's unknown tags.
class tagged_writer {
public:
    // Starts field `tag`; the returned writer stays valid until the next begin().
    writer& begin(std::uint32_t tag);
    void finish(writer& out, std::span<const tagged_field> unknown);

private:
    struct entry {
        std::uint32_t tag;
        writer data;
    };
    static void write_entry(writer& out, const entry& e);
    std::vector<entry> entries_;
};

template <class F>
void wire_buffer::for_each_piece(F&& f) const {
    std::size_t pos = 0;
    for (const splice& s : splices_) {
        if (s.at > pos) {
            f(bytes_view(owned_).subspan(pos, s.at - pos));
            pos = s.at;
        }
        if (s.records.size() > 0) {
            f(s.records.data());
        }
    }
    if (owned_.size() > pos) {
        f(bytes_view(owned_).subspan(pos));
    }
}

template <class T, class F>
void writer::write_array(const std::vector<T>& v, bool compact, F&& element) {
    write_array_length(v.size(), compact);
    for (const T& e : v) {
        element(e);
    }
}

template <class T, class F>
void writer::write_nullable_array(const std::optional<std::vector<T>>& v, bool compact,
                                  bool nullable, F&& element) {
    if (!v) {
        if (!nullable) {
            fail(errc::unexpected_null, "array");
        }
        write_null_array(compact);
        return;
    }
    write_array(*v, compact, element);
}

}  // namespace gregor::protocol

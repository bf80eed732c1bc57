// Zigzag varints and a bounds-checked cursor for the v2 record format (records library
// internals, also used by its tests and fuzzers).
//
// byte_cursor reads untrusted bytes: every read is checked against the end, and the first
// failure is remembered (sticky) so a caller parses a whole record and checks ok() once,
// which keeps the per-record hot path free of branches on result<T>. Value type; any thread.
#pragma once

#include "base/bytes.h"
#include "protocol/records/errc.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace gregor::protocol::records_detail {

inline constexpr std::size_t varint_bytes_max = 5;
inline constexpr std::size_t varlong_bytes_max = 10;

inline constexpr std::uint64_t zigzag_encode(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline constexpr std::int64_t zigzag_decode(std::uint64_t v) {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1U);
}

// Bytes that the zigzag varint of `v` takes on the wire.
inline constexpr std::size_t varint_size(std::int64_t v) {
    std::uint64_t u = zigzag_encode(v);
    std::size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        ++n;
    }
    return n;
}

// Appends the zigzag varint of `v` (varint and varlong share the encoding).
inline void put_varint(bytes& out, std::int64_t v) {
    std::uint64_t u = zigzag_encode(v);
    while (u >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(u | 0x80));
        u >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(u));
}

class byte_cursor {
public:
    explicit byte_cursor(bytes_view data) : data_(data) {}

    bool ok() const { return error_ == records_errc{}; }
    records_errc error() const { return error_; }
    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return data_.size() - pos_; }
    // Records the first failure only; later reads return zero values.
    void fail(records_errc e) {
        if (ok()) {
            error_ = e;
        }
        pos_ = data_.size();
    }

    std::int8_t read_i8() {
        if (remaining() < 1) {
            fail(records_errc::truncated);
            return 0;
        }
        return static_cast<std::int8_t>(data_[pos_++]);
    }
    // Zigzag varint of at most 5 bytes (Kafka's limit); bits past 32 are dropped as Kafka's
    // reader drops them.
    std::int32_t read_varint() {
        const auto u = static_cast<std::uint32_t>(read_raw(varint_bytes_max));
        return static_cast<std::int32_t>(u >> 1) ^ -static_cast<std::int32_t>(u & 1U);
    }
    std::int64_t read_varlong() { return zigzag_decode(read_raw(varlong_bytes_max)); }

    // The next `n` bytes, or an empty view and a failure when fewer remain.
    bytes_view take(std::size_t n) {
        if (remaining() < n) {
            fail(records_errc::truncated);
            return {};
        }
        bytes_view v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    // A varint-length-prefixed byte field: -1 is null, other negatives are an error.
    std::optional<bytes_view> read_nullable_bytes() {
        const std::int32_t len = read_varint();
        if (len == -1) {
            return std::nullopt;
        }
        if (len < -1) {
            fail(records_errc::bad_field_length);
            return bytes_view{};
        }
        return take(static_cast<std::size_t>(len));
    }

private:
    // The little-endian base-128 value before zigzag decoding. Most varints of a record
    // take one or two bytes (zigzag: two from 64, e.g. a 100-byte value's length), and a
    // record's fields leave at least `max_bytes` bytes behind them most of the time: these
    // cases skip the per-byte bound check. Value, bytes consumed and errors are those of
    // the checked loop in every case.
    std::uint64_t read_raw(std::size_t max_bytes) {
        if (remaining() >= 2) {  // max_bytes >= 2: neither case can be too long
            const std::uint8_t b0 = data_[pos_];
            if (b0 < 0x80U) {
                ++pos_;
                return b0;
            }
            const std::uint8_t b1 = data_[pos_ + 1];
            if (b1 < 0x80U) {
                pos_ += 2;
                return std::uint64_t{b0 & 0x7FU} | (std::uint64_t{b1} << 7);
            }
        }
        return read_raw_long(max_bytes);
    }

    // Out of line: keeps the one-byte case small enough to inline everywhere.
    [[gnu::noinline]] std::uint64_t read_raw_long(std::size_t max_bytes) {
        if (remaining() >= max_bytes) {
            const std::uint8_t* p = data_.data() + pos_;
            std::uint64_t v = 0;
            for (std::size_t i = 0; i < max_bytes; ++i) {
                const std::uint8_t b = p[i];  // NOLINT: i < max_bytes <= remaining()
                v |= std::uint64_t{b & 0x7FU} << (7 * i);
                if ((b & 0x80U) == 0) {
                    pos_ += i + 1;
                    return v;
                }
            }
            fail(records_errc::bad_varint);
            return 0;
        }
        return read_raw_checked(max_bytes);
    }

    std::uint64_t read_raw_checked(std::size_t max_bytes) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < max_bytes; ++i) {
            if (pos_ >= data_.size()) {
                fail(records_errc::truncated);
                return 0;
            }
            const std::uint8_t b = data_[pos_++];
            v |= std::uint64_t{b & 0x7FU} << (7 * i);
            if ((b & 0x80U) == 0) {
                return v;
            }
        }
        fail(records_errc::bad_varint);
        return 0;
    }

    bytes_view data_;
    std::size_t pos_ = 0;
    records_errc error_{};
};

inline std::string_view as_string_view(bytes_view b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};  // NOLINT: byte view
}

}  // namespace gregor::protocol::records_detail

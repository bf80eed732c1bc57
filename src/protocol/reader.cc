#include "protocol/reader.h"

#include <bit>
#include <cstring>
#include <limits>

namespace gregor::protocol {
namespace {

// Length of the UTF-8 sequence starting with `lead`, or 0 if `lead` cannot start one.
std::size_t utf8_sequence_length(std::uint8_t lead) {
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        return 2;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        return 4;
    }
    return 0;  // continuation bytes, overlong 2-byte leads (C0, C1), above U+10FFFF
}

// The valid range of the second byte, which rules out overlongs, surrogates and > U+10FFFF.
bool second_byte_ok(std::uint8_t lead, std::uint8_t second) {
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (lead == 0xE0) {
        lo = 0xA0;
    } else if (lead == 0xED) {
        hi = 0x9F;
    } else if (lead == 0xF0) {
        lo = 0x90;
    } else if (lead == 0xF4) {
        hi = 0x8F;
    }
    return second >= lo && second <= hi;
}

}  // namespace

bool valid_utf8(bytes_view data) {
    std::size_t i = 0;
    while (i < data.size()) {
        std::uint8_t lead = data[i];
        std::size_t n = utf8_sequence_length(lead);
        if (n == 0 || n > data.size() - i) {
            return false;
        }
        if (n > 1 && !second_byte_ok(lead, data[i + 1])) {
            return false;
        }
        for (std::size_t k = 2; k < n; ++k) {
            if ((data[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

gregor::error reader::error() const {
    GREGOR_ASSERT(failed_, "reader::error() without an error");
    return gregor::error(code_, detail_);
}

void reader::fail(errc code, std::string_view what) {
    if (failed_) {
        return;
    }
    failed_ = true;
    code_ = code;
    detail_ = std::string(what) + " at byte " + std::to_string(pos_);
}

std::uint8_t reader::read_uint8() {
    return static_cast<std::uint8_t>(read_be(1));
}

std::uint64_t reader::read_be(std::size_t n) {
    if (failed_) {
        return 0;
    }
    if (remaining() < n) {
        fail(errc::truncated, "integer");
        return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v = (v << 8) | data_[pos_ + i];
    }
    pos_ += n;
    return v;
}

double reader::read_float64() {
    return std::bit_cast<double>(read_be(8));
}

uuid reader::read_uuid() {
    uuid out;
    bytes_view raw = read_raw(out.bytes.size());
    if (!raw.empty()) {
        std::memcpy(out.bytes.data(), raw.data(), raw.size());
    }
    return out;
}

std::uint64_t reader::read_unsigned_varint(std::size_t max_bytes, const char* what) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < max_bytes; ++i) {
        if (failed_) {
            return 0;
        }
        if (remaining() == 0) {
            fail(errc::truncated, what);
            return 0;
        }
        std::uint8_t b = data_[pos_++];
        v |= static_cast<std::uint64_t>(b & 0x7F) << (7 * i);
        if ((b & 0x80) == 0) {
            // The last of max_bytes may only carry the bits that fit the type.
            bool fits = i + 1 < max_bytes || (max_bytes == 5 ? b <= 0x0F : b <= 0x01);
            if (!fits) {
                fail(errc::bad_varint, what);
                return 0;
            }
            return v;
        }
    }
    fail(errc::bad_varint, what);
    return 0;
}

std::uint32_t reader::read_uvarint() {
    return static_cast<std::uint32_t>(read_unsigned_varint(5, "unsigned varint"));
}

std::int32_t reader::read_varint() {
    auto u = static_cast<std::uint32_t>(read_unsigned_varint(5, "varint"));
    return static_cast<std::int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

std::int64_t reader::read_varlong() {
    std::uint64_t u = read_unsigned_varint(10, "varlong");
    return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

std::int64_t reader::read_length(bool compact, bool wide, const char* what) {
    std::int64_t n = 0;
    if (compact) {
        n = static_cast<std::int64_t>(read_uvarint()) - 1;
    } else if (wide) {
        n = read_int32();
    } else {
        n = read_int16();
    }
    if (failed_) {
        return 0;
    }
    if (n < -1) {
        fail(errc::bad_length, what);
        return 0;
    }
    if (n > static_cast<std::int64_t>(remaining())) {
        fail(errc::truncated, what);
        return 0;
    }
    return n;
}

bytes_view reader::read_raw(std::size_t n) {
    if (failed_) {
        return {};
    }
    if (remaining() < n) {
        fail(errc::truncated, "raw bytes");
        return {};
    }
    bytes_view out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
}

std::optional<std::string> reader::read_nullable_string(bool compact, bool nullable) {
    std::int64_t n = read_length(compact, false, "string length");
    if (failed_) {
        return std::string();
    }
    if (n < 0) {
        if (!nullable) {
            fail(errc::unexpected_null, "string");
            return std::string();
        }
        return std::nullopt;
    }
    bytes_view raw = read_raw(static_cast<std::size_t>(n));
    if (!valid_utf8(raw)) {
        fail(errc::invalid_utf8, "string");
        return std::string();
    }
    return std::string(reinterpret_cast<const char*>(raw.data()), raw.size());
}

std::string reader::read_string(bool compact) {
    return *read_nullable_string(compact, false);
}

std::optional<bytes> reader::read_nullable_bytes(bool compact, bool nullable) {
    std::optional<records_ref> view = read_records(compact, nullable);
    if (!view) {
        return std::nullopt;
    }
    return bytes(view->data().begin(), view->data().end());
}

bytes reader::read_bytes(bool compact) {
    return *read_nullable_bytes(compact, false);
}

std::optional<records_ref> reader::read_records(bool compact, bool nullable) {
    std::int64_t n = read_length(compact, true, "bytes length");
    if (failed_) {
        return records_ref();
    }
    if (n < 0) {
        if (!nullable) {
            fail(errc::unexpected_null, "bytes");
            return records_ref();
        }
        return std::nullopt;
    }
    return records_ref(read_raw(static_cast<std::size_t>(n)));
}

std::int64_t reader::read_array_length(bool compact, bool nullable) {
    std::int64_t n = compact ? static_cast<std::int64_t>(read_uvarint()) - 1 : read_int32();
    if (failed_) {
        return 0;
    }
    if (n < -1) {
        fail(errc::bad_length, "array length");
        return 0;
    }
    if (n == -1 && !nullable) {
        fail(errc::unexpected_null, "array");
        return 0;
    }
    if (n > static_cast<std::int64_t>(remaining())) {
        fail(errc::bad_length, "array length beyond the data");
        return 0;
    }
    return n;
}

bool reader::take_tag(std::uint32_t& last, bool& first, std::uint32_t& tag, std::size_t& size) {
    tag = read_uvarint();
    std::uint32_t n = read_uvarint();
    if (failed_) {
        return false;
    }
    if (!first && tag <= last) {
        fail(errc::bad_tagged_fields, "tags not strictly ascending");
        return false;
    }
    if (n > remaining()) {
        fail(errc::truncated, "tagged field");
        return false;
    }
    first = false;
    last = tag;
    size = n;
    return true;
}

}  // namespace gregor::protocol

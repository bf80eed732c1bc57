// Java's view of a group id or metadata string: its UTF-16 code units.
//
// Kafka computes two things over Java Strings that gregor holds as UTF-8: the owning
// `__consumer_offsets` partition (String.hashCode, over UTF-16 code units) and the
// `offset.metadata.max.bytes` check (String.length, also in UTF-16 code units). These
// helpers decode UTF-8 into the code units Java would have seen.
//
// Kafka never sees ill-formed UTF-8 as such: it decodes request strings with
// new String(bytes, UTF_8), which puts U+FFFD in place of each ill-formed subsequence, and
// hashes that. gregor's request reader rejects ill-formed UTF-8, so here it only arrives
// from other callers; it is decoded as the JDK (9+) does: one U+FFFD per maximal ill-formed
// subpart (Unicode's recommended practice), except that a well-formed-looking encoded
// surrogate (ED A0..BF xx) is one U+FFFD for its three bytes, or for its first two when the
// third is not a continuation byte.
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gregor::group {

inline constexpr char16_t replacement_character = 0xFFFD;

// Calls `unit(char16_t)` for every UTF-16 code unit of `utf8`, in order: a code point
// above U+FFFF gives a surrogate pair, an ill-formed subsequence one U+FFFD.
template <class F>
void for_each_utf16_unit(std::string_view utf8, F&& unit);

// Java's String.hashCode of the decoded string: h = 31 * h + unit, wrapping at 32 bits.
std::int32_t java_string_hash(std::string_view utf8);
// Java's String.length of the decoded string: its number of UTF-16 code units.
std::size_t java_string_length(std::string_view utf8);

namespace detail {
// Decodes one code point at the front of `s`; returns it (U+FFFD when ill-formed) and the
// number of bytes consumed (>= 1). REQUIRES: !s.empty().
struct decoded_code_point {
    char32_t code_point;
    std::size_t bytes;
};
decoded_code_point decode_utf8_code_point(std::string_view s);
}  // namespace detail

template <class F>
void for_each_utf16_unit(std::string_view utf8, F&& unit) {
    while (!utf8.empty()) {
        const detail::decoded_code_point d = detail::decode_utf8_code_point(utf8);
        utf8.remove_prefix(d.bytes);
        if (d.code_point < 0x10000) {
            unit(static_cast<char16_t>(d.code_point));
            continue;
        }
        const char32_t v = d.code_point - 0x10000;
        unit(static_cast<char16_t>(0xD800 + (v >> 10)));
        unit(static_cast<char16_t>(0xDC00 + (v & 0x3FF)));
    }
}

}  // namespace gregor::group

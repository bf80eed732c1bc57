#include "group/java_string.h"

#include "base/assert.h"

namespace gregor::group::detail {
namespace {

// Sequence length announced by a lead byte, or 0 if the byte cannot start a sequence.
std::size_t sequence_length(std::uint8_t lead) {
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
    return 0;
}

// The second byte's valid range rules out overlongs and code points > U+10FFFF. Encoded
// surrogates (ED A0..BF) pass here and are replaced whole once decoded, as the JDK does.
bool second_byte_ok(std::uint8_t lead, std::uint8_t second) {
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (lead == 0xE0) {
        lo = 0xA0;
    } else if (lead == 0xF0) {
        lo = 0x90;
    } else if (lead == 0xF4) {
        hi = 0x8F;
    }
    return second >= lo && second <= hi;
}

std::uint8_t byte_at(std::string_view s, std::size_t i) {
    return static_cast<std::uint8_t>(s[i]);
}

}  // namespace

decoded_code_point decode_utf8_code_point(std::string_view s) {
    GREGOR_ASSERT(!s.empty(), "decoding an empty string");
    const std::uint8_t lead = byte_at(s, 0);
    const std::size_t n = sequence_length(lead);
    if (n == 0) {
        return {replacement_character, 1};
    }
    if (n == 1) {
        return {lead, 1};
    }
    // Lead-byte payload bits: 5 for 2-byte, 4 for 3-byte, 3 for 4-byte sequences.
    char32_t cp = lead & (0x7Fu >> n);
    for (std::size_t k = 1; k < n; ++k) {
        const bool present = k < s.size();
        const bool valid = present && (k == 1 ? second_byte_ok(lead, byte_at(s, 1))
                                              : (byte_at(s, k) & 0xC0) == 0x80);
        if (!valid) {
            // The maximal subpart ends before byte k: one replacement for all of it.
            return {replacement_character, k};
        }
        cp = (cp << 6) | (byte_at(s, k) & 0x3Fu);
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        return {replacement_character, n};
    }
    return {cp, n};
}

}  // namespace gregor::group::detail

namespace gregor::group {

std::int32_t java_string_hash(std::string_view utf8) {
    std::uint32_t h = 0;
    for_each_utf16_unit(utf8, [&h](char16_t unit) { h = 31 * h + unit; });
    return static_cast<std::int32_t>(h);
}

std::size_t java_string_length(std::string_view utf8) {
    std::size_t n = 0;
    for_each_utf16_unit(utf8, [&n](char16_t) { ++n; });
    return n;
}

}  // namespace gregor::group

// Test helper: bytes from readable hex ("00 01 | 00 01 67"; spaces and '|' are ignored).
#pragma once

#include "base/bytes.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace gregor::group::testing {

inline bytes hex(std::string_view text) {
    bytes out;
    int high = -1;
    for (char c : text) {
        int v = -1;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        } else {
            continue;
        }
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high * 16 + v));
            high = -1;
        }
    }
    return out;
}

inline bytes to_bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

}  // namespace gregor::group::testing

// Checked JSON accessors shared by the znode codecs (internal to coord).
//
// Znode content is untrusted: it may have been written by another tool, an older Kafka, or
// corrupted. Every accessor checks presence, type and range and returns
// errc::malformed_data naming the field; nothing here throws or asserts on the input.
// Pure functions; any thread.
#pragma once

#include "base/result.h"
#include "coord/errc.h"
#include "coord/limits.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>
#include <string>
#include <string_view>

namespace gregor::coord::detail {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

inline error malformed(std::string_view what, std::string_view field) {
    return error(errc::malformed_data, fmt::format("{}: bad or missing '{}'", what, field));
}

// Parses `text` as one JSON object no larger than the znode limit.
inline result<json> parse_object(std::string_view text, std::string_view what) {
    if (text.size() > limits::znode_bytes_max) {
        return error(errc::malformed_data, fmt::format("{}: {} bytes", what, text.size()));
    }
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return error(errc::malformed_data, fmt::format("{}: not a JSON object", what));
    }
    return j;
}

template <class Int>
result<Int> as_int(const json& v, std::string_view what, std::string_view field) {
    if (v.is_number_integer() && !v.is_number_unsigned()) {
        auto x = v.get<std::int64_t>();
        if (x >= std::numeric_limits<Int>::min() && x <= std::numeric_limits<Int>::max()) {
            return static_cast<Int>(x);
        }
    } else if (v.is_number_unsigned()) {
        auto x = v.get<std::uint64_t>();
        if (x <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
            return static_cast<Int>(x);
        }
    }
    return malformed(what, field);
}

template <class Int>
result<Int> get_int(const json& obj, std::string_view what, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end()) {
        return malformed(what, field);
    }
    return as_int<Int>(*it, what, field);
}

inline result<std::string> get_string(const json& obj, std::string_view what,
                                      std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || !it->is_string()) {
        return malformed(what, field);
    }
    return it->get<std::string>();
}

// A 64-bit integer Kafka stores as a decimal string ("timestamp", "block_start").
inline result<std::int64_t> get_long_string(const json& obj, std::string_view what,
                                            std::string_view field) {
    GREGOR_TRY(auto s, get_string(obj, what, field));
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return malformed(what, field);
    }
    return v;
}

// The "version" field, checked to lie in [min_version, max_version].
inline result<int> get_version(const json& obj, std::string_view what, int min_version,
                               int max_version) {
    GREGOR_TRY(auto v, get_int<int>(obj, what, "version"));
    if (v < min_version || v > max_version) {
        return error(errc::malformed_data, fmt::format("{}: unsupported version {}", what, v));
    }
    return v;
}

template <class Id>
result<std::vector<Id>> get_id_array(const json& v, std::string_view what, std::string_view field) {
    if (!v.is_array()) {
        return malformed(what, field);
    }
    std::vector<Id> out;
    out.reserve(v.size());  // bounded: the array came from at most znode_bytes_max bytes
    for (const auto& e : v) {
        GREGOR_TRY(auto x, as_int<typename Id::value_type>(e, what, field));
        out.emplace_back(x);
    }
    return out;
}

// JSON text without throwing on invalid UTF-8 (replaced), compact like Kafka's.
template <class J>
std::string dump(const J& j) {
    return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace gregor::coord::detail

// Test helpers for the records library: owning record specs turned into builder inputs.
// Test-only; any thread.
#pragma once

#include "protocol/records/batch_builder.h"
#include "protocol/records/varint.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gregor::protocol::testing {

inline bytes_view as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}

struct record_spec {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
    std::int64_t timestamp = 0;
};

// Builds one batch from specs; the specs must stay alive only during the call.
inline bytes build(const std::vector<record_spec>& specs, batch_options options = {}) {
    std::vector<std::vector<header_input>> headers(specs.size());
    std::vector<record_input> inputs;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        for (const auto& [k, v] : specs[i].headers) {
            headers[i].push_back({k, v ? std::optional<bytes_view>(as_bytes(*v)) : std::nullopt});
        }
        record_input in;
        if (specs[i].key) {
            in.key = as_bytes(*specs[i].key);
        }
        if (specs[i].value) {
            in.value = as_bytes(*specs[i].value);
        }
        in.headers = headers[i];
        in.timestamp = model::timestamp_ms{specs[i].timestamp};
        inputs.push_back(in);
    }
    auto r = build_batch(inputs, options);
    GREGOR_ASSERT(r.has_value(), "build failed: {}", r.err().to_string());
    return std::move(r).value();
}

inline std::optional<std::string> to_string(const std::optional<bytes_view>& b) {
    if (!b) {
        return std::nullopt;
    }
    return std::string(records_detail::as_string_view(*b));
}

}  // namespace gregor::protocol::testing

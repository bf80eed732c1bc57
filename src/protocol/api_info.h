// api_info: one row of the table of Kafka APIs gregor implements (key, name, version range,
// first flexible version). The generated protocol/messages/all.h provides all_apis() and the
// compile-time <api>_api traits the rows are built from; the broker answers ApiVersions and
// dispatches requests from this table. Plain values; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace gregor::protocol {

struct api_info {
    std::int16_t key = 0;
    std::string_view name;
    std::int16_t version_min = 0;
    std::int16_t version_max = 0;
    // -1 iff no version is flexible.
    std::int16_t first_flexible = -1;

    bool supports(std::int16_t version) const {
        return version >= version_min && version <= version_max;
    }
    // Returns true iff `version` uses compact encodings and tagged fields.
    bool flexible(std::int16_t version) const {
        return first_flexible >= 0 && version >= first_flexible;
    }
};

// Returns the row for `key`, or nullptr iff gregor does not implement that API.
const api_info* find_api(std::int16_t key);

}  // namespace gregor::protocol

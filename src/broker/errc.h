// Error codes of the broker module (configuration, start-up).
#pragma once

#include <system_error>

namespace gregor::broker {

enum class errc {
    config_syntax = 1,   // a line of server.properties cannot be parsed
    config_unknown_key,  // a key that neither Kafka nor gregor defines
    config_bad_value,    // a value of the wrong type or out of range
    config_missing_key,  // a required key is absent
    config_unsupported,  // a Kafka setting gregor does not implement (e.g. SSL listeners)
    config_io,           // the config file cannot be read
    identity_mismatch,   // meta.properties names another broker id or cluster
    identity_io,         // meta.properties cannot be read or written
};

const std::error_category& broker_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), broker_category()};
}

}  // namespace gregor::broker

template <>
struct std::is_error_code_enum<gregor::broker::errc> : std::true_type {};

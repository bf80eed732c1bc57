// Errors of the protocol module: malformed or unsupported bytes on the Kafka wire.
//
// Every decoder in src/protocol reports untrusted-input problems with one of these codes
// (never an assertion); the broker maps them to a closed connection or a Kafka error code in
// its handlers. Value types; any thread.
#pragma once

#include <system_error>

namespace gregor::protocol {

enum class errc {
    truncated = 1,        // fewer bytes left than a field needs
    bad_length,           // a negative length other than -1 (null), or one beyond the data
    bad_varint,           // a varint longer than its type allows
    invalid_utf8,         // a string that is not valid UTF-8
    unexpected_null,      // null where this version does not allow it
    unsupported_version,  // a version outside the API's valid range
    unknown_api,          // an api key gregor does not implement
    bad_tagged_fields,    // tags out of order or repeated, or a known tag with a bad size
    trailing_bytes,       // bytes left over after a complete message
    value_too_large,      // (encode) a value that does not fit its wire type
};

const std::error_category& protocol_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), protocol_category()}; }

}  // namespace gregor::protocol

template <>
struct std::is_error_code_enum<gregor::protocol::errc> : std::true_type {};

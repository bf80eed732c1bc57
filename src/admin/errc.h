// Error codes of the admin client (gregor topics / groups / cluster describe|health / leaders).
#pragma once

#include <system_error>

namespace gregor::admin {

enum class errc {
    bad_address = 1,  // a host:port that does not parse or resolve
    connect_failed,   // no bootstrap server accepted a connection
    io_failed,        // the connection broke or timed out mid-request
    bad_response,     // a response that does not decode or match the request
    unsupported,      // the broker does not speak a version of the API we can use
    no_controller,    // no controller known, or NOT_CONTROLLER persisted after retries
    request_failed,   // the request reached the cluster and Kafka answered with an error
    bad_usage,        // a semantic argument error (exit code 2)
    no_coordinator,   // a group's coordinator stayed unknown, loading or moving until the deadline
};

const std::error_category& admin_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), admin_category()};
}

}  // namespace gregor::admin

template <>
struct std::is_error_code_enum<gregor::admin::errc> : std::true_type {};

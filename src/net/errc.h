// Operating errors of the net module: framing violations by peers, socket failures, client
// request outcomes. Plain values; any thread.
#pragma once

#include <system_error>

namespace gregor::net {

enum class errc {
    frame_size_invalid = 1,  // size prefix <= 0 or below the minimum header
    frame_too_large,         // size prefix above the configured maximum
    frame_truncated,         // the peer closed the connection inside a frame
    connection_closed,       // the peer closed the connection, or we did
    socket_error,            // a system call on the socket failed (detail names it)
    file_truncated,          // a file slice ended before the bytes it promised
    connect_failed,          // resolve/connect failed or did not finish in time
    request_timed_out,       // no response within the request timeout
    queue_full,              // the client's bounded request queue is full
    client_closed,           // the client was closed with the request still pending
    disconnected,            // the connection dropped with the request pending
    bad_response,            // a response frame without a known correlation id
    invalid_config,          // a configuration value out of range (detail names it)
};

const std::error_category& net_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), net_category()};
}

}  // namespace gregor::net

template <>
struct std::is_error_code_enum<gregor::net::errc> : std::true_type {};

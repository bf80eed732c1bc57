// coord::errc: the operating errors of the coordination layer.
//
// Most values mirror the ZooKeeper result codes a caller has to tell apart (a failed
// conditional write, a missing parent, a lost connection); the rest are gregor's own
// (malformed znode JSON, a full request queue, a connect timeout). Every coord API reports
// failures as one of these through result<T>. Value types; any thread.
#pragma once

#include <system_error>

namespace gregor::coord {

enum class errc {
    no_node = 1,                 // the znode (or the parent of a create) does not exist
    node_exists,                 // create on a path that already exists
    bad_version,                 // a conditional set/remove/check saw another version
    not_empty,                   // remove of a znode that has children
    no_children_for_ephemerals,  // create under an ephemeral znode
    connection_loss,             // the connection dropped; the operation may have applied
    session_expired,             // the session ended; its ephemerals and watches are gone
    operation_timeout,           // the server did not answer in time
    runtime_inconsistency,       // a multi op after the failing one (never attempted)
    bad_arguments,               // an invalid path or argument
    closed,                      // the client was closed
    queue_full,                  // more operations waiting than the named limit allows
    connect_timeout,             // no session established within the connection timeout
    malformed_data,              // a znode's content failed validation (untrusted bytes)
    fatal_registration,          // another session owns our broker registration
    system_error,                // any other ZooKeeper library failure
    unsupported,                 // the server lacks the operation (multiRead before 3.6)
    request_too_large,           // over limits::request_bytes_max: never sent (the server
                                 // would close the connection on it)
};

const std::error_category& coord_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), coord_category()};
}

// Returns true iff `e` means "the session or connection had a problem": the caller should
// wait for the next connected event and retry (the operation may or may not have applied).
bool is_transient(std::error_code e);

}  // namespace gregor::coord

template <>
struct std::is_error_code_enum<gregor::coord::errc> : std::true_type {};

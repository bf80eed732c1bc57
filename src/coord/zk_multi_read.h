// zk_multi_read: ZooKeeper's multiRead (server 3.6+) on a short-lived session of its own,
// behind zk_client::read_many.
//
// Why: the C client (3.8) cannot send multiRead, and a controller failover reads one state
// znode per partition. ZooKeeper spends most of a single get on moving the request between
// its threads and the socket; on two cores 100,000 gets cost it about 6 s, while the same
// reads packed 1,000 to a request cost it a tenth of that.
//
// How: connect to the server the main session uses, open a session (no auth, no watches),
// send sync so the session sees every write committed before read_many was called, then
// pipeline multiRead requests of at most `ops_per_request` getData ops, `window` of them
// outstanding, and finally close the session. ZooKeeper answers a session's requests in
// order, so replies are matched by their xid in sequence. Every length on the wire is
// checked before it is used; a reply frame above `reply_bytes_max` or any malformed byte
// fails the whole read. A server without multiRead answers UNIMPLEMENTED (errc::unsupported).
// The caller (the controller's zk::get_many) then reads one znode per request as before.
//
// Loop thread only: the read runs as a coroutine on the given io_context and completes
// there, never inline.
#pragma once

#include "base/bytes.h"
#include "coord/client.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::coord::detail {

struct multi_read_config {
    std::string host;  // a numeric address, as zoo_get_current_server() gives it
    std::uint16_t port = 0;
    std::string chroot;  // prefixed to every path ("" or "/kafka")
    // The session's timeout, and how long the read may go without any progress (connect,
    // a reply) before it fails with errc::operation_timeout.
    std::chrono::milliseconds session_timeout{18000};
    std::size_t ops_per_request = 1000;
    std::size_t window = 4;
    std::size_t reply_bytes_max = 64 * 1024 * 1024;
};

using multi_read_fn = std::function<void(result<std::vector<result<node_data>>>)>;

// A running read; cancel() makes it complete with errc::closed (if it has not completed).
class multi_read_handle {
public:
    virtual ~multi_read_handle() = default;
    virtual void cancel() = 0;
};

// Starts reading `paths` (each already valid and relative to the chroot); `done` gets one
// result per path in order, or one error for the whole read.
std::shared_ptr<multi_read_handle> start_multi_read(boost::asio::io_context& ioc,
                                                    multi_read_config cfg,
                                                    std::vector<std::string> paths,
                                                    multi_read_fn done);

// "host:port" (zoo_get_current_server's form; IPv6 with or without brackets) -> parts.
result<std::pair<std::string, std::uint16_t>> parse_server(std::string_view server);

// The wire codec (on protocol::writer/reader: jute's primitives are Kafka's non-compact
// ones), exposed for tests. Encoders return whole frames (length prefix included); decoders
// take a frame's body (without the prefix).
bytes encode_connect(std::chrono::milliseconds session_timeout);
// Returns the negotiated session timeout, or an error when the server refused the session.
result<std::chrono::milliseconds> decode_connect_reply(bytes_view body);
bytes encode_sync(std::int32_t xid, std::string_view path);
bytes encode_close(std::int32_t xid);
bytes encode_multi_read(std::int32_t xid, std::span<const std::string> paths);
// The reply header's xid and error code; `rest` is set to what follows it.
struct reply_header {
    std::int32_t xid = 0;
    std::int64_t zxid = 0;
    std::int32_t err = 0;
};
result<reply_header> decode_reply_header(bytes_view body, bytes_view& rest);
// A multiRead reply's results (after its header): exactly `count` of them, each a node or
// its own error.
result<std::vector<result<node_data>>> decode_multi_read(bytes_view rest, std::size_t count);

}  // namespace gregor::coord::detail

// Writes one framed response to a socket: sendmsg(2) for runs of memory segments (gather,
// MSG_NOSIGNAL, MSG_MORE while more bytes follow), sendfile(2) for file slices (zero copy
// from the page cache). Partial writes advance a gather_cursor; EAGAIN suspends on the
// socket's writability, so a slow reader never blocks the loop. Loop thread only.
#pragma once

#include "base/result.h"
#include "net/asio.h"
#include "net/response.h"

namespace gregor::net {

// Sends the 4-byte size and the whole response. Returns an error iff the socket failed or a
// file slice came up short; then the stream is broken and the caller must close it.
// REQUIRES: the socket is open and in native non-blocking mode; one writer at a time.
asio::awaitable<result<void>> send_response(tcp::socket& socket, const response& r);
// Sends several framed responses back to back, sharing system calls between them.
// REQUIRES: as send_response; the responses outlive the call.
asio::awaitable<result<void>> send_responses(tcp::socket& socket,
                                             std::span<const response* const> batch);

// Makes the process ignore SIGPIPE: sendfile(2) to a reset peer raises it, and a broker must
// see EPIPE instead of dying. Idempotent; any thread.
void ignore_sigpipe();

}  // namespace gregor::net

// response: a response message as a gather list, written without copying its parts.
//
// A handler builds one from three kinds of segment: owned byte buffers (moved in), external
// byte spans kept alive by an owner (shared_ptr), and file slices (fd, offset, length, plus a
// keep-alive owner such as an open segment) that the server sends with sendfile(2) straight
// from the page cache. The server prepends the 4-byte size. gather_cursor walks a response
// for the writer: runs of memory segments become one iovec batch (one sendmsg), a file slice
// becomes one sendfile, and advance() accounts for partial writes. The handler must put the
// response header (correlation id) in the first bytes itself. Value types; a response is
// built on any thread but sent by the loop.
#pragma once

#include "base/bytes.h"
#include "net/frame.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <sys/uio.h>
#include <variant>
#include <vector>

namespace gregor::net {

struct external_span {
    bytes_view view;
    std::shared_ptr<const void> owner;  // keeps `view` valid until the response is sent
};

struct file_slice {
    int fd = -1;
    std::int64_t offset = 0;
    std::size_t length = 0;
    std::shared_ptr<const void> owner;  // keeps `fd` open until the response is sent
};

class response {
public:
    using segment = std::variant<bytes, external_span, file_slice>;

    response() = default;
    explicit response(bytes message) { append(std::move(message)); }

    void append(bytes b);
    // REQUIRES: `owner` keeps `view` alive (may be null for static storage).
    void append(bytes_view view, std::shared_ptr<const void> owner);
    // REQUIRES: fd >= 0, offset >= 0; `owner` keeps the fd open. Sent with sendfile(2);
    // if the file holds fewer bytes than promised the connection is closed.
    void append_file(int fd, std::int64_t offset, std::size_t length,
                     std::shared_ptr<const void> owner);

    const std::vector<segment>& segments() const { return segments_; }
    // Bytes of the message (without the size prefix).
    std::size_t size_bytes() const { return size_bytes_; }

private:
    std::vector<segment> segments_;
    std::size_t size_bytes_ = 0;
};

// Walks "size prefix + segments" of one or more responses (a batch written back to back)
// and hands out the next write: either iovecs for a run of memory segments, which may span
// responses, or one file chunk. REQUIRES: the responses outlive the cursor and each holds at
// most INT32_MAX bytes.
class gather_cursor {
public:
    struct file_chunk {
        int fd;
        std::int64_t offset;
        std::size_t length;
    };

    explicit gather_cursor(const response& r)
        : gather_cursor(std::span<const response* const>(std::array<const response*, 1>{&r})) {}
    explicit gather_cursor(std::span<const response* const> batch);
    // Pieces point into prefixes_, so the cursor stays where it was built.
    gather_cursor(const gather_cursor&) = delete;
    gather_cursor& operator=(const gather_cursor&) = delete;

    bool done() const { return piece_ == pieces_.size(); }
    // REQUIRES: !done(). True iff the next write is a file chunk.
    bool at_file() const;
    // REQUIRES: at_file().
    file_chunk next_file() const;
    // REQUIRES: !at_file(). Fills `out` with up to out.size() iovecs; returns the count.
    std::size_t next_iovecs(std::span<iovec> out) const;
    // Records that `n` bytes were written. REQUIRES: n <= bytes of the last next_*().
    void advance(std::size_t n);
    std::size_t remaining_bytes() const { return remaining_; }

private:
    struct piece {
        const std::uint8_t* data;  // null for a file piece
        const file_slice* file;    // null for a memory piece
        std::size_t length;
    };

    std::vector<std::array<std::uint8_t, frame_size_prefix_bytes>> prefixes_;
    std::vector<piece> pieces_;
    std::size_t piece_ = 0;       // current piece
    std::size_t piece_done_ = 0;  // bytes of the current piece already written
    std::size_t remaining_ = 0;
};

}  // namespace gregor::net

// Kafka framing, and nothing of API contents.
//
// Every Kafka message on TCP is a 4-byte big-endian size followed by that many bytes. A
// request message starts with api_key int16, api_version int16, correlation_id int32 (the
// rest of the request header and the body belong to the protocol module); a response
// message starts with the correlation_id int32. Sizes come from the network, so they are
// validated before anything is allocated. read_buffer is the connection's incremental input
// buffer. Pure functions and value types; any thread.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gregor::net {

inline constexpr std::size_t frame_size_prefix_bytes = 4;
// api_key + api_version + correlation_id: request header v0, the shortest one.
inline constexpr std::int32_t request_header_bytes_min = 8;
// A response message carries at least its correlation id.
inline constexpr std::int32_t response_header_bytes_min = 4;

// The fixed leading fields of a request message.
struct request_header {
    std::int16_t api_key = 0;
    std::int16_t api_version = 0;
    std::int32_t correlation_id = 0;
};

// Decodes a size prefix and checks min <= size <= max. Returns the message size iff valid
// (frame_size_invalid for size < min, including zero and negative; frame_too_large above max).
result<std::int32_t> decode_frame_size(std::span<const std::uint8_t, frame_size_prefix_bytes> in,
                                       std::int32_t min_bytes, std::int32_t max_bytes);

// Writes `size` big endian. REQUIRES: size >= 0.
std::array<std::uint8_t, frame_size_prefix_bytes> encode_frame_size(std::int32_t size);

// Reads the fixed request fields. Returns them iff `message` holds at least 8 bytes.
result<request_header> peek_request_header(bytes_view message);
// Reads a response's correlation id. Returns it iff `message` holds at least 4 bytes.
result<std::int32_t> peek_correlation_id(bytes_view message);
// Overwrites a request's correlation id in place. REQUIRES: message.size() >= 8.
void set_request_correlation_id(mutable_bytes_view message, std::int32_t correlation_id);

// A fixed-capacity input buffer: the socket reads into writable(), the parser consumes from
// readable(). Holds at most capacity bytes; compacts when writable space runs out.
class read_buffer {
public:
    explicit read_buffer(std::size_t capacity) : buf_(capacity) {}

    bytes_view readable() const { return {buf_.data() + begin_, end_ - begin_}; }
    std::size_t readable_bytes() const { return end_ - begin_; }
    // Space after the readable bytes; compacts first so the space is as large as possible.
    mutable_bytes_view writable();
    // REQUIRES: n <= writable().size() (as last returned).
    void commit(std::size_t n);
    // REQUIRES: n <= readable_bytes().
    void consume(std::size_t n);

private:
    bytes buf_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace gregor::net

#include "net/frame.h"

#include "base/assert.h"
#include "net/errc.h"

#include <fmt/format.h>

#include <cstring>

namespace gregor::net {
namespace {

std::uint32_t load_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

void store_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

std::int16_t load_be16(const std::uint8_t* p) {
    return static_cast<std::int16_t>((std::uint32_t{p[0]} << 8) | std::uint32_t{p[1]});
}

}  // namespace

result<std::int32_t> decode_frame_size(std::span<const std::uint8_t, frame_size_prefix_bytes> in,
                                       std::int32_t min_bytes, std::int32_t max_bytes) {
    GREGOR_ASSERT(min_bytes > 0 && min_bytes <= max_bytes, "bad frame bounds {}..{}", min_bytes,
                  max_bytes);
    auto size = static_cast<std::int32_t>(load_be32(in.data()));
    if (size < min_bytes) {
        return error(errc::frame_size_invalid,
                     fmt::format("size {} < minimum {}", size, min_bytes));
    }
    if (size > max_bytes) {
        return error(errc::frame_too_large, fmt::format("size {} > maximum {}", size, max_bytes));
    }
    return size;
}

std::array<std::uint8_t, frame_size_prefix_bytes> encode_frame_size(std::int32_t size) {
    GREGOR_ASSERT(size >= 0, "negative frame size {}", size);
    std::array<std::uint8_t, frame_size_prefix_bytes> out{};
    store_be32(out.data(), static_cast<std::uint32_t>(size));
    return out;
}

result<request_header> peek_request_header(bytes_view message) {
    if (message.size() < static_cast<std::size_t>(request_header_bytes_min)) {
        return error(errc::frame_size_invalid, "request shorter than its fixed header");
    }
    return request_header{
        .api_key = load_be16(message.data()),
        .api_version = load_be16(message.data() + 2),
        .correlation_id = static_cast<std::int32_t>(load_be32(message.data() + 4)),
    };
}

result<std::int32_t> peek_correlation_id(bytes_view message) {
    if (message.size() < static_cast<std::size_t>(response_header_bytes_min)) {
        return error(errc::frame_size_invalid, "response shorter than its correlation id");
    }
    return static_cast<std::int32_t>(load_be32(message.data()));
}

void set_request_correlation_id(mutable_bytes_view message, std::int32_t correlation_id) {
    GREGOR_ASSERT(message.size() >= static_cast<std::size_t>(request_header_bytes_min),
                  "request of {} bytes has no correlation id", message.size());
    store_be32(message.data() + 4, static_cast<std::uint32_t>(correlation_id));
}

mutable_bytes_view read_buffer::writable() {
    if (begin_ == end_) {
        begin_ = 0;
        end_ = 0;
    } else if (end_ == buf_.size() && begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    return {buf_.data() + end_, buf_.size() - end_};
}

void read_buffer::commit(std::size_t n) {
    GREGOR_ASSERT(n <= buf_.size() - end_, "commit {} beyond capacity", n);
    end_ += n;
}

void read_buffer::consume(std::size_t n) {
    GREGOR_ASSERT(n <= end_ - begin_, "consume {} of {} readable", n, end_ - begin_);
    begin_ += n;
}

}  // namespace gregor::net

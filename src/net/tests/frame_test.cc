// Goal: the framing helpers accept exactly the sizes and headers Kafka defines and reject
// every other prefix before anything is allocated. Method: feed hand-built big-endian byte
// strings, including boundary values, and check the decoded fields and error codes; drive
// read_buffer through fill/consume/compact cycles.
#include "net/frame.h"

#include "net/errc.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace gregor::net {
namespace {

std::array<std::uint8_t, 4> be32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

TEST(frame_size, accepts_sizes_between_minimum_and_maximum) {
    EXPECT_EQ(*decode_frame_size(be32(8), 8, 1000), 8);
    EXPECT_EQ(*decode_frame_size(be32(1000), 8, 1000), 1000);
    EXPECT_EQ(*decode_frame_size(be32(0x01020304), 8, 0x7fffffff), 0x01020304);
}

TEST(frame_size, rejects_zero_negative_and_below_minimum_as_invalid) {
    EXPECT_EQ(decode_frame_size(be32(0), 8, 1000).code(), errc::frame_size_invalid);
    EXPECT_EQ(decode_frame_size(be32(7), 8, 1000).code(), errc::frame_size_invalid);
    EXPECT_EQ(decode_frame_size(be32(0xffffffff), 8, 1000).code(), errc::frame_size_invalid);
    EXPECT_EQ(decode_frame_size(be32(0x80000000), 8, 1000).code(), errc::frame_size_invalid);
}

TEST(frame_size, rejects_above_maximum_as_too_large) {
    EXPECT_EQ(decode_frame_size(be32(1001), 8, 1000).code(), errc::frame_too_large);
    EXPECT_EQ(decode_frame_size(be32(0x7fffffff), 8, 1000).code(), errc::frame_too_large);
}

TEST(frame_size, encode_round_trips_through_decode) {
    for (std::int32_t v : {8, 255, 256, 65536, 0x7fffffff}) {
        EXPECT_EQ(*decode_frame_size(encode_frame_size(v), 8, 0x7fffffff), v);
    }
}

TEST(request_header, peeks_key_version_and_correlation_id_big_endian) {
    bytes msg{0x00, 0x12, 0x00, 0x03, 0x7f, 0x00, 0x00, 0x01, 0xaa};
    auto h = peek_request_header(msg);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->api_key, 18);
    EXPECT_EQ(h->api_version, 3);
    EXPECT_EQ(h->correlation_id, 0x7f000001);
}

TEST(request_header, negative_fields_keep_their_sign) {
    bytes msg{0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff};
    auto h = peek_request_header(msg);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->api_key, -1);
    EXPECT_EQ(h->api_version, -2);
    EXPECT_EQ(h->correlation_id, -1);
}

TEST(request_header, short_message_is_an_error) {
    bytes msg{0, 1, 2, 3, 4, 5, 6};
    EXPECT_EQ(peek_request_header(msg).code(), errc::frame_size_invalid);
    EXPECT_EQ(peek_correlation_id(bytes{1, 2, 3}).code(), errc::frame_size_invalid);
}

TEST(request_header, set_correlation_id_rewrites_only_bytes_4_to_8) {
    bytes msg{0, 1, 0, 2, 9, 9, 9, 9, 0x55};
    set_request_correlation_id(msg, 0x01020304);
    EXPECT_EQ(msg, (bytes{0, 1, 0, 2, 1, 2, 3, 4, 0x55}));
    auto id = peek_correlation_id(bytes_view(msg).subspan(4));
    EXPECT_EQ(*id, 0x01020304);
}

TEST(read_buffer, consumes_in_order_and_compacts_when_full) {
    read_buffer buf(8);
    auto w = buf.writable();
    ASSERT_EQ(w.size(), 8u);
    for (std::uint8_t i = 0; i < 8; ++i) {
        w[i] = i;
    }
    buf.commit(8);
    EXPECT_TRUE(buf.writable().empty());
    buf.consume(5);
    auto w2 = buf.writable();  // compacts the 3 unread bytes to the front
    ASSERT_EQ(w2.size(), 5u);
    w2[0] = 42;
    buf.commit(1);
    EXPECT_EQ(bytes(buf.readable().begin(), buf.readable().end()), (bytes{5, 6, 7, 42}));
}

TEST(read_buffer, empties_back_to_full_capacity) {
    read_buffer buf(4);
    buf.commit(4);
    buf.consume(4);
    EXPECT_EQ(buf.readable_bytes(), 0u);
    EXPECT_EQ(buf.writable().size(), 4u);
}

}  // namespace
}  // namespace gregor::net

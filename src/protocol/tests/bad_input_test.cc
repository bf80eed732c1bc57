// Goal: malformed requests from the network are rejected with a clean protocol errc: never
// a crash, an assertion, an out-of-bounds read or an allocation the input cannot back.
// Method: valid random messages truncated at every byte, then hand-made corruptions (huge
// and negative lengths, bad UTF-8, bad varints, nulls, tag order, unknown api/version).
// ASan in the debug build turns any out-of-bounds read into a failure.
#include "protocol/frame.h"
#include "protocol/headers.h"
#include "protocol/messages/all.h"
#include "protocol/messages/random_fill.h"

#include <gtest/gtest.h>

namespace gregor::protocol {
namespace {

template <class T>
bytes encode_flat(const T& msg, std::int16_t ver) {
    writer w;
    msg.encode(w, ver);
    return std::move(w).finish().flatten();
}

template <class T>
std::error_code decode_error(bytes_view wire, std::int16_t ver) {
    reader r(wire);
    auto res = T::decode(r, ver);
    return res.has_value() ? std::error_code{} : res.code();
}

template <class T>
void expect_every_prefix_fails(std::int16_t ver, std::uint64_t seed, std::string_view name) {
    T msg;
    random_source rng(seed);
    random_fill(msg, rng, ver);
    bytes wire = encode_flat(msg, ver);
    for (std::size_t n = 0; n < wire.size(); ++n) {
        // A copy of exactly n bytes, so ASan catches any read past the prefix.
        bytes prefix(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n));
        std::error_code ec = decode_error<T>(prefix, ver);
        ASSERT_TRUE(ec) << name << " v" << ver << " decoded from " << n << " of " << wire.size();
        ASSERT_EQ(ec.category(), protocol_category());
    }
}

TEST(bad_input, every_truncation_of_every_request_fails_cleanly) {
    for_each_api([](auto api) {
        using api_t = decltype(api);
        for (auto ver : {api_t::version_min, api_t::version_max}) {
            expect_every_prefix_fails<typename api_t::request_type>(ver, 11, api_t::name);
            expect_every_prefix_fails<typename api_t::response_type>(ver, 12, api_t::name);
        }
    });
}

TEST(bad_input, huge_array_counts_are_rejected_before_allocating) {
    // Metadata v1 request: topics count 2^31-1 with two bytes behind it.
    bytes wire = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x00};
    EXPECT_EQ(decode_error<metadata_request>(wire, 1), errc::bad_length);
    // Metadata v9 (compact): count from a 5-byte uvarint.
    bytes compact = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    EXPECT_EQ(decode_error<metadata_request>(compact, 9), errc::bad_length);
}

TEST(bad_input, negative_lengths_other_than_null_are_rejected) {
    bytes array = {0xff, 0xff, 0xff, 0xfe};  // topics count -2
    EXPECT_EQ(decode_error<metadata_request>(array, 1), errc::bad_length);
    bytes string = {0x00, 0x00, 0x00, 0x01, 0xff, 0xfe};  // topic name length -2
    EXPECT_EQ(decode_error<metadata_request>(string, 1), errc::bad_length);
}

TEST(bad_input, null_where_the_version_forbids_it) {
    bytes v0_null_topics = {0xff, 0xff, 0xff, 0xff};  // topics nullable only from v1
    EXPECT_EQ(decode_error<metadata_request>(v0_null_topics, 0), errc::unexpected_null);
    bytes null_name = {0x00, 0x00, 0x00, 0x01, 0xff, 0xff};  // topic name nullable from v10
    EXPECT_EQ(decode_error<metadata_request>(null_name, 1), errc::unexpected_null);
}

TEST(bad_input, invalid_utf8_in_a_string) {
    bytes wire = {0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0xc0, 0xaf};
    EXPECT_EQ(decode_error<metadata_request>(wire, 1), errc::invalid_utf8);
}

TEST(bad_input, overlong_varint_in_a_compact_length) {
    bytes wire = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    EXPECT_EQ(decode_error<metadata_request>(wire, 9), errc::bad_varint);
}

TEST(bad_input, tagged_fields_out_of_order_or_repeated) {
    // ApiVersions v3 request: two empty compact strings, then tags 5 and 2.
    bytes unordered = {0x01, 0x01, 0x02, 0x05, 0x00, 0x02, 0x00};
    EXPECT_EQ(decode_error<api_versions_request>(unordered, 3), errc::bad_tagged_fields);
    bytes repeated = {0x01, 0x01, 0x02, 0x05, 0x00, 0x05, 0x00};
    EXPECT_EQ(decode_error<api_versions_request>(repeated, 3), errc::bad_tagged_fields);
    bytes sorted = {0x01, 0x01, 0x02, 0x02, 0x00, 0x05, 0x00};
    EXPECT_EQ(decode_error<api_versions_request>(sorted, 3), std::error_code{});
}

TEST(bad_input, known_tagged_field_with_a_wrong_size) {
    // ApiVersions v3 response, tag 1 (finalized_features_epoch, int64) claiming 9 bytes.
    bytes wire = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x09,
                  0, 0, 0, 0, 0, 0, 0, 1, 0xee};
    EXPECT_EQ(decode_error<api_versions_response>(wire, 3), errc::bad_tagged_fields);
    wire[9] = 0x07;  // too short for an int64: the field's own reader runs out
    wire.resize(wire.size() - 2);
    EXPECT_EQ(decode_error<api_versions_response>(wire, 3), errc::truncated);
}

TEST(bad_input, tagged_field_count_beyond_the_data) {
    bytes wire = {0x01, 0x01, 0xff, 0xff, 0x03};
    EXPECT_EQ(decode_error<api_versions_request>(wire, 3), errc::bad_length);
}

TEST(bad_input, unsupported_versions_and_unknown_api_keys) {
    bytes empty;
    EXPECT_EQ(decode_error<fetch_request>(empty, 3), errc::unsupported_version);
    EXPECT_EQ(decode_error<metadata_request>(empty, 13), errc::unsupported_version);
    EXPECT_EQ(decode_error<metadata_request>(empty, -1), errc::unsupported_version);
    EXPECT_EQ(find_api(-1), nullptr);
    EXPECT_EQ(find_api(1000), nullptr);
    writer w;
    metadata_request{}.encode(w, 13);
    EXPECT_EQ(w.error().code, errc::unsupported_version);
}

TEST(bad_input, bytes_after_a_complete_body_are_rejected_by_decode_exact) {
    bytes wire = {0x00, 0x00, 0x00, 0x00, 0x2a};  // metadata v1: empty topics, then junk
    reader r(wire);
    auto res = decode_exact<metadata_request>(r, 1);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(res.code(), errc::trailing_bytes);
    bytes exact = {0x00, 0x00, 0x00, 0x00};
    reader r2(exact);
    EXPECT_TRUE(decode_exact<metadata_request>(r2, 1).has_value());
}

TEST(bad_input, truncated_request_headers) {
    bytes header = {0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 'a'};
    for (std::size_t n = 0; n < header.size(); ++n) {
        bytes prefix(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
        reader r(prefix);
        EXPECT_FALSE(decode_request_header(r).has_value()) << n;
    }
}

}  // namespace
}  // namespace gregor::protocol

// Goal: each (api, version) gets the header version Kafka uses, and headers round-trip.
// Method: the special cases by name (ApiVersions responses, ControlledShutdown v0, unknown
// keys), the general flexible rule checked against the API table.
#include "protocol/headers.h"
#include "protocol/messages/all.h"

#include <gtest/gtest.h>

namespace gregor::protocol {
namespace {

TEST(headers, flexible_versions_use_request_v2_and_response_v1) {
    EXPECT_EQ(request_header_version(metadata_api::key, 8), 1);
    EXPECT_EQ(request_header_version(metadata_api::key, 9), 2);
    EXPECT_EQ(response_header_version(metadata_api::key, 8), 0);
    EXPECT_EQ(response_header_version(metadata_api::key, 9), 1);
    EXPECT_EQ(request_header_version(sasl_handshake_api::key, 1), 1);  // never flexible
    for (const api_info& api : all_apis()) {
        for (auto v = api.version_min; v <= api.version_max; ++v) {
            EXPECT_EQ(request_header_version(api.key, v), api.flexible(v) ? 2 : 1) << api.name;
        }
    }
}

TEST(headers, api_versions_responses_always_use_header_v0) {
    for (std::int16_t v = 0; v <= 5; ++v) {
        EXPECT_EQ(response_header_version(api_versions_api::key, v), 0);
    }
    EXPECT_EQ(request_header_version(api_versions_api::key, 3), 2);
    // A newer client's ApiVersions v4 header still parses as v2.
    EXPECT_EQ(request_header_version(api_versions_api::key, 4), 2);
}

TEST(headers, controlled_shutdown_v0_used_request_header_v0) {
    EXPECT_EQ(request_header_version(controlled_shutdown_api::key, 0), 0);
    EXPECT_EQ(request_header_version(controlled_shutdown_api::key, 1), 1);
    EXPECT_EQ(request_header_version(controlled_shutdown_api::key, 3), 2);
}

TEST(headers, unknown_api_keys_read_a_v1_header) {
    EXPECT_EQ(find_api(9999), nullptr);
    EXPECT_EQ(request_header_version(9999, 0), 1);
    EXPECT_EQ(response_header_version(9999, 0), 0);
    bytes frame = {0x27, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff};
    reader r(frame);
    auto h = decode_request_header(r);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->api_key, 9999);
    EXPECT_EQ(h->correlation_id, 5);
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(headers, request_header_v2_round_trips_with_unknown_tags) {
    request_header h{fetch_api::key, 12, 42, "client", {tagged_field{3, {7}}}};
    writer w;
    encode_request_header(w, h);
    bytes wire = std::move(w).finish().flatten();
    reader r(wire);
    auto decoded = decode_request_header(r);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, h);
}

TEST(headers, response_header_v1_carries_tags_and_v0_does_not) {
    response_header h{9, {}};
    writer w0;
    encode_response_header(w0, h, 0);
    EXPECT_EQ(std::move(w0).finish().flatten(), (bytes{0, 0, 0, 9}));
    writer w1;
    encode_response_header(w1, h, 1);
    bytes wire = std::move(w1).finish().flatten();
    EXPECT_EQ(wire, (bytes{0, 0, 0, 9, 0}));
    reader r(wire);
    auto decoded = decode_response_header(r, 1);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->correlation_id, 9);
}

TEST(headers, api_table_is_sorted_and_matches_the_traits) {
    auto apis = all_apis();
    ASSERT_FALSE(apis.empty());
    for (std::size_t i = 1; i < apis.size(); ++i) {
        EXPECT_LT(apis[i - 1].key, apis[i].key);
    }
    const api_info* produce = find_api(produce_api::key);
    ASSERT_NE(produce, nullptr);
    EXPECT_EQ(produce->name, "Produce");
    EXPECT_EQ(produce->version_min, 0);  // v0-2 listed for librdkafka, see schemas/README.md
    EXPECT_EQ(produce->first_flexible, 9);
    EXPECT_EQ(find_api(sasl_handshake_api::key)->first_flexible, -1);
    EXPECT_TRUE(visit_api(fetch_api::key, [](auto api) { EXPECT_EQ(decltype(api)::key, 1); }));
    EXPECT_FALSE(visit_api(-5, [](auto) { FAIL(); }));
}

}  // namespace
}  // namespace gregor::protocol

// Goal: every request and response of every API gregor implements, in every version, survives
// encode -> decode unchanged, re-encodes to identical bytes, and keeps unknown tagged fields.
// Method: the generated random_fill() fills exactly the fields of a version from fixed seeds;
// the table-driven loop covers all (api, version) pairs, so a new schema is covered for free.
#include "protocol/messages/all.h"
#include "protocol/messages/random_fill.h"

#include <gtest/gtest.h>

#include <string>

namespace gregor::protocol {
namespace {

constexpr int seeds_per_version = 12;

template <class T>
bytes encode_flat(const T& msg, std::int16_t ver) {
    writer w;
    msg.encode(w, ver);
    EXPECT_TRUE(w.ok()) << w.error().to_string();
    return std::move(w).finish().flatten();
}

template <class T>
void expect_round_trip(const T& msg, std::int16_t ver, const std::string& what) {
    bytes wire = encode_flat(msg, ver);
    reader r(wire);
    result<T> decoded = T::decode(r, ver);
    ASSERT_TRUE(decoded.has_value()) << what << ": " << decoded.err().to_string();
    EXPECT_EQ(r.remaining(), 0u) << what;
    EXPECT_TRUE(*decoded == msg) << what;
    EXPECT_EQ(encode_flat(*decoded, ver), wire) << what;
}

template <class T>
void round_trip_all_versions(std::string_view name) {
    for (std::int16_t ver = T::version_min; ver <= T::version_max; ++ver) {
        for (int seed = 0; seed < seeds_per_version; ++seed) {
            T msg;
            random_source rng(static_cast<std::uint64_t>(seed * 1000 + ver));
            random_fill(msg, rng, ver);
            expect_round_trip(msg, ver, fmt::format("{} v{} seed {}", name, ver, seed));
        }
    }
}

// Round-trips only the flexible versions of T, with unknown tags on the top-level struct.
template <class T, class Api>
void round_trip_unknown_tags(std::string_view name) {
    if constexpr (requires(T t) { t.unknown_tags; }) {
        for (std::int16_t ver = Api::first_flexible; ver <= T::version_max; ++ver) {
            T msg;
            random_source rng(static_cast<std::uint64_t>(ver));
            random_fill(msg, rng, ver);
            msg.unknown_tags = {tagged_field{10000, {1, 2, 3}}, tagged_field{10001, {}}};
            expect_round_trip(msg, ver, fmt::format("{} v{} with unknown tags", name, ver));
        }
    }
}

TEST(round_trip, every_request_and_response_in_every_version) {
    int apis = 0;
    for_each_api([&](auto api) {
        using api_t = decltype(api);
        round_trip_all_versions<typename api_t::request_type>(
            fmt::format("{} request", api_t::name));
        round_trip_all_versions<typename api_t::response_type>(
            fmt::format("{} response", api_t::name));
        ++apis;
    });
    EXPECT_EQ(apis, static_cast<int>(all_apis().size()));
}

TEST(round_trip, unknown_tagged_fields_survive_in_flexible_versions) {
    for_each_api([&](auto api) {
        using api_t = decltype(api);
        if (api_t::first_flexible < 0) {
            return;
        }
        round_trip_unknown_tags<typename api_t::request_type, api_t>(
            fmt::format("{} request", api_t::name));
        round_trip_unknown_tags<typename api_t::response_type, api_t>(
            fmt::format("{} response", api_t::name));
    });
}

TEST(round_trip, unknown_tags_in_nested_structs_sort_between_known_tags) {
    // Fetch response v16: a known tagged field (tag 0, node_endpoints) plus unknown tags
    // below and above it in a nested struct and at the top.
    fetch_response msg;
    random_source rng(7);
    random_fill(msg, rng, 16);
    msg.node_endpoints.push_back({});
    msg.unknown_tags = {tagged_field{5, {9}}};
    msg.responses.emplace_back().partitions.emplace_back().unknown_tags = {
        tagged_field{3, {}}, tagged_field{77, {1, 2}}};
    expect_round_trip(msg, 16, "fetch response v16 with nested unknown tags");
}

TEST(round_trip, consumer_protocol_payloads_in_every_version) {
    round_trip_all_versions<consumer_protocol_subscription>("subscription");
    round_trip_all_versions<consumer_protocol_assignment>("assignment");
}

TEST(round_trip, fields_absent_from_a_version_are_not_written) {
    metadata_response with;
    with.throttle_time_ms = 500;  // v3+
    with.cluster_id = "c";        // v2+
    metadata_response without;
    EXPECT_EQ(encode_flat(with, 1), encode_flat(without, 1));
    EXPECT_NE(encode_flat(with, 3), encode_flat(without, 3));
}

TEST(round_trip, tagged_fields_at_their_default_are_omitted) {
    api_versions_response msg;  // finalized_features_epoch defaults to -1 (tag 1)
    bytes plain = encode_flat(msg, 3);
    msg.finalized_features_epoch = 5;
    bytes tagged = encode_flat(msg, 3);
    // Tag 1, size 8, int64 5: one more tagged field, 10 more bytes.
    EXPECT_EQ(tagged.size(), plain.size() + 10);
}

}  // namespace
}  // namespace gregor::protocol

// Goal: gregor reads and writes `__consumer_offsets` records byte for byte as Kafka 3.8 does,
// and no input, however malformed, crashes a decoder.
// Method: golden layouts written by hand from the record schemas (OffsetCommitKey/Value,
// GroupMetadataKey/Value) for every version, round trips, every truncation of every golden
// encoding, and targeted malformed inputs (lengths, nulls, versions, UTF-8, trailing bytes).
#include "group/records.h"
#include "group/tests/test_bytes.h"
#include "protocol/errc.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace gregor::group {
namespace {

using testing::hex;

offset_commit_key key_g_t_0() {
    return {"g", {"t", model::partition_id{0}}};
}

offset_commit_value sample_offset_value() {
    offset_commit_value v;
    v.offset = model::offset{5};
    v.leader_epoch = model::leader_epoch{7};
    v.metadata = "m";
    v.commit_timestamp = model::timestamp_ms{1000};
    return v;
}

group_metadata_value sample_group_value() {
    group_metadata_value v;
    v.protocol_type = "consumer";
    v.generation = 1;
    v.protocol = "range";
    v.leader = "m1";
    v.current_state_timestamp = model::timestamp_ms{1000};
    member_metadata_value m;
    m.member_id = "m1";
    m.client_id = "c";
    m.client_host = "/h";
    m.rebalance_timeout_ms = 300000;
    m.session_timeout_ms = 45000;
    m.subscription = {0x01, 0x02};
    m.assignment = {0x03};
    v.members.push_back(m);
    return v;
}

// The sample offset value as each version holds it.
const char* const offset_value_golden[] = {
    "00 00 | 00 00 00 00 00 00 00 05 | 00 01 6D | 00 00 00 00 00 00 03 E8",
    "00 01 | 00 00 00 00 00 00 00 05 | 00 01 6D | 00 00 00 00 00 00 03 E8 | 00 00 00 00 00 00 07 D0",
    "00 02 | 00 00 00 00 00 00 00 05 | 00 01 6D | 00 00 00 00 00 00 03 E8",
    "00 03 | 00 00 00 00 00 00 00 05 | 00 00 00 07 | 00 01 6D | 00 00 00 00 00 00 03 E8",
    "00 04 | 00 00 00 00 00 00 00 05 | 00 00 00 07 | 02 6D | 00 00 00 00 00 00 03 E8 | 00",
};

// The sample group value as each version holds it: header, then the one member.
const char* const group_value_golden[] = {
    "00 00 | 00 08 636F6E73756D6572 | 00000001 | 00 05 72616E6765 | 00 02 6D31 | 00000001 |"
    " 00 02 6D31 | 00 01 63 | 00 02 2F68 | 0000AFC8 | 00000002 0102 | 00000001 03",
    "00 01 | 00 08 636F6E73756D6572 | 00000001 | 00 05 72616E6765 | 00 02 6D31 | 00000001 |"
    " 00 02 6D31 | 00 01 63 | 00 02 2F68 | 000493E0 | 0000AFC8 | 00000002 0102 | 00000001 03",
    "00 02 | 00 08 636F6E73756D6572 | 00000001 | 00 05 72616E6765 | 00 02 6D31 |"
    " 00000000000003E8 | 00000001 |"
    " 00 02 6D31 | 00 01 63 | 00 02 2F68 | 000493E0 | 0000AFC8 | 00000002 0102 | 00000001 03",
    "00 03 | 00 08 636F6E73756D6572 | 00000001 | 00 05 72616E6765 | 00 02 6D31 |"
    " 00000000000003E8 | 00000001 |"
    " 00 02 6D31 | FFFF | 00 01 63 | 00 02 2F68 | 000493E0 | 0000AFC8 | 00000002 0102 |"
    " 00000001 03",
    "00 04 | 09 636F6E73756D6572 | 00000001 | 06 72616E6765 | 03 6D31 | 00000000000003E8 |"
    " 02 | 03 6D31 | 00 | 02 63 | 03 2F68 | 000493E0 | 0000AFC8 | 03 0102 | 02 03 | 00 | 00",
};

// What decoding version `v` of the sample gives back (fields the version lacks default).
offset_commit_value offset_value_as_version(std::int16_t v) {
    offset_commit_value out = sample_offset_value();
    if (v < 3) {
        out.leader_epoch = model::no_leader_epoch;
    }
    if (v == 1) {
        out.expire_timestamp = model::timestamp_ms{2000};
    }
    return out;
}

group_metadata_value group_value_as_version(std::int16_t v) {
    group_metadata_value out = sample_group_value();
    if (v < 2) {
        out.current_state_timestamp = model::timestamp_ms{-1};
    }
    if (v == 0) {
        out.members[0].rebalance_timeout_ms = out.members[0].session_timeout_ms;
    }
    return out;
}

TEST(records, offset_key_v1_matches_the_reference_example) {
    auto encoded = encode_offset_commit_key(key_g_t_0());
    ASSERT_TRUE(encoded.has_value());
    EXPECT_EQ(*encoded, hex("00 01 | 00 01 67 | 00 01 74 | 00 00 00 00"));
}

TEST(records, offset_key_v0_and_v1_decode_alike) {
    for (const char* golden : {"00 00 | 00 01 67 | 00 01 74 | 00 00 00 00",
                               "00 01 | 00 01 67 | 00 01 74 | 00 00 00 00"}) {
        auto key = decode_record_key(hex(golden));
        ASSERT_TRUE(key.has_value()) << golden;
        ASSERT_TRUE(std::holds_alternative<offset_commit_key>(*key));
        EXPECT_EQ(std::get<offset_commit_key>(*key), key_g_t_0());
    }
    auto v0 = encode_offset_commit_key(key_g_t_0(), 0);
    ASSERT_TRUE(v0.has_value());
    EXPECT_EQ(*v0, hex("00 00 | 00 01 67 | 00 01 74 | 00 00 00 00"));
}

TEST(records, group_key_is_version_2_with_the_group_id) {
    auto encoded = encode_group_metadata_key({"g"});
    ASSERT_TRUE(encoded.has_value());
    EXPECT_EQ(*encoded, hex("00 02 | 00 01 67"));
    auto key = decode_record_key(*encoded);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(std::get<group_metadata_key>(*key), group_metadata_key{"g"});
}

TEST(records, key_versions_3_to_8_are_kip848_records_to_skip) {
    for (std::int16_t v = 3; v <= 8; ++v) {
        bytes data = {0x00, static_cast<std::uint8_t>(v), 0xDE, 0xAD};
        auto key = decode_record_key(data);
        ASSERT_TRUE(key.has_value());
        ASSERT_TRUE(std::holds_alternative<unknown_record_key>(*key));
        EXPECT_EQ(std::get<unknown_record_key>(*key).version, v);
        EXPECT_TRUE(std::get<unknown_record_key>(*key).is_consumer_group_record());
    }
}

TEST(records, other_key_versions_are_unknown_but_not_kip848) {
    for (const char* golden : {"00 09", "FF FF 00", "7F FF"}) {
        auto key = decode_record_key(hex(golden));
        ASSERT_TRUE(key.has_value()) << golden;
        ASSERT_TRUE(std::holds_alternative<unknown_record_key>(*key));
        EXPECT_FALSE(std::get<unknown_record_key>(*key).is_consumer_group_record());
    }
}

TEST(records, offset_value_golden_layout_of_every_version) {
    for (std::int16_t v = 0; v <= record_value_version_max; ++v) {
        offset_commit_value value = sample_offset_value();
        value.expire_timestamp = model::timestamp_ms{2000};  // only v1 carries it
        auto encoded = encode_offset_commit_value(value, v);
        ASSERT_TRUE(encoded.has_value());
        EXPECT_EQ(*encoded, hex(offset_value_golden[v])) << "version " << v;
        auto decoded = decode_offset_commit_value(hex(offset_value_golden[v]));
        ASSERT_TRUE(decoded.has_value()) << "version " << v << decoded.err().to_string();
        EXPECT_EQ(*decoded, offset_value_as_version(v)) << "version " << v;
    }
}

TEST(records, offset_value_is_written_as_v3_or_v1_with_an_expire_timestamp) {
    offset_commit_value value = sample_offset_value();
    EXPECT_EQ(offset_commit_value_version_for(value), 3);
    auto v3 = encode_offset_commit_value(value);
    ASSERT_TRUE(v3.has_value());
    EXPECT_EQ(*v3, hex(offset_value_golden[3]));
    value.expire_timestamp = model::timestamp_ms{2000};
    EXPECT_EQ(offset_commit_value_version_for(value), 1);
    auto v1 = encode_offset_commit_value(value);
    ASSERT_TRUE(v1.has_value());
    EXPECT_EQ(*v1, hex(offset_value_golden[1]));
}

TEST(records, offset_value_v1_expire_minus_one_reads_as_none) {
    auto decoded = decode_offset_commit_value(
        hex("00 01 | 00 00 00 00 00 00 00 05 | 00 00 | 00 00 00 00 00 00 03 E8 |"
            " FF FF FF FF FF FF FF FF"));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_FALSE(decoded->expire_timestamp.has_value());
    EXPECT_EQ(decoded->metadata, "");
}

TEST(records, offset_value_v4_skips_tagged_fields) {
    auto decoded = decode_offset_commit_value(
        hex("00 04 | 00 00 00 00 00 00 00 05 | 00 00 00 07 | 02 6D | 00 00 00 00 00 00 03 E8 |"
            " 02 | 00 02 AA BB | 05 01 CC"));
    ASSERT_TRUE(decoded.has_value()) << decoded.err().to_string();
    EXPECT_EQ(*decoded, sample_offset_value());
}

TEST(records, group_value_golden_layout_of_every_version) {
    for (std::int16_t v = 0; v <= record_value_version_max; ++v) {
        auto encoded = encode_group_metadata_value(sample_group_value(), v);
        ASSERT_TRUE(encoded.has_value());
        EXPECT_EQ(*encoded, hex(group_value_golden[v])) << "version " << v;
        auto decoded = decode_group_metadata_value(hex(group_value_golden[v]));
        ASSERT_TRUE(decoded.has_value()) << "version " << v << decoded.err().to_string();
        EXPECT_EQ(*decoded, group_value_as_version(v)) << "version " << v;
    }
}

TEST(records, group_value_is_written_as_v3) {
    auto encoded = encode_group_metadata_value(sample_group_value());
    ASSERT_TRUE(encoded.has_value());
    EXPECT_EQ(*encoded, hex(group_value_golden[3]));
}

TEST(records, empty_group_value_has_null_protocol_and_leader) {
    group_metadata_value v;
    v.protocol_type = "consumer";
    v.generation = 4;
    v.current_state_timestamp = model::timestamp_ms{0};
    auto encoded = encode_group_metadata_value(v);
    ASSERT_TRUE(encoded.has_value());
    EXPECT_EQ(*encoded, hex("00 03 | 00 08 636F6E73756D6572 | 00000004 | FFFF | FFFF |"
                            " 0000000000000000 | 00000000"));
    auto decoded = decode_group_metadata_value(*encoded);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, v);
}

TEST(records, static_member_instance_id_round_trips_in_v3_and_v4) {
    group_metadata_value v = sample_group_value();
    v.members[0].group_instance_id = "instance-1";
    for (std::int16_t version : {std::int16_t{3}, std::int16_t{4}}) {
        auto encoded = encode_group_metadata_value(v, version);
        ASSERT_TRUE(encoded.has_value());
        auto decoded = decode_group_metadata_value(*encoded);
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(*decoded, v);
    }
}

TEST(records, every_truncation_of_a_valid_encoding_is_an_error) {
    std::vector<bytes> goldens = {hex("00 01 | 00 01 67 | 00 01 74 | 00 00 00 00"),
                                  hex("00 02 | 00 01 67")};
    for (const char* g : offset_value_golden) {
        goldens.push_back(hex(g));
    }
    for (const char* g : group_value_golden) {
        goldens.push_back(hex(g));
    }
    for (std::size_t i = 0; i < goldens.size(); ++i) {
        const bytes& full = goldens[i];
        for (std::size_t n = 0; n < full.size(); ++n) {
            const bytes_view cut(full.data(), n);
            const bool failed = i < 2 ? decode_record_key(cut).has_error()
                                : i < 7 ? decode_offset_commit_value(cut).has_error()
                                        : decode_group_metadata_value(cut).has_error();
            EXPECT_TRUE(failed) << "golden " << i << " cut to " << n << " bytes";
        }
    }
}

TEST(records, trailing_bytes_are_an_error) {
    bytes key = hex("00 01 | 00 01 67 | 00 01 74 | 00 00 00 00 | 00");
    EXPECT_EQ(decode_record_key(key).code(), protocol::errc::trailing_bytes);
    bytes value = hex(offset_value_golden[3]);
    value.push_back(0);
    EXPECT_EQ(decode_offset_commit_value(value).code(), protocol::errc::trailing_bytes);
    bytes group = hex(group_value_golden[3]);
    group.push_back(0);
    EXPECT_EQ(decode_group_metadata_value(group).code(), protocol::errc::trailing_bytes);
}

TEST(records, value_versions_outside_0_to_4_are_unsupported) {
    for (const char* version : {"00 05", "FF FF", "7F FF"}) {
        bytes value = hex(std::string(version) + "00 00 00 00 00 00 00 05 00 00 00 00 00 00 00 00 00 00");
        EXPECT_EQ(decode_offset_commit_value(value).code(), protocol::errc::unsupported_version);
        EXPECT_EQ(decode_group_metadata_value(value).code(), protocol::errc::unsupported_version);
    }
}

TEST(records, null_where_a_string_is_required_is_an_error) {
    // metadata is a non-nullable STRING.
    bytes value = hex("00 03 | 00 00 00 00 00 00 00 05 | FF FF FF FF | FF FF | 00 00 00 00 00 00 03 E8");
    EXPECT_EQ(decode_offset_commit_value(value).code(), protocol::errc::unexpected_null);
    // group in a key.
    EXPECT_EQ(decode_record_key(hex("00 02 | FF FF")).code(), protocol::errc::unexpected_null);
}

TEST(records, lengths_beyond_the_input_fail_without_allocating) {
    // A member count of 2^31 - 1 with nothing behind it.
    bytes group = hex("00 03 | 00 00 | 00000001 | FFFF | FFFF | 0000000000000000 | 7FFFFFFF");
    EXPECT_TRUE(decode_group_metadata_value(group).has_error());
    // A subscription of 2 GiB claimed inside a member.
    bytes member = hex("00 01 | 00 00 | 00000001 | FFFF | FFFF | 00000001 | 00 00 | 00 00 | 00 00 |"
                       " 00000000 | 00000000 | 7FFFFFFF");
    EXPECT_EQ(decode_group_metadata_value(member).code(), protocol::errc::truncated);
    // A compact string length of 2^32 - 2 in a v4 offset value.
    bytes compact = hex("00 04 | 00 00 00 00 00 00 00 05 | 00 00 00 07 | FF FF FF FF 0F");
    EXPECT_TRUE(decode_offset_commit_value(compact).has_error());
    // Negative lengths other than -1.
    EXPECT_EQ(decode_record_key(hex("00 01 | FF FE")).code(), protocol::errc::bad_length);
}

TEST(records, ill_formed_utf8_in_a_string_is_an_error) {
    bytes key = hex("00 01 | 00 01 FF | 00 01 74 | 00 00 00 00");
    EXPECT_EQ(decode_record_key(key).code(), protocol::errc::invalid_utf8);
}

TEST(records, a_group_id_too_long_for_a_classic_string_cannot_be_encoded) {
    offset_commit_key key = key_g_t_0();
    key.group.assign(40000, 'g');
    EXPECT_EQ(encode_offset_commit_key(key).code(), protocol::errc::value_too_large);
    EXPECT_EQ(encode_group_metadata_key({key.group}).code(), protocol::errc::value_too_large);
}

TEST(records, values_round_trip_through_every_version) {
    group_metadata_value group = sample_group_value();
    group.members.push_back(group.members[0]);
    group.members[1].member_id = "m2";
    group.members[1].assignment.clear();
    for (std::int16_t v = 0; v <= record_value_version_max; ++v) {
        auto g = encode_group_metadata_value(group, v);
        ASSERT_TRUE(g.has_value());
        auto back = decode_group_metadata_value(*g);
        ASSERT_TRUE(back.has_value());
        auto again = encode_group_metadata_value(*back, v);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(*again, *g) << "version " << v;
        auto o = encode_offset_commit_value(offset_value_as_version(v), v);
        ASSERT_TRUE(o.has_value());
        auto offset = decode_offset_commit_value(*o);
        ASSERT_TRUE(offset.has_value());
        EXPECT_EQ(*offset, offset_value_as_version(v)) << "version " << v;
    }
}

TEST(records, record_version_needs_two_bytes) {
    EXPECT_EQ(decode_record_version(hex("00")).code(), protocol::errc::truncated);
    auto v = decode_record_version(hex("00 03 FF"));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 3);
}

}  // namespace
}  // namespace gregor::group

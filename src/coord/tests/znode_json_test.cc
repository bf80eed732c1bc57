// Goal: gregor writes Kafka's znode JSON byte for byte and reads Kafka's (all accepted
// versions) back, while malformed content is refused with a clear error, never a crash.
// Method: golden strings taken from Kafka's documented examples, round trips, and a table
// of malformed inputs per codec.
#include "coord/znode_json.h"

#include "coord/errc.h"
#include "coord/znode_paths.h"

#include <gtest/gtest.h>

namespace gregor::coord {
namespace {

using model::node_id;

TEST(znode_json, broker_registration_matches_kafka_v5) {
    broker_info b;
    b.timestamp = model::timestamp_ms{1700000000000};
    b.endpoints.push_back({"PLAINTEXT", "h1", 9092, "PLAINTEXT"});
    EXPECT_EQ(encode_broker(b),
              R"({"version":5,"host":"h1","port":9092,"jmx_port":-1,"timestamp":"1700000000000",)"
              R"("endpoints":["PLAINTEXT://h1:9092"],)"
              R"("listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"features":{}})");
    EXPECT_EQ(decode_broker(encode_broker(b)).value(), b);
}

TEST(znode_json, broker_registration_round_trips_rack_features_and_ipv6) {
    broker_info b;
    b.timestamp = model::timestamp_ms{5};
    b.endpoints.push_back({"INTERNAL", "::1", 9093, "SSL"});
    b.endpoints.push_back({"PLAINTEXT", "broker-2", 9092, "PLAINTEXT"});
    b.rack = "rack-a";
    b.features["metadata.version"] = feature_range{1, 7};
    auto text = encode_broker(b);
    EXPECT_NE(text.find(R"("INTERNAL://[::1]:9093")"), std::string::npos);
    EXPECT_NE(text.find(R"("host":"broker-2","port":9092)"), std::string::npos);
    EXPECT_EQ(decode_broker(text).value(), b);
}

TEST(znode_json, broker_registration_without_plaintext_has_null_host) {
    broker_info b;
    b.endpoints.push_back({"SECURE", "h", 1, "SSL"});
    EXPECT_NE(encode_broker(b).find(R"("host":null,"port":-1)"), std::string::npos);
}

TEST(znode_json, broker_registration_v4_without_features_is_read) {
    auto b = decode_broker(
        R"({"version":4,"host":"h","port":1,"jmx_port":9999,"timestamp":"7",)"
        R"("endpoints":["CLIENT://h:1"],"listener_security_protocol_map":{"CLIENT":"SASL_SSL"}})");
    ASSERT_TRUE(b.has_value()) << b.err().to_string();
    EXPECT_EQ(b->jmx_port, 9999);
    EXPECT_EQ(b->endpoints.at(0).security_protocol, "SASL_SSL");
}

TEST(znode_json, controller_is_written_as_v1_and_v2_is_read) {
    controller_data c{node_id{2}, model::timestamp_ms{1700000000001}, std::nullopt};
    EXPECT_EQ(encode_controller(c), R"({"version":1,"brokerid":2,"timestamp":"1700000000001"})");
    auto v2 = decode_controller(
        R"({"version":2,"brokerid":3,"timestamp":"9","kraftControllerEpoch":-1})");
    ASSERT_TRUE(v2.has_value());
    EXPECT_EQ(v2->broker, node_id{3});
    EXPECT_EQ(v2->kraft_controller_epoch, -1);
}

TEST(znode_json, controller_epoch_is_bare_decimal) {
    EXPECT_EQ(encode_controller_epoch(model::controller_epoch{7}), "7");
    EXPECT_EQ(decode_controller_epoch("7").value(), model::controller_epoch{7});
    for (std::string_view bad : {"", "7 ", "-1", "x", "99999999999", "{\"v\":1}"}) {
        EXPECT_EQ(decode_controller_epoch(bad).code(), errc::malformed_data) << bad;
    }
}

TEST(znode_json, cluster_id_has_string_version_and_22_char_id) {
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<std::uint8_t>(i * 17 + 3);
    }
    auto id = make_cluster_id(bytes);
    EXPECT_EQ(id.size(), 22U);
    EXPECT_TRUE(is_valid_uuid_string(id));
    std::array<std::uint8_t, 16> ones{};
    ones.fill(0xff);
    EXPECT_EQ(make_cluster_id(ones), "_____________________w");
    EXPECT_EQ(encode_cluster_id("abc"), R"({"version":"1","id":"abc"})");
    EXPECT_EQ(decode_cluster_id(encode_cluster_id(id)).value(), id);
}

TEST(znode_json, uuid_strings_parse_back_to_their_bytes) {
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<std::uint8_t>(i * 29 + 7);
    }
    EXPECT_EQ(parse_uuid_string(make_cluster_id(bytes)), bytes);
    EXPECT_FALSE(parse_uuid_string("short"));
    EXPECT_FALSE(parse_uuid_string("AAAAAAAAAAAAAAAAAAAA+Q"));  // not base64url
    EXPECT_FALSE(parse_uuid_string("AAAAAAAAAAAAAAAAAAAAAB"));  // stray low bits
}

TEST(znode_json, topic_assignment_versions) {
    topic_assignment t;
    t.partitions[model::partition_id{0}] = {node_id{1}, node_id{2}, node_id{3}};
    t.partitions[model::partition_id{1}] = {node_id{2}, node_id{3}, node_id{1}};
    EXPECT_EQ(encode_topic(t), R"({"version":2,"partitions":{"0":[1,2,3],"1":[2,3,1]},)"
                               R"("adding_replicas":{},"removing_replicas":{}})");
    t.topic_id = "AAAAAAAAAAAAAAAAAAAAAQ";
    t.adding_replicas[model::partition_id{0}] = {node_id{4}};
    auto v3 = encode_topic(t);
    EXPECT_NE(v3.find(R"("version":3)"), std::string::npos);
    EXPECT_EQ(decode_topic(v3).value(), t);
    auto v1 = decode_topic(R"({"version":1,"partitions":{"0":[1,2,3],"1":[2,3,1]}})");
    ASSERT_TRUE(v1.has_value());
    EXPECT_EQ(v1->partitions.size(), 2U);
    EXPECT_FALSE(v1->topic_id);
}

// A topic's assignment is one znode; the controller writes it while its ZooKeeper session
// waits, so encoding must stay linear (50,000 partitions once took more than 4 s).
TEST(znode_json, a_large_topic_assignment_round_trips) {
    topic_assignment t;
    t.topic_id = "AAAAAAAAAAAAAAAAAAAAAQ";
    for (std::int32_t p = 0; p < 50'000; ++p) {
        t.partitions[model::partition_id{p}] = {node_id{p % 3 + 1}, node_id{(p + 1) % 3 + 1}};
    }
    t.removing_replicas[model::partition_id{7}] = {node_id{2}};
    const auto text = encode_topic(t);
    EXPECT_TRUE(text.starts_with(R"({"version":3,"partitions":{"0":[1,2],"1":[2,3],)"));
    EXPECT_NE(text.find(R"("49999":[2,3]})"), std::string::npos);
    EXPECT_EQ(decode_topic(text).value(), t);
}

TEST(znode_json, partition_state_writes_recovery_only_when_recovering) {
    partition_state s{node_id{2},
                      model::leader_epoch{5},
                      model::controller_epoch{7},
                      false,
                      {node_id{2}, node_id{3}}};
    EXPECT_EQ(encode_partition_state(s),
              R"({"version":1,"leader":2,"leader_epoch":5,"controller_epoch":7,"isr":[2,3]})");
    s.recovering = true;
    EXPECT_NE(encode_partition_state(s).find(R"("leader_recovery_state":1)"), std::string::npos);
    EXPECT_EQ(decode_partition_state(encode_partition_state(s)).value(), s);
}

TEST(znode_json, admin_and_notification_znodes) {
    EXPECT_EQ(encode_entity_config({{"retention.ms", "86400000"}}),
              R"({"version":1,"config":{"retention.ms":"86400000"}})");
    EXPECT_EQ(encode_config_change("topics/T"), R"({"version":2,"entity_path":"topics/T"})");
    EXPECT_EQ(
        decode_config_change(R"({"version":1,"entity_type":"topics","entity_name":"T"})").value(),
        "topics/T");
    std::vector<partition_reassignment> r{
        {{"T", model::partition_id{0}}, {node_id{1}, node_id{2}, node_id{3}}}};
    EXPECT_EQ(encode_reassignment(r),
              R"({"version":1,"partitions":[{"topic":"T","partition":0,"replicas":[1,2,3]}]})");
    EXPECT_EQ(decode_reassignment(encode_reassignment(r)).value(), r);
    std::vector<model::topic_partition> tps{{"T", model::partition_id{0}}};
    EXPECT_EQ(encode_partition_list(tps),
              R"({"version":1,"partitions":[{"topic":"T","partition":0}]})");
    EXPECT_EQ(encode_log_dir_event(node_id{4}), R"({"version":1,"broker":4,"event":1})");
    EXPECT_EQ(decode_log_dir_event(encode_log_dir_event(node_id{4})).value(), node_id{4});
    producer_id_block b{node_id{1}, model::producer_id{0}, model::producer_id{999}};
    EXPECT_EQ(encode_producer_id_block(b),
              R"({"version":1,"broker":1,"block_start":"0","block_end":"999"})");
    EXPECT_EQ(decode_producer_id_block(encode_producer_id_block(b)).value(), b);
}

// An unclean election's receipts: both kinds round-trip, and offsets out of order (which no
// replica writes) are refused rather than journalled.
TEST(znode_json, unclean_receipts) {
    unclean_receipt takeover{node_id{2},
                             {"e", model::partition_id{0}},
                             model::leader_epoch{3},
                             true,
                             model::offset{10},
                             model::offset{8},
                             model::no_offset};
    EXPECT_EQ(encode_unclean_receipt(takeover),
              R"({"version":1,"broker":2,"topic":"e","partition":0,"leader_epoch":3,)"
              R"("kind":"takeover","log_end_offset":10,"high_watermark":8})");
    EXPECT_EQ(decode_unclean_receipt(encode_unclean_receipt(takeover)).value(), takeover);
    unclean_receipt cut{node_id{1},
                        {"e", model::partition_id{0}},
                        model::leader_epoch{3},
                        false,
                        model::offset{16},
                        model::offset{15},
                        model::offset{10}};
    EXPECT_EQ(decode_unclean_receipt(encode_unclean_receipt(cut)).value(), cut);
    for (std::string_view bad : {
             R"({"version":1,"broker":1,"topic":"e","partition":0,"leader_epoch":3,)"
             R"("kind":"truncation","log_end_offset":16,"high_watermark":15,"truncated_to":15})",
             R"({"version":1,"broker":1,"topic":"e","partition":0,"leader_epoch":3,)"
             R"("kind":"truncation","log_end_offset":16,"high_watermark":15})",
             R"({"version":1,"broker":1,"topic":"e","partition":0,"leader_epoch":3,)"
             R"("kind":"takeover","log_end_offset":10,"high_watermark":11})",
             R"({"version":1,"broker":1,"topic":"e","partition":0,"leader_epoch":3,)"
             R"("kind":"lost","log_end_offset":10,"high_watermark":8})",
             R"({"version":2,"broker":1,"topic":"e","partition":0,"leader_epoch":3,)"
             R"("kind":"takeover","log_end_offset":10,"high_watermark":8})",
             R"({"version":1,"broker":-1,"topic":"e","partition":0,"leader_epoch":3,)"
             R"("kind":"takeover","log_end_offset":10,"high_watermark":8})",
         }) {
        EXPECT_TRUE(decode_unclean_receipt(bad).has_error()) << bad;
    }
    EXPECT_EQ(paths::unclean_receipt_sequential(), "/gregor/unclean_receipts/receipt_");
}

TEST(znode_json, feature_versions) {
    auto v1 = decode_feature(
        R"({"version":1,"status":1,"features":)"
        R"({"f":{"min_version_level":1,"max_version_level":2}}})");
    ASSERT_TRUE(v1.has_value());
    EXPECT_EQ(v1->features.at("f").min_version_level, 1);
    feature_znode v2;
    v2.features["f"] = finalized_feature{3, std::nullopt};
    EXPECT_EQ(encode_feature(v2),
              R"({"version":2,"status":1,"features":{"f":{"max_version_level":3}}})");
}

TEST(znode_json, malformed_content_is_refused_with_the_field_named) {
    struct bad_case {
        std::string_view text;
        std::string_view field;
    };
    auto check = [](const auto& r, std::string_view field) {
        ASSERT_TRUE(r.has_error());
        EXPECT_EQ(r.code(), errc::malformed_data);
        EXPECT_NE(r.err().detail.find(field), std::string::npos) << r.err().detail;
    };
    check(decode_broker("not json"), "not a JSON object");
    check(decode_broker("[1]"), "not a JSON object");
    check(decode_broker(R"({"version":9,"endpoints":[]})"), "version");
    check(decode_broker(R"({"version":5,"endpoints":["PLAINTEXT:/h:1"]})"), "PLAINTEXT:/h:1");
    check(decode_broker(R"({"version":5,"endpoints":["P://h:70000"]})"), "P://h:70000");
    check(decode_broker(
              R"({"version":5,"endpoints":["P://h:1"],"listener_security_protocol_map":{}})"),
          "listener_security_protocol_map");
    check(decode_controller(R"({"version":1,"brokerid":"1"})"), "brokerid");
    check(decode_controller(R"({"version":1,"brokerid":4294967296})"), "brokerid");
    check(decode_topic(R"({"version":2,"partitions":{"x":[1]}})"), "partitions");
    check(decode_topic(R"({"version":2,"partitions":{"0":[1.5]}})"), "partitions");
    check(decode_topic(R"({"version":3,"partitions":{},"topic_id":"short"})"), "topic_id");
    check(
        decode_partition_state(R"({"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1})"),
        "isr");
    check(
        decode_partition_state(
            R"({"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[1],)"
            R"("leader_recovery_state":5})"),
        "leader_recovery_state");
    check(decode_cluster_id(R"({"version":"2","id":"x"})"), "version");
    check(decode_entity_config(R"({"version":1,"config":{"a":1}})"), "a");
    check(decode_producer_id_block(R"({"version":1,"broker":1,"block_start":"9","block_end":"1"})"),
          "block_end");
    std::string huge(2 * 1024 * 1024, ' ');
    EXPECT_EQ(decode_topic(huge).code(), errc::malformed_data);
}

TEST(znode_paths, layout_and_untrusted_names) {
    EXPECT_EQ(paths::broker(node_id{3}), "/brokers/ids/3");
    EXPECT_EQ(paths::partition_state("t", model::partition_id{2}),
              "/brokers/topics/t/partitions/2/state");
    EXPECT_EQ(paths::config_change_sequential(), "/config/changes/config_change_");
    EXPECT_EQ(paths::parse_broker_id("12").value(), node_id{12});
    for (std::string_view bad : {"", "-1", "01", "1a", "99999999999"}) {
        EXPECT_TRUE(paths::parse_broker_id(bad).has_error()) << bad;
    }
    EXPECT_EQ(paths::parse_sequence("config_change_0000000012", "config_change_").value(), 12);
    EXPECT_TRUE(paths::parse_sequence("config_change_12", "config_change_").has_error());
    // Every ensured path's parent comes earlier in the list.
    auto all = paths::top_level_paths();
    for (std::size_t i = 0; i < all.size(); ++i) {
        auto parent = all[i].substr(0, all[i].rfind('/'));
        if (parent.empty()) {
            continue;
        }
        EXPECT_NE(std::find(all.begin(), all.begin() + static_cast<long>(i), parent),
                  all.begin() + static_cast<long>(i))
            << all[i];
    }
}

}  // namespace
}  // namespace gregor::coord

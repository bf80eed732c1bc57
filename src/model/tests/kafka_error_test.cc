// Goal: the Kafka error table is complete, dense and agrees with the codes clients act
// on (retriable or not). Method: walk the table, spot-check codes clients depend on.
#include "model/kafka_error.h"

#include <gtest/gtest.h>

namespace gregor::model {
namespace {

TEST(kafka_error, table_is_dense_from_minus_one_to_last_code) {
    auto table = kafka_error_table();
    ASSERT_FALSE(table.empty());
    std::int16_t expected = -1;
    for (const auto& info : table) {
        EXPECT_EQ(to_wire(info.code), expected) << info.name;
        EXPECT_FALSE(info.name.empty());
        EXPECT_FALSE(info.message.empty());
        ++expected;
    }
    EXPECT_EQ(expected, 121);
}

TEST(kafka_error, lookup_names_match_kafka) {
    EXPECT_EQ(kafka_error_name(kafka_error::not_leader_or_follower), "NOT_LEADER_OR_FOLLOWER");
    EXPECT_EQ(kafka_error_name(kafka_error::stale_controller_epoch), "STALE_CONTROLLER_EPOCH");
    EXPECT_EQ(kafka_error_name(kafka_error::stale_broker_epoch), "STALE_BROKER_EPOCH");
    EXPECT_EQ(to_wire(kafka_error::not_controller), 41);
    EXPECT_EQ(to_wire(kafka_error::fenced_leader_epoch), 74);
}

TEST(kafka_error, retriable_flags_match_what_clients_retry) {
    EXPECT_TRUE(kafka_error_retriable(kafka_error::not_leader_or_follower));
    EXPECT_TRUE(kafka_error_retriable(kafka_error::leader_not_available));
    EXPECT_TRUE(kafka_error_retriable(kafka_error::not_enough_replicas));
    EXPECT_TRUE(kafka_error_retriable(kafka_error::request_timed_out));
    EXPECT_TRUE(kafka_error_retriable(kafka_error::kafka_storage_error));
    EXPECT_FALSE(kafka_error_retriable(kafka_error::message_too_large));
    EXPECT_FALSE(kafka_error_retriable(kafka_error::stale_controller_epoch));
    EXPECT_FALSE(kafka_error_retriable(kafka_error::none));
}

TEST(kafka_error, unknown_codes_are_not_found) {
    EXPECT_FALSE(kafka_error_lookup(-2).has_value());
    EXPECT_FALSE(kafka_error_lookup(121).has_value());
    EXPECT_FALSE(kafka_error_lookup(32767).has_value());
    EXPECT_EQ(kafka_error_name(static_cast<kafka_error>(500)), "UNKNOWN_ERROR_CODE");
}

}  // namespace
}  // namespace gregor::model

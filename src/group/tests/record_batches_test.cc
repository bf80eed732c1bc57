// Goal: the batches the coordinator appends look like Kafka's (one v2 CREATE_TIME batch per
// write, `now` on every record, keys and values in the versions Kafka writes, tombstones as
// null values, transactional commits with the producer's id and epoch), and failed appends
// map to the errors Kafka answers.
// Method: build batches and read them back with the records library; the append error
// table row by row.
#include "group/append_errors.h"
#include "group/record_batches.h"
#include "group/tests/batch_contents.h"
#include "group/tests/test_bytes.h"

#include <gtest/gtest.h>

namespace gregor::group {
namespace {

using model::kafka_error;
using testing::hex;
using testing::read_batch;

constexpr model::timestamp_ms now{1'700'000'000'000};

TEST(record_batches, offset_commits_of_one_request_share_one_plain_batch) {
    offset_commit_value v;
    v.offset = model::offset{42};
    v.commit_timestamp = now;
    const offset_record records[] = {{{"t", model::partition_id{0}}, v},
                                     {{"t", model::partition_id{1}}, v}};
    auto batch = build_offset_commit_batch("g", records, now, {});
    ASSERT_TRUE(batch.has_value());
    auto contents = read_batch(*batch);
    EXPECT_EQ(contents.header.magic, 2);
    EXPECT_FALSE(contents.header.is_transactional());
    EXPECT_FALSE(contents.header.is_control());
    EXPECT_EQ(contents.header.ts_type(), model::timestamp_type::create_time);
    EXPECT_EQ(contents.header.producer, model::producer_id{-1});
    EXPECT_EQ(contents.header.max_timestamp, now);
    ASSERT_EQ(contents.records.size(), 2u);
    EXPECT_EQ(contents.records[1].key, hex("00 01 | 00 01 67 | 00 01 74 | 00 00 00 01"));
    EXPECT_EQ(contents.records[1].value, *encode_offset_commit_value(v));
    EXPECT_EQ(contents.records[0].timestamp, now);
}

TEST(record_batches, transactional_commits_carry_the_producer) {
    offset_commit_value v;
    const offset_record records[] = {{{"t", model::partition_id{0}}, v}};
    auto batch = build_offset_commit_batch("g", records, now, {},
                                           txn_producer{model::producer_id{9}, 3});
    ASSERT_TRUE(batch.has_value());
    auto contents = read_batch(*batch);
    EXPECT_TRUE(contents.header.is_transactional());
    EXPECT_EQ(contents.header.producer, model::producer_id{9});
    EXPECT_EQ(contents.header.producer_epoch, 3);
    EXPECT_EQ(contents.header.base_sequence, 0);
}

TEST(record_batches, group_metadata_is_one_record_with_key_v2_and_value_v3) {
    group_metadata_value value;
    value.protocol_type = "consumer";
    value.generation = 3;
    auto batch = build_group_metadata_batch("g", value, now, {});
    ASSERT_TRUE(batch.has_value());
    auto contents = read_batch(*batch);
    ASSERT_EQ(contents.records.size(), 1u);
    EXPECT_EQ(contents.records[0].key, hex("00 02 | 00 01 67"));
    EXPECT_EQ(contents.records[0].value, *encode_group_metadata_value(value));
}

TEST(record_batches, tombstones_are_null_values_with_the_group_key_last) {
    const offset_commit_key keys[] = {{"g", {"t", model::partition_id{0}}}};
    auto batch = build_tombstone_batch(keys, group_metadata_key{"g"}, now, {});
    ASSERT_TRUE(batch.has_value());
    auto contents = read_batch(*batch);
    ASSERT_EQ(contents.records.size(), 2u);
    EXPECT_EQ(contents.records[0].key, hex("00 01 | 00 01 67 | 00 01 74 | 00 00 00 00"));
    EXPECT_FALSE(contents.records[0].value.has_value());
    EXPECT_EQ(contents.records[1].key, hex("00 02 | 00 01 67"));
    EXPECT_FALSE(contents.records[1].value.has_value());
}

TEST(record_batches, compression_follows_the_settings) {
    const offset_commit_key keys[] = {{"g", {"t", model::partition_id{0}}}};
    auto batch = build_tombstone_batch(keys, std::nullopt, now,
                                       batch_settings{model::compression_type::gzip});
    ASSERT_TRUE(batch.has_value());
    auto contents = read_batch(*batch);
    EXPECT_EQ(contents.header.compression(), model::compression_type::gzip);
    ASSERT_EQ(contents.records.size(), 1u);
}

TEST(append_errors, offset_commit_mapping_follows_kafka) {
    EXPECT_EQ(offset_commit_append_error(kafka_error::unknown_topic_or_partition),
              kafka_error::coordinator_not_available);
    EXPECT_EQ(offset_commit_append_error(kafka_error::not_enough_replicas),
              kafka_error::coordinator_not_available);
    EXPECT_EQ(offset_commit_append_error(kafka_error::not_enough_replicas_after_append),
              kafka_error::coordinator_not_available);
    EXPECT_EQ(offset_commit_append_error(kafka_error::not_leader_or_follower),
              kafka_error::not_coordinator);
    EXPECT_EQ(offset_commit_append_error(kafka_error::kafka_storage_error),
              kafka_error::not_coordinator);
    EXPECT_EQ(offset_commit_append_error(kafka_error::request_timed_out),
              kafka_error::request_timed_out);
    EXPECT_EQ(offset_commit_append_error(kafka_error::message_too_large),
              kafka_error::invalid_commit_offset_size);
    EXPECT_EQ(offset_commit_append_error(kafka_error::record_list_too_large),
              kafka_error::invalid_commit_offset_size);
    EXPECT_EQ(offset_commit_append_error(kafka_error::invalid_fetch_size),
              kafka_error::invalid_commit_offset_size);
    EXPECT_EQ(offset_commit_append_error(kafka_error::network_exception),
              kafka_error::coordinator_load_in_progress);
    EXPECT_EQ(offset_commit_append_error(kafka_error::corrupt_message),
              kafka_error::corrupt_message);
}

TEST(append_errors, group_metadata_mapping_follows_kafka) {
    EXPECT_EQ(group_metadata_append_error(kafka_error::not_enough_replicas),
              kafka_error::coordinator_not_available);
    EXPECT_EQ(group_metadata_append_error(kafka_error::not_leader_or_follower),
              kafka_error::not_coordinator);
    EXPECT_EQ(group_metadata_append_error(kafka_error::request_timed_out),
              kafka_error::rebalance_in_progress);
    EXPECT_EQ(group_metadata_append_error(kafka_error::message_too_large),
              kafka_error::unknown_server_error);
    EXPECT_EQ(group_metadata_append_error(kafka_error::network_exception),
              kafka_error::network_exception);
}

}  // namespace
}  // namespace gregor::group

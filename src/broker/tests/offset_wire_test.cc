// Goal: the offset APIs' per-version rules hold in the translation between the wire
// messages and group/offsets.h: OffsetCommit's identity and fields by version and its
// unknown-topic filter, OffsetFetch's group-error placement (v0-v1 per partition, v2-v7 on
// top, v8+ per group) and v0's ZooKeeper-era answers, OffsetDelete's filter and errors.
// Method: pure functions on hand-built messages and a metadata cache filled by hand;
// answers are encoded for their version and decoded back. No service.
#include "broker/handlers/offset_wire.h"

#include "broker/tests/wire_round_trip.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

using model::kafka_error;
using model::offset;
using model::partition_id;
using model::topic_partition;

using test::round_trip;

// Kafka's wire code of an error.
std::int16_t err(kafka_error e) {
    return model::to_wire(e);
}

// Topic "t" with partitions 0 and 1, topic "u" with partition 0.
metadata_cache two_topics() {
    metadata_cache c;
    cached_partition led;
    led.leader = model::node_id(1);
    c.update_partition("t", partition_id(0), led);
    c.update_partition("t", partition_id(1), led);
    c.update_partition("u", partition_id(0), led);
    return c;
}

using commit_req = protocol::offset_commit_request;
using commit_partition = commit_req::offset_commit_request_topic::offset_commit_request_partition;

commit_req commit_body() {
    commit_req req;
    req.group_id = "g";
    req.generation_id_or_member_epoch = 5;
    req.member_id = "m-1";
    req.group_instance_id = "i-1";
    req.retention_time_ms = 60000;
    commit_partition p0{partition_id(0),           offset(10), model::leader_epoch(3),
                        model::timestamp_ms(1234), "meta",     {}};
    commit_partition p9{partition_id(9),           offset(11),   model::leader_epoch(3),
                        model::timestamp_ms(1234), std::nullopt, {}};
    commit_partition p1 = p0;
    p1.partition_index = partition_id(1);
    req.topics.push_back({"t", {p0, p9, p1}, {}});
    req.topics.push_back({"gone", {p0}, {}});
    return req;
}

TEST(offset_commit_wire, v0_commits_as_generation_minus_one_without_member) {
    auto call = to_commit_call(commit_body(), 0, two_topics());
    EXPECT_EQ(call.who.group_id, "g");
    EXPECT_EQ(call.who.generation_id, -1);
    EXPECT_EQ(call.who.member_id, "");
    EXPECT_FALSE(call.who.transactional);
    EXPECT_FALSE(call.request.retention_ms);
    ASSERT_EQ(call.request.partitions.size(), 2u);
    EXPECT_FALSE(call.request.partitions[0].commit_timestamp);
}

TEST(offset_commit_wire, fields_follow_their_versions) {
    metadata_cache cache = two_topics();
    auto v1 = to_commit_call(commit_body(), 1, cache);
    EXPECT_EQ(v1.who.generation_id, 5);
    EXPECT_EQ(v1.who.member_id, "m-1");
    EXPECT_EQ(v1.request.partitions[0].commit_timestamp, model::timestamp_ms(1234));
    EXPECT_FALSE(v1.request.retention_ms);
    auto v2 = to_commit_call(commit_body(), 2, cache);
    EXPECT_EQ(v2.request.retention_ms, 60000);
    EXPECT_FALSE(v2.request.partitions[0].commit_timestamp);
    auto v5 = to_commit_call(commit_body(), 5, cache);
    EXPECT_FALSE(v5.request.retention_ms);
    auto v7 = to_commit_call(commit_body(), 7, cache);
    EXPECT_EQ(v7.who.group_instance_id, "i-1");
    EXPECT_EQ(v7.request.partitions[0].leader_epoch, model::leader_epoch(3));
    EXPECT_EQ(v7.request.partitions[0].metadata, "meta");
    EXPECT_EQ(v7.request.partitions[0].offset, offset(10));
}

TEST(offset_commit_wire, unknown_partitions_are_answered_and_never_sent) {
    auto call = to_commit_call(commit_body(), 8, two_topics());
    ASSERT_EQ(call.request.partitions.size(), 2u);
    EXPECT_EQ(call.request.partitions[0].tp, (topic_partition{"t", partition_id(0)}));
    EXPECT_EQ(call.request.partitions[1].tp, (topic_partition{"t", partition_id(1)}));
    std::vector<group::partition_error> errors{
        {{"t", partition_id(0)}, kafka_error::none},
        {{"t", partition_id(1)}, kafka_error::illegal_generation}};
    auto out = round_trip(commit_answer(std::move(call), errors), 8);
    ASSERT_EQ(out.topics.size(), 2u);
    ASSERT_EQ(out.topics[0].partitions.size(), 3u);
    EXPECT_EQ(out.topics[0].partitions[0].error_code, 0);
    EXPECT_EQ(out.topics[0].partitions[1].partition_index, partition_id(9));
    EXPECT_EQ(out.topics[0].partitions[1].error_code, err(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(out.topics[0].partitions[2].error_code, err(kafka_error::illegal_generation));
    EXPECT_EQ(out.topics[1].name, "gone");
    EXPECT_EQ(out.topics[1].partitions[0].error_code, err(kafka_error::unknown_topic_or_partition));
}

TEST(offset_commit_wire, failure_repeats_the_group_error_on_every_sent_partition) {
    auto call = to_commit_call(commit_body(), 3, two_topics());
    auto errors = commit_failure(call.request, kafka_error::coordinator_not_available);
    auto out = commit_answer(std::move(call), errors);
    EXPECT_EQ(out.topics[0].partitions[0].error_code, err(kafka_error::coordinator_not_available));
    EXPECT_EQ(out.topics[0].partitions[1].error_code, err(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(out.topics[0].partitions[2].error_code, err(kafka_error::coordinator_not_available));
}

protocol::offset_fetch_request fetch_body(std::int16_t version) {
    protocol::offset_fetch_request req;
    if (version < 8) {
        req.group_id = "g";
        req.topics.emplace();
        req.topics->push_back({"t", {partition_id(0), partition_id(1)}, {}});
        req.topics->push_back({"gone", {partition_id(0)}, {}});
    } else {
        req.groups.push_back({"g", std::nullopt, -1, std::nullopt, {}});
        auto& h = req.groups.emplace_back();
        h.group_id = "h";
        h.topics.emplace();
        h.topics->push_back({"t", {partition_id(1)}, {}});
    }
    return req;
}

group::offset_fetch_result fetched(std::vector<group::fetched_offset> offsets) {
    return {kafka_error::none, std::move(offsets)};
}

TEST(offset_fetch_wire, queries_by_version) {
    auto v1 = to_fetch_queries(fetch_body(1), 1);
    ASSERT_EQ(v1.size(), 1u);
    EXPECT_EQ(v1[0].group_id, "g");
    ASSERT_TRUE(v1[0].partitions);
    EXPECT_EQ(v1[0].partitions->size(), 3u);
    auto all = fetch_body(2);
    all.topics.reset();
    EXPECT_FALSE(to_fetch_queries(all, 2)[0].partitions);
    auto v8 = to_fetch_queries(fetch_body(8), 8);
    ASSERT_EQ(v8.size(), 2u);
    EXPECT_FALSE(v8[0].partitions);
    EXPECT_EQ(v8[1].group_id, "h");
    EXPECT_EQ(*v8[1].partitions, (std::vector<topic_partition>{{"t", partition_id(1)}}));
}

std::vector<group::fetched_offset> some_offsets() {
    return {
        {{"t", partition_id(0)}, offset(42), model::leader_epoch(2), "meta", kafka_error::none},
        {{"t", partition_id(1)}, model::no_offset, model::no_leader_epoch, "", kafka_error::none},
        {{"gone", partition_id(0)}, offset(7), model::no_leader_epoch, "", kafka_error::none}};
}

TEST(offset_fetch_wire, v0_answers_unknown_topic_or_partition_without_an_offset) {
    auto q = to_fetch_queries(fetch_body(0), 0);
    std::vector<group::offset_fetch_result> r;
    r.push_back(fetched(some_offsets()));
    auto out = round_trip(fetch_answer(q, std::move(r), 0, two_topics()), 0);
    ASSERT_EQ(out.topics.size(), 2u);
    ASSERT_EQ(out.topics[0].partitions.size(), 2u);
    EXPECT_EQ(out.topics[0].partitions[0].committed_offset, offset(42));
    EXPECT_EQ(out.topics[0].partitions[0].metadata, "");
    EXPECT_EQ(out.topics[0].partitions[0].error_code, 0);
    EXPECT_EQ(out.topics[0].partitions[1].error_code, err(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(out.topics[1].partitions[0].error_code, err(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(out.topics[1].partitions[0].committed_offset, model::no_offset);
}

TEST(offset_fetch_wire, v1_spreads_a_group_error_over_the_requested_partitions) {
    auto q = to_fetch_queries(fetch_body(1), 1);
    std::vector<group::offset_fetch_result> r{{kafka_error::not_coordinator, {}}};
    auto out = round_trip(fetch_answer(q, std::move(r), 1, two_topics()), 1);
    ASSERT_EQ(out.topics.size(), 2u);
    for (const auto& t : out.topics) {
        for (const auto& p : t.partitions) {
            EXPECT_EQ(p.error_code, err(kafka_error::not_coordinator));
            EXPECT_EQ(p.committed_offset, model::no_offset);
        }
    }
    EXPECT_EQ(out.topics[0].partitions.size(), 2u);
}

TEST(offset_fetch_wire, v1_keeps_no_offset_as_minus_one_without_error) {
    auto q = to_fetch_queries(fetch_body(1), 1);
    std::vector<group::offset_fetch_result> r;
    r.push_back(fetched(some_offsets()));
    auto out = round_trip(fetch_answer(q, std::move(r), 1, two_topics()), 1);
    EXPECT_EQ(out.topics[0].partitions[0].metadata, "meta");
    EXPECT_EQ(out.topics[0].partitions[1].committed_offset, model::no_offset);
    EXPECT_EQ(out.topics[0].partitions[1].error_code, 0);
}

TEST(offset_fetch_wire, v7_puts_the_group_error_on_top_and_v5_has_leader_epochs) {
    auto q = to_fetch_queries(fetch_body(7), 7);
    std::vector<group::offset_fetch_result> failed{{kafka_error::coordinator_load_in_progress, {}}};
    auto out = round_trip(fetch_answer(q, std::move(failed), 7, two_topics()), 7);
    EXPECT_EQ(out.error_code, err(kafka_error::coordinator_load_in_progress));
    EXPECT_TRUE(out.topics.empty());

    std::vector<group::offset_fetch_result> ok;
    ok.push_back(fetched(some_offsets()));
    ok[0].offsets[1].error = kafka_error::unstable_offset_commit;
    auto v5 = round_trip(fetch_answer(q, std::move(ok), 5, two_topics()), 5);
    EXPECT_EQ(v5.error_code, 0);
    ASSERT_EQ(v5.topics.size(), 2u);
    EXPECT_EQ(v5.topics[0].partitions[0].committed_leader_epoch, model::leader_epoch(2));
    EXPECT_EQ(v5.topics[0].partitions[1].error_code, err(kafka_error::unstable_offset_commit));
}

TEST(offset_fetch_wire, v8_answers_per_group) {
    auto q = to_fetch_queries(fetch_body(8), 8);
    std::vector<group::offset_fetch_result> r;
    r.push_back(fetched(some_offsets()));
    r.push_back({kafka_error::not_coordinator, {}});
    auto out = round_trip(fetch_answer(q, std::move(r), 8, two_topics()), 8);
    EXPECT_TRUE(out.topics.empty());
    ASSERT_EQ(out.groups.size(), 2u);
    EXPECT_EQ(out.groups[0].group_id, "g");
    EXPECT_EQ(out.groups[0].error_code, 0);
    ASSERT_EQ(out.groups[0].topics.size(), 2u);
    EXPECT_EQ(out.groups[0].topics[0].partitions[0].committed_offset, offset(42));
    EXPECT_EQ(out.groups[0].topics[0].partitions[0].metadata, "meta");
    EXPECT_EQ(out.groups[1].group_id, "h");
    EXPECT_EQ(out.groups[1].error_code, err(kafka_error::not_coordinator));
    EXPECT_TRUE(out.groups[1].topics.empty());
}

protocol::offset_delete_request delete_body() {
    protocol::offset_delete_request req;
    req.group_id = "g";
    req.topics.push_back({"t", {{partition_id(0)}, {partition_id(5)}}});
    req.topics.push_back({"u", {{partition_id(0)}}});
    return req;
}

TEST(offset_delete_wire, unknown_partitions_are_answered_and_never_sent) {
    auto call = to_delete_call(delete_body(), two_topics());
    EXPECT_EQ(call.group_id, "g");
    ASSERT_EQ(call.partitions.size(), 2u);
    EXPECT_EQ(call.partitions[1], (topic_partition{"u", partition_id(0)}));
    group::offset_delete_result r;
    r.partitions = {{{"t", partition_id(0)}, kafka_error::none},
                    {{"u", partition_id(0)}, kafka_error::group_subscribed_to_topic}};
    auto out = round_trip(delete_answer(std::move(call), r), 0);
    EXPECT_EQ(out.error_code, 0);
    ASSERT_EQ(out.topics.size(), 2u);
    EXPECT_EQ(out.topics[0].partitions[0].error_code, 0);
    EXPECT_EQ(out.topics[0].partitions[1].error_code, err(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(out.topics[1].partitions[0].error_code, err(kafka_error::group_subscribed_to_topic));
}

TEST(offset_delete_wire, group_error_answers_on_top_without_topics) {
    auto call = to_delete_call(delete_body(), two_topics());
    group::offset_delete_result r;
    r.error = kafka_error::non_empty_group;
    auto out = round_trip(delete_answer(std::move(call), r), 0);
    EXPECT_EQ(out.error_code, err(kafka_error::non_empty_group));
    EXPECT_TRUE(out.topics.empty());
}

}  // namespace
}  // namespace gregor::broker

// Goal: SyncGroup and the group record write follow Kafka 3.8: the leader's assignment is
// stored through an append effect and only then answered to every parked member (Stable);
// a failed append answers the mapped error (§11.1) and rebalances; the request checks give
// their error codes; the SyncGroup deadline (KAFKA-12890) removes members that never sync.
// Method: coordinator_fixture; the test plays the driver's appends with complete_append.
#include "base/limits.h"
#include "group/append_errors.h"
#include "group/tests/coordinator_fixture.h"

namespace gregor::group::test {
namespace {

using model::kafka_error;

struct sync_test : coordinator_fixture {};

TEST_F(sync_test, leader_assignment_is_answered_to_everyone_once_stored) {
    auto ids = form_group(2);
    auto follower = sync(sync_req(ids[1], 1));
    auto leader = sync(sync_req(ids[0], 1, {{ids[0], to_bytes("x")}, {ids[1], to_bytes("y")}}));
    EXPECT_FALSE(sync_answer(follower));
    EXPECT_FALSE(sync_answer(leader));
    ASSERT_EQ(appends.size(), 1U);
    EXPECT_EQ(appends[0].value.generation, 1);
    EXPECT_EQ(appends[0].value.members.size(), 2U);
    EXPECT_EQ(group().state, group_state::completing_rebalance);
    complete_append();
    EXPECT_EQ(sync_answer(follower)->assignment, to_bytes("y"));
    EXPECT_EQ(sync_answer(leader)->assignment, to_bytes("x"));
    EXPECT_EQ(sync_answer(leader)->protocol_name, "range");
    EXPECT_EQ(group().state, group_state::stable);
}

TEST_F(sync_test, members_the_leader_left_out_get_an_empty_assignment) {
    auto ids = form_group(2);
    auto follower = sync(sync_req(ids[1], 1));
    sync(sync_req(ids[0], 1, {{ids[0], to_bytes("x")}, {"stranger", to_bytes("z")}}));
    ASSERT_EQ(appends.size(), 1U);
    complete_append();
    EXPECT_EQ(sync_answer(follower)->error, kafka_error::none);
    EXPECT_TRUE(sync_answer(follower)->assignment.empty());
}

TEST_F(sync_test, failed_write_answers_the_mapped_error_and_rebalances) {
    auto ids = form_group(2);
    auto follower = sync(sync_req(ids[1], 1));
    auto leader = sync(sync_req(ids[0], 1, {{ids[0], to_bytes("x")}}));
    complete_append(kafka_error::request_timed_out);
    EXPECT_EQ(sync_answer(follower)->error, kafka_error::rebalance_in_progress);
    EXPECT_EQ(sync_answer(leader)->error, kafka_error::rebalance_in_progress);
    EXPECT_TRUE(sync_answer(leader)->assignment.empty());
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
}

TEST_F(sync_test, append_errors_map_as_kafka_maps_them_for_group_records) {
    using e = kafka_error;
    EXPECT_EQ(group_metadata_append_error(e::unknown_topic_or_partition), e::coordinator_not_available);
    EXPECT_EQ(group_metadata_append_error(e::not_enough_replicas), e::coordinator_not_available);
    EXPECT_EQ(group_metadata_append_error(e::not_enough_replicas_after_append),
              e::coordinator_not_available);
    EXPECT_EQ(group_metadata_append_error(e::not_leader_or_follower), e::not_coordinator);
    EXPECT_EQ(group_metadata_append_error(e::kafka_storage_error), e::not_coordinator);
    EXPECT_EQ(group_metadata_append_error(e::request_timed_out), e::rebalance_in_progress);
    EXPECT_EQ(group_metadata_append_error(e::message_too_large), e::unknown_server_error);
    EXPECT_EQ(group_metadata_append_error(e::record_list_too_large), e::unknown_server_error);
    EXPECT_EQ(group_metadata_append_error(e::invalid_fetch_size), e::unknown_server_error);
    EXPECT_EQ(group_metadata_append_error(e::corrupt_message), e::corrupt_message);
}

TEST_F(sync_test, wrong_generation_is_illegal_generation) {
    auto ids = form_group(1);
    EXPECT_EQ(sync_answer(sync(sync_req(ids[0], 0)))->error, kafka_error::illegal_generation);
}

TEST_F(sync_test, unknown_member_or_group_is_unknown_member_id) {
    form_group(1);
    EXPECT_EQ(sync_answer(sync(sync_req("nobody", 1)))->error, kafka_error::unknown_member_id);
    group_id = "other";
    EXPECT_EQ(sync_answer(sync(sync_req("nobody", 1)))->error, kafka_error::unknown_member_id);
}

TEST_F(sync_test, sync_while_preparing_is_rebalance_in_progress) {
    auto ids = stable_group(2);
    join(join_req(ids[0]));
    EXPECT_EQ(sync_answer(sync(sync_req(ids[1], 1)))->error, kafka_error::rebalance_in_progress);
}

TEST_F(sync_test, version_5_must_name_the_protocol_and_it_must_match) {
    auto ids = form_group(1);
    auto r = sync_req(ids[0], 1);
    r.protocol_name.reset();
    EXPECT_EQ(sync_answer(sync(r))->error, kafka_error::inconsistent_group_protocol);
    r.protocol_name = "roundrobin";
    EXPECT_EQ(sync_answer(sync(r))->error, kafka_error::inconsistent_group_protocol);
    r.version = 3;
    r.protocol_name.reset();
    r.protocol_type.reset();
    EXPECT_FALSE(sync_answer(sync(r)));  // parked: the leader's, being written
}

TEST_F(sync_test, sync_in_stable_returns_the_stored_assignment) {
    auto ids = stable_group(2);
    auto a = sync_answer(sync(sync_req(ids[1], 1)));
    EXPECT_EQ(a->error, kafka_error::none);
    EXPECT_EQ(a->assignment, to_bytes("a-" + ids[1]));
}

TEST_F(sync_test, members_that_never_sync_are_removed_at_the_sync_deadline) {
    auto ids = form_group(2);
    sync(sync_req(ids[0], 1, {{ids[0], to_bytes("x")}}));
    EXPECT_EQ(heartbeat(ids[1], 1), kafka_error::none);  // alive, but never syncs
    complete_append();
    EXPECT_EQ(group().state, group_state::stable);
    advance(9'999);
    EXPECT_EQ(heartbeat(ids[0], 1), kafka_error::none);
    EXPECT_EQ(heartbeat(ids[1], 1), kafka_error::none);
    EXPECT_TRUE(group().has(ids[1]));
    advance(1);
    EXPECT_FALSE(group().has(ids[1]));
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
}

TEST_F(sync_test, leader_that_never_syncs_is_removed_while_completing) {
    auto ids = form_group(2);
    sync(sync_req(ids[1], 1));
    advance(10'000);
    EXPECT_FALSE(group().has(ids[0]));
    EXPECT_TRUE(group().has(ids[1]));
}

TEST_F(sync_test, a_new_member_during_completing_answers_parked_syncs_rebalance_in_progress) {
    auto ids = form_group(2);
    auto follower = sync(sync_req(ids[1], 1));
    join(join_req("", 3));
    EXPECT_EQ(sync_answer(follower)->error, kafka_error::rebalance_in_progress);
}

TEST_F(sync_test, oversized_assignment_fails_the_sync_like_a_record_too_large) {
    auto ids = form_group(1);
    bytes huge(limits::group_member_assignment_bytes_max + 1, 0);
    auto leader = sync(sync_req(ids[0], 1, {{ids[0], huge}}));
    EXPECT_EQ(sync_answer(leader)->error, kafka_error::unknown_server_error);
    EXPECT_TRUE(appends.empty());
}

TEST_F(sync_test, a_repeated_leader_sync_is_written_once) {
    auto ids = form_group(1);
    auto first = sync(sync_req(ids[0], 1, {{ids[0], to_bytes("x")}}));
    auto second = sync(sync_req(ids[0], 1, {{ids[0], to_bytes("x")}}));
    EXPECT_EQ(sync_answer(first)->error, kafka_error::rebalance_in_progress);  // replaced
    EXPECT_EQ(appends.size(), 1U);
    complete_append();
    EXPECT_EQ(sync_answer(second)->assignment, to_bytes("x"));
}

}  // namespace
}  // namespace gregor::group::test

// Goal: Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups and the OffsetCommit
// membership verdict answer as Kafka 3.8's classic coordinator does, error code for error
// code, and move the group as it does (session expiry, leaves, deletion).
// Method: coordinator_fixture; groups formed through the real JoinGroup/SyncGroup paths.
#include "group/tests/coordinator_fixture.h"

namespace gregor::group::test {
namespace {

using model::kafka_error;

struct membership_test : coordinator_fixture {
    leave_response leave(std::vector<leave_member> members) {
        auto o = c->leave(part, leave_request{group_id, std::move(members)}, now());
        absorb(std::move(o.out));
        expect_sound();
        return o.response;
    }
    kafka_error commit(std::int32_t generation, std::string member_id,
                       std::optional<std::string> instance = std::nullopt) {
        commit_identity id{group_id, generation, std::move(member_id), std::move(instance)};
        return c->validate_offset_commit(part, id, now());
    }
};

TEST_F(membership_test, heartbeats_keep_a_member_past_its_session_timeout) {
    auto ids = stable_group(1);
    for (int i = 0; i < 5; ++i) {
        advance(9'000);
        EXPECT_EQ(heartbeat(ids[0], 1), kafka_error::none);
    }
    EXPECT_TRUE(group().has(ids[0]));
}

TEST_F(membership_test, session_expiry_removes_the_member_and_rebalances) {
    auto ids = stable_group(2);
    advance(9'000);
    EXPECT_EQ(heartbeat(ids[0], 1), kafka_error::none);
    advance(1'000);  // ids[1] expired
    EXPECT_FALSE(group().has(ids[1]));
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
    EXPECT_EQ(heartbeat(ids[0], 1), kafka_error::rebalance_in_progress);
}

TEST_F(membership_test, last_member_expiring_leaves_an_empty_group_with_a_record) {
    stable_group(1);
    advance(10'000);
    EXPECT_EQ(group().state, group_state::empty);
    EXPECT_EQ(group().generation, 2);
    ASSERT_EQ(appends.size(), 1U);
    EXPECT_TRUE(appends[0].value.members.empty());
    EXPECT_FALSE(appends[0].value.protocol.has_value());
    complete_append();
}

TEST_F(membership_test, heartbeat_errors) {
    auto ids = stable_group(1);
    EXPECT_EQ(heartbeat(ids[0], 7), kafka_error::illegal_generation);
    EXPECT_EQ(heartbeat("nobody", 1), kafka_error::unknown_member_id);
    group_id = "unknown";
    EXPECT_EQ(heartbeat(ids[0], 1), kafka_error::unknown_member_id);
    group_id = "";
    EXPECT_EQ(heartbeat(ids[0], 1), kafka_error::invalid_group_id);
}

TEST_F(membership_test, heartbeat_with_a_foreign_instance_id_is_fenced) {
    auto r = join_req("");
    r.group_instance_id = "i-1";
    auto a = join_answer(join(r));
    EXPECT_EQ(heartbeat("someone-else", 1, "i-1"), kafka_error::fenced_instance_id);
    EXPECT_EQ(heartbeat(a->member_id, 1, "i-1"), kafka_error::none);
}

TEST_F(membership_test, leave_v3_removes_a_batch_with_per_member_errors) {
    auto ids = stable_group(3);
    auto r = leave({{ids[1], std::nullopt, "bye"}, {"nobody", std::nullopt, std::nullopt}});
    EXPECT_EQ(r.error, kafka_error::none);
    ASSERT_EQ(r.members.size(), 2U);
    EXPECT_EQ(r.members[0].error, kafka_error::none);
    EXPECT_EQ(r.members[1].error, kafka_error::unknown_member_id);
    EXPECT_FALSE(group().has(ids[1]));
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
}

TEST_F(membership_test, leave_by_instance_id_removes_the_static_member) {
    auto r = join_req("");
    r.group_instance_id = "i-1";
    join(r);
    auto res = leave({{"", std::string("i-1"), std::nullopt}, {"", std::string("i-9"), std::nullopt}});
    EXPECT_EQ(res.members[0].error, kafka_error::none);
    EXPECT_EQ(res.members[1].error, kafka_error::unknown_member_id);
    EXPECT_TRUE(group().members.empty());
}

TEST_F(membership_test, leave_with_a_wrong_instance_id_is_fenced) {
    auto r = join_req("");
    r.group_instance_id = "i-1";
    auto id = join_answer(join(r))->member_id;
    auto res = leave({{"other", std::string("i-1"), std::nullopt}});
    EXPECT_EQ(res.members[0].error, kafka_error::fenced_instance_id);
    EXPECT_TRUE(group().has(id));
}

TEST_F(membership_test, leave_of_a_parked_member_answers_its_join_and_completes_the_phase) {
    auto ids = stable_group(2);
    auto parked = join(join_req(ids[0]));
    leave({{ids[1], std::nullopt, std::nullopt}});
    auto a = join_answer(parked);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->generation_id, 2);  // the only member left: the phase ends at once
}

TEST_F(membership_test, leave_of_a_pending_member_forgets_its_id) {
    form_group(1);
    auto pending = join_answer(join(join_req("")))->member_id;
    auto res = leave({{pending, std::nullopt, std::nullopt}});
    EXPECT_EQ(res.members[0].error, kafka_error::none);
    EXPECT_FALSE(group().pending_members.contains(pending));
}

TEST_F(membership_test, leave_of_an_unknown_group_is_unknown_member_per_member) {
    group_id = "unknown";
    auto res = leave({{"m", std::nullopt, std::nullopt}});
    EXPECT_EQ(res.error, kafka_error::none);
    EXPECT_EQ(res.members[0].error, kafka_error::unknown_member_id);
}

TEST_F(membership_test, describe_shows_metadata_and_assignment_only_when_stable) {
    auto ids = stable_group(2);
    auto d = c->describe(part, "g");
    EXPECT_EQ(d.error, kafka_error::none);
    EXPECT_EQ(d.state, "Stable");
    EXPECT_EQ(d.protocol_type, "consumer");
    EXPECT_EQ(d.protocol_data, "range");
    ASSERT_EQ(d.members.size(), 2U);
    EXPECT_EQ(d.members[0].client_id, "c0");
    EXPECT_FALSE(d.members[0].metadata.empty());
    EXPECT_FALSE(d.members[0].assignment.empty());
    join(join_req(ids[0]));
    d = c->describe(part, "g");
    EXPECT_EQ(d.state, "PreparingRebalance");
    EXPECT_EQ(d.protocol_data, "");
    EXPECT_TRUE(d.members[0].metadata.empty() && d.members[0].assignment.empty());
}

TEST_F(membership_test, describe_of_an_unknown_group_is_dead_without_error) {
    auto d = c->describe(part, "nope");
    EXPECT_EQ(d.error, kafka_error::none);
    EXPECT_EQ(d.state, "Dead");
    EXPECT_EQ(c->describe(model::partition_id(99), "nope").error, kafka_error::not_coordinator);
}

TEST_F(membership_test, list_filters_states_case_insensitively_and_types) {
    stable_group(1);
    group_id = "offsets-only";
    EXPECT_EQ(commit(-1, ""), kafka_error::none);
    std::vector<std::string> stable{"sTaBlE"};
    auto l = c->list(stable, {});
    ASSERT_EQ(l.groups.size(), 1U);
    EXPECT_EQ(l.groups[0].group_id, "g");
    EXPECT_EQ(l.groups[0].state, "Stable");
    EXPECT_EQ(c->list({}, {}).groups.size(), 2U);
    std::vector<std::string> consumer{"consumer"};
    EXPECT_TRUE(c->list({}, consumer).groups.empty());
    std::vector<std::string> classic{"Classic"};
    EXPECT_EQ(c->list({}, classic).groups.size(), 2U);
}

TEST_F(membership_test, delete_groups_answers_each_group_once) {
    auto ids = stable_group(1);
    group_id = "empty";
    EXPECT_EQ(commit(-1, ""), kafka_error::none);
    std::vector<group_ref> refs{{part, "g"}, {part, "empty"}, {part, "missing"}, {part, "g"}};
    auto o = c->delete_groups(refs, now());
    ASSERT_EQ(o.results.size(), 3U);
    EXPECT_EQ(o.results[0], (deleted_group{"g", kafka_error::non_empty_group}));
    EXPECT_EQ(o.results[1], (deleted_group{"empty", kafka_error::none}));
    EXPECT_EQ(o.results[2], (deleted_group{"missing", kafka_error::group_id_not_found}));
    EXPECT_TRUE(o.out.empty());  // generation 0: no group record to tombstone
    EXPECT_EQ(c->find("empty"), nullptr);
}

TEST_F(membership_test, deleting_an_emptied_group_writes_a_tombstone) {
    auto ids = stable_group(1);
    leave({{ids[0], std::nullopt, std::nullopt}});
    complete_appends();
    std::vector<group_ref> refs{{part, "g"}};
    auto o = c->delete_groups(refs, now());
    EXPECT_EQ(o.results[0].error, kafka_error::none);
    ASSERT_EQ(o.out.size(), 1U);
    EXPECT_EQ(std::get<append_group_tombstone>(o.out[0]).group_id, "g");
    EXPECT_EQ(c->find("g"), nullptr);
}

TEST_F(membership_test, commit_to_an_unknown_group_creates_an_offsets_only_group) {
    group_id = "assign";
    EXPECT_EQ(commit(3, "m"), kafka_error::illegal_generation);
    EXPECT_EQ(c->find("assign"), nullptr);
    EXPECT_EQ(commit(-1, ""), kafka_error::none);
    ASSERT_NE(c->find("assign"), nullptr);
    EXPECT_EQ(group().state, group_state::empty);
    EXPECT_EQ(commit(-1, ""), kafka_error::none);  // Empty accepts generation -1
    group_id = "";
    EXPECT_EQ(commit(-1, ""), kafka_error::none);  // "" is a valid group here
}

TEST_F(membership_test, commit_checks_member_and_generation) {
    auto ids = stable_group(2);
    EXPECT_EQ(commit(1, ids[0]), kafka_error::none);
    EXPECT_EQ(commit(0, ids[0]), kafka_error::illegal_generation);
    EXPECT_EQ(commit(1, "nobody"), kafka_error::unknown_member_id);
    EXPECT_EQ(commit(-1, ""), kafka_error::unknown_member_id);  // only members commit
    join(join_req(ids[0]));
    EXPECT_EQ(commit(1, ids[1]), kafka_error::none);  // previous generation while preparing
    join(join_req(ids[1]));
    ASSERT_EQ(group().state, group_state::completing_rebalance);
    EXPECT_EQ(commit(2, ids[1]), kafka_error::rebalance_in_progress);
    EXPECT_EQ(commit(1, ids[1]), kafka_error::illegal_generation);
}

TEST_F(membership_test, transactional_commits_follow_txn_offset_commit_rules) {
    auto ids = stable_group(1);
    commit_identity txn{"g", -1, "", std::nullopt, true};
    EXPECT_EQ(c->validate_offset_commit(part, txn, now()), kafka_error::none);  // not Empty
    txn.generation_id = 0;
    txn.member_id = ids[0];
    EXPECT_EQ(c->validate_offset_commit(part, txn, now()), kafka_error::illegal_generation);
    commit_identity fresh{"new-group", 4, "m", std::nullopt, true};
    EXPECT_EQ(c->validate_offset_commit(part, fresh, now()), kafka_error::unknown_member_id);
    fresh.generation_id = -1;
    fresh.member_id = "";
    EXPECT_EQ(c->validate_offset_commit(part, fresh, now()), kafka_error::none);
    EXPECT_NE(c->find("new-group"), nullptr);
}

TEST_F(membership_test, plain_commit_with_a_member_id_to_an_unknown_group_is_unknown_member) {
    group_id = "x";
    EXPECT_EQ(commit(-1, "m"), kafka_error::unknown_member_id);
    EXPECT_EQ(c->find("x"), nullptr);  // nothing was kept for it
}

TEST_F(membership_test, commit_renews_the_members_session) {
    auto ids = stable_group(1);
    advance(9'000);
    EXPECT_EQ(commit(1, ids[0]), kafka_error::none);
    advance(9'000);
    EXPECT_TRUE(group().has(ids[0]));
}

TEST_F(membership_test, view_gives_state_type_and_subscribed_topics) {
    stable_group(2);
    auto v = c->view("g");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, group_state::stable);
    EXPECT_EQ(v->protocol_type, "consumer");
    EXPECT_EQ(v->generation, 1);
    ASSERT_TRUE(v->subscribed_topics);
    EXPECT_EQ(*v->subscribed_topics, (topic_set{"t-range"}));
    EXPECT_FALSE(c->view("nope"));
}

TEST_F(membership_test, unparsable_subscriptions_leave_the_topics_unknown) {
    auto r = join_req("", 3);
    r.protocols[0].metadata = to_bytes("garbage!");
    join(r);
    EXPECT_FALSE(c->view("g")->subscribed_topics);
}

TEST_F(membership_test, drop_if_empty_removes_only_empty_groups) {
    stable_group(1);
    EXPECT_FALSE(c->drop_if_empty("g", now()));
    group_id = "o";
    EXPECT_EQ(commit(-1, ""), kafka_error::none);
    EXPECT_TRUE(c->drop_if_empty("o", now()));
    EXPECT_EQ(c->find("o"), nullptr);
}

}  // namespace
}  // namespace gregor::group::test

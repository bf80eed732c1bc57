// Goal: JoinGroup follows Kafka 3.8's classic coordinator rule by rule: the KIP-394
// two-step join, request checks and their error codes, the initial rebalance delay, the
// join phase (completion, removal of members that did not rejoin, protocol votes, leader
// choice, the response fields), group.max.size, and static membership (KIP-345).
// Method: one coordinator on a hand-set clock (coordinator_fixture); each test drives the
// requests and timers of one rule and checks the answers, the state and the invariants.
#include "group/tests/coordinator_fixture.h"

namespace gregor::group::test {
namespace {

using model::kafka_error;

struct join_test : coordinator_fixture {};

TEST_F(join_test, new_dynamic_member_v4_gets_member_id_required_with_its_client_id) {
    auto r = join_req("");
    r.client_id = "consumer-1";
    auto a = join_answer(join(r));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error, kafka_error::member_id_required);
    EXPECT_EQ(a->member_id, "consumer-1-00000000-0000-4000-8000-000000000001");
    EXPECT_EQ(group().state, group_state::empty);  // no rebalance yet
    EXPECT_TRUE(group().pending_members.contains(a->member_id));
}

TEST_F(join_test, pending_member_id_expires_after_the_session_timeout) {
    auto a = join_answer(join(join_req("")));
    advance(10'000);
    EXPECT_EQ(c->find("g"), nullptr);  // nothing left: the unused group is dropped
    auto again = join_answer(join(join_req(a->member_id)));
    EXPECT_EQ(again->error, kafka_error::unknown_member_id);
}

TEST_F(join_test, version_3_new_member_joins_in_one_request) {
    auto a = join_answer(join(join_req("", 3)));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error, kafka_error::none);
    EXPECT_EQ(a->generation_id, 1);
    EXPECT_EQ(a->leader, a->member_id);
    ASSERT_EQ(a->members.size(), 1U);
    EXPECT_EQ(group().state, group_state::completing_rebalance);
}

TEST_F(join_test, empty_group_id_is_invalid_group_id) {
    auto r = join_req("");
    r.group_id = "";
    EXPECT_EQ(join_answer(join(r))->error, kafka_error::invalid_group_id);
}

TEST_F(join_test, session_timeout_outside_the_configured_range_is_refused) {
    auto r = join_req("");
    r.session_timeout_ms = 5'999;
    EXPECT_EQ(join_answer(join(r))->error, kafka_error::invalid_session_timeout);
    r.session_timeout_ms = 1'800'001;
    EXPECT_EQ(join_answer(join(r))->error, kafka_error::invalid_session_timeout);
    EXPECT_EQ(c->group_count(), 0U);
}

TEST_F(join_test, unknown_group_with_a_member_id_is_unknown_member_id) {
    EXPECT_EQ(join_answer(join(join_req("m-1")))->error, kafka_error::unknown_member_id);
    EXPECT_EQ(c->group_count(), 0U);
}

TEST_F(join_test, protocol_type_or_protocols_that_do_not_fit_are_inconsistent) {
    auto r = join_req("");
    r.protocol_type = "";
    EXPECT_EQ(join_answer(join(r))->error, kafka_error::inconsistent_group_protocol);
    form_group(1);
    auto other = join_req("");
    other.protocol_type = "connect";
    EXPECT_EQ(join_answer(join(other))->error, kafka_error::inconsistent_group_protocol);
    auto no_common = join_req("", 9, {"roundrobin"});
    EXPECT_EQ(join_answer(join(no_common))->error, kafka_error::inconsistent_group_protocol);
}

TEST_F(join_test, initial_delay_waits_and_extends_for_each_new_member) {
    cfg.initial_rebalance_delay = std::chrono::milliseconds(3000);
    restart();
    auto first = join_new("a");
    advance(2000);
    auto second = join_new("b");  // extends the delay by another round
    advance(1000);                // the first round ends: extended
    EXPECT_FALSE(join_answer(first));
    advance(2999);
    EXPECT_FALSE(join_answer(first));
    advance(1);
    ASSERT_TRUE(join_answer(first) && join_answer(second));
    EXPECT_EQ(join_answer(first)->generation_id, 1);
    EXPECT_EQ(join_answer(first)->members.size(), 2U);  // the leader's answer
    EXPECT_TRUE(join_answer(second)->members.empty());
}

TEST_F(join_test, initial_delay_is_capped_by_the_rebalance_timeout) {
    cfg.initial_rebalance_delay = std::chrono::milliseconds(3000);
    restart();
    auto first = join_new("a", 4000);  // remaining after the first round: 1000
    advance(100);
    join_new("b", 4000);
    advance(2900);
    EXPECT_FALSE(join_answer(first));
    advance(999);
    EXPECT_FALSE(join_answer(first));
    advance(1);
    EXPECT_TRUE(join_answer(first));
}

TEST_F(join_test, join_phase_ends_early_when_every_member_rejoined) {
    auto ids = stable_group(2);
    auto leader = join(join_req(ids[0]));
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
    auto follower = join(join_req(ids[1]));
    ASSERT_TRUE(join_answer(leader) && join_answer(follower));
    EXPECT_EQ(join_answer(leader)->generation_id, 2);
    EXPECT_EQ(group().state, group_state::completing_rebalance);
}

TEST_F(join_test, dynamic_members_that_do_not_rejoin_are_removed_when_the_phase_times_out) {
    auto ids = stable_group(2);
    // A changed subscription rebalances; the leader does not come back.
    auto follower = join(join_req(ids[1], 9, {"range", "roundrobin"}));
    advance(9'999);
    EXPECT_FALSE(join_answer(follower));
    advance(1);
    auto a = join_answer(follower);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->leader, ids[1]);  // a joined member leads now
    EXPECT_EQ(a->members.size(), 1U);
    EXPECT_FALSE(group().has(ids[0]));
}

TEST_F(join_test, rebalance_timeout_is_the_largest_of_the_members) {
    auto ids = form_group(1);
    auto r = join_req("");
    r.rebalance_timeout_ms = 50'000;
    r.member_id = join_answer(join(r))->member_id;
    join(r);  // joins during CompletingRebalance: a rebalance with timeout 50 s
    EXPECT_EQ(group().rebalance_timeout_ms(), 50'000);
    for (int i = 0; i < 10; ++i) {
        advance(4'999);  // the old member keeps its session but does not rejoin
        EXPECT_EQ(heartbeat(ids[0], 1), kafka_error::rebalance_in_progress);
    }
    advance(9);
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
    advance(1);
    EXPECT_EQ(group().state, group_state::completing_rebalance);
    EXPECT_FALSE(group().has(ids[0]));  // did not rejoin
}

TEST_F(join_test, protocol_is_chosen_by_first_choice_votes_among_common_ones) {
    fire_due = false;
    auto a = join_req("", 3, {"a", "b", "c"});
    auto b = join_req("", 3, {"b", "a"});
    auto cc = join_req("", 3, {"b", "c", "a"});
    auto ta = join(a);
    join(b);
    join(cc);
    fire_due = true;
    advance(0);
    EXPECT_EQ(join_answer(ta)->protocol_name, "b");
    EXPECT_EQ(group().protocol, "b");
}

TEST_F(join_test, old_leader_stays_leader_when_it_rejoins) {
    auto ids = stable_group(3);
    auto follower = join(join_req(ids[2]));
    join(join_req(ids[1]));
    join(join_req(ids[0]));
    EXPECT_EQ(join_answer(follower)->leader, ids[0]);
}

TEST_F(join_test, follower_rejoining_unchanged_in_stable_gets_the_current_generation) {
    auto ids = stable_group(2);
    auto a = join_answer(join(join_req(ids[1])));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error, kafka_error::none);
    EXPECT_EQ(a->generation_id, 1);
    EXPECT_TRUE(a->members.empty());
    EXPECT_EQ(group().state, group_state::stable);
}

TEST_F(join_test, follower_with_changed_metadata_in_stable_rebalances) {
    auto ids = stable_group(2);
    auto r = join_req(ids[1], 9, {"range", "roundrobin"});
    auto t = join(r);
    EXPECT_FALSE(join_answer(t));
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
}

TEST_F(join_test, leader_rejoining_in_stable_always_rebalances) {
    auto ids = stable_group(2);
    join(join_req(ids[0]));
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
}

TEST_F(join_test, repeated_join_while_completing_gets_the_same_generation) {
    auto ids = form_group(2);
    auto a = join_answer(join(join_req(ids[0])));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->generation_id, 1);
    EXPECT_EQ(a->members.size(), 2U);  // the leader gets the list again
    EXPECT_EQ(group().state, group_state::completing_rebalance);
}

TEST_F(join_test, response_carries_protocol_type_and_name_and_no_skip_assignment) {
    auto ids = form_group(1);
    auto a = join_answer(join(join_req(ids[0])));
    EXPECT_EQ(a->protocol_type, "consumer");
    EXPECT_EQ(a->protocol_name, "range");
    EXPECT_FALSE(a->skip_assignment);
}

TEST_F(join_test, group_max_size_refuses_members_beyond_it) {
    cfg.max_size = 2;
    restart();
    stable_group(2);
    auto a = join_answer(join(join_req("")));
    EXPECT_EQ(a->error, kafka_error::group_max_size_reached);
    EXPECT_EQ(a->member_id, "");
    EXPECT_EQ(group().members.size(), 2U);
}

TEST_F(join_test, group_max_size_counts_members_awaiting_join_while_preparing) {
    cfg.max_size = 2;
    restart();
    auto ids = stable_group(2);
    join(join_req(ids[0]));                // preparing; one member awaiting
    auto extra = join(join_req("", 3));   // a second one awaiting: accepted
    auto refused = join_answer(join(join_req("", 3)));
    EXPECT_EQ(refused->error, kafka_error::group_max_size_reached);
    advance(10'000);  // ids[1] never rejoined
    EXPECT_EQ(join_answer(extra)->error, kafka_error::none);
    EXPECT_FALSE(group().has(ids[1]));
    EXPECT_EQ(group().members.size(), 2U);
}

TEST_F(join_test, new_member_parked_too_long_is_dropped) {
    cfg.new_member_join_timeout = std::chrono::milliseconds(5000);
    restart();
    auto ids = stable_group(1);
    auto r = join_req("");
    r.member_id = join_answer(join(r))->member_id;
    auto t = join(r);  // parked: the leader has not rejoined
    advance(5000);
    EXPECT_EQ(join_answer(t)->error, kafka_error::unknown_member_id);
    EXPECT_FALSE(group().has(r.member_id));
}

// ---- Static membership (KIP-345).

join_request static_req(std::string member_id, std::string instance,
                        std::int16_t version = 9) {
    auto r = coordinator_fixture::join_req(std::move(member_id), version);
    r.group_instance_id = std::move(instance);
    return r;
}

TEST_F(join_test, static_member_skips_member_id_required_and_is_named_after_its_instance) {
    auto a = join_answer(join(static_req("", "i-1")));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error, kafka_error::none);
    EXPECT_EQ(a->member_id, "i-1-00000000-0000-4000-8000-000000000001");
}

struct static_group : join_test {
    std::string leader_id;
    std::string other_id;
    void SetUp() override {
        fire_due = false;
        auto t1 = join(static_req("", "i-1"));
        auto t2 = join(static_req("", "i-2"));
        fire_due = true;
        advance(0);
        leader_id = join_answer(t1)->member_id;
        other_id = join_answer(t2)->member_id;
        sync(sync_req(other_id, 1));
        sync(sync_req(leader_id, 1,
                      {{leader_id, to_bytes("a1")}, {other_id, to_bytes("a2")}}));
        complete_appends();
        ASSERT_EQ(group().state, group_state::stable);
    }
};

TEST_F(static_group, rejoin_in_stable_replaces_the_id_without_a_rebalance) {
    auto t = join(static_req("", "i-2"));
    EXPECT_FALSE(join_answer(t));  // parked until the record is written
    ASSERT_EQ(appends.size(), 1U);
    auto& rec = appends.front().value;
    EXPECT_EQ(rec.generation, 1);
    complete_append();
    auto a = join_answer(t);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error, kafka_error::none);
    EXPECT_EQ(a->generation_id, 1);
    EXPECT_NE(a->member_id, other_id);
    EXPECT_EQ(group().state, group_state::stable);
    EXPECT_EQ(group().find(a->member_id)->assignment, to_bytes("a2"));  // kept
    EXPECT_EQ(heartbeat(other_id, 1, "i-2"), kafka_error::fenced_instance_id);
    EXPECT_EQ(heartbeat(a->member_id, 1, "i-2"), kafka_error::none);
}

TEST_F(static_group, the_record_names_the_replacement) {
    auto t = join(static_req("", "i-2"));
    ASSERT_EQ(appends.size(), 1U);
    bool found = false;
    for (const auto& m : appends.front().value.members) {
        found = found || (m.group_instance_id == "i-2" && m.member_id != other_id);
    }
    EXPECT_TRUE(found);
    complete_append();
    EXPECT_TRUE(join_answer(t));
}

TEST_F(static_group, rejoining_leader_v9_is_told_to_skip_assignment) {
    auto t = join(static_req("", "i-1"));
    complete_append();
    auto a = join_answer(t);
    EXPECT_TRUE(a->skip_assignment);
    EXPECT_EQ(a->leader, a->member_id);
    EXPECT_EQ(a->members.size(), 2U);
}

TEST_F(static_group, rejoining_leader_before_v9_gets_the_old_leader_id) {
    auto t = join(static_req("", "i-1", 8));
    complete_append();
    auto a = join_answer(t);
    EXPECT_FALSE(a->skip_assignment);
    EXPECT_EQ(a->leader, leader_id);
    EXPECT_NE(a->member_id, leader_id);
    EXPECT_TRUE(a->members.empty());
}

TEST_F(static_group, failed_write_of_the_replacement_restores_the_old_id) {
    auto t = join(static_req("", "i-2"));
    complete_append(kafka_error::not_leader_or_follower);
    auto a = join_answer(t);
    EXPECT_EQ(a->error, kafka_error::not_coordinator);
    EXPECT_EQ(a->member_id, "");
    EXPECT_TRUE(group().has(other_id));
    EXPECT_EQ(heartbeat(other_id, 1, "i-2"), kafka_error::none);
}

TEST_F(static_group, rejoin_with_a_protocol_change_rebalances) {
    auto r = static_req("", "i-2");
    r.protocols = {{"roundrobin", {}}, {"range", {}}};
    auto first = join(r);  // votes: i-1 range, i-2 roundrobin? only range is common
    EXPECT_FALSE(join_answer(first));
    EXPECT_EQ(appends.size(), 1U);  // range is still selected: stored, no rebalance
}

TEST_F(static_group, rejoin_while_completing_rebalances_and_fences_the_old_sync) {
    join(join_req(leader_id));  // leader rejoin: rebalance
    auto t = join(static_req(other_id, "i-2"));
    ASSERT_EQ(group().state, group_state::completing_rebalance);
    std::int32_t gen = group().generation;
    auto parked = sync(sync_req(other_id, gen));
    auto fresh = join(static_req("", "i-2"));
    EXPECT_EQ(sync_answer(parked)->error, kafka_error::fenced_instance_id);
    EXPECT_EQ(group().state, group_state::preparing_rebalance);
    (void)t;
    (void)fresh;
}

TEST_F(static_group, wrong_or_unknown_instance_ids_are_refused) {
    EXPECT_EQ(join_answer(join(static_req(other_id, "i-1")))->error,
              kafka_error::fenced_instance_id);
    EXPECT_EQ(join_answer(join(static_req(other_id, "i-9")))->error,
              kafka_error::unknown_member_id);
}

TEST_F(static_group, static_members_that_do_not_rejoin_are_kept) {
    join(join_req(leader_id));
    advance(10'000);  // i-2 did not rejoin
    EXPECT_TRUE(group().has(other_id));
    EXPECT_EQ(group().state, group_state::completing_rebalance);
}

}  // namespace
}  // namespace gregor::group::test

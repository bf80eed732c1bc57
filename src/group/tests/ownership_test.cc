// Goal: offsets partition ownership works as Kafka 3.8's coordinator load/unload does:
// unowned partitions answer NOT_COORDINATOR, loading ones COORDINATOR_LOAD_IN_PROGRESS per
// API (SyncGroup REBALANCE_IN_PROGRESS, Heartbeat NONE); loaded groups are Stable with
// members or Empty, never resume a rebalance, and expire members that do not come back;
// unload answers parked requests NOT_COORDINATOR; loads and unloads are epoch-fenced.
// Also the pure pieces: the transition table, state names, uuids, subscription parsing.
// Method: coordinator_fixture with a second partition the test loads and unloads by hand.
#include "group/member_id.h"
#include "group/tests/coordinator_fixture.h"
#include "group/transitions.h"

namespace gregor::group::test {
namespace {

using model::kafka_error;
using model::leader_epoch;

struct ownership_test : coordinator_fixture {
    model::partition_id other{3};

    static group_metadata_value record_with(std::vector<std::string> members) {
        group_metadata_value v;
        v.protocol_type = "consumer";
        v.generation = 5;
        v.protocol = "range";
        v.leader = members.empty() ? std::nullopt : std::optional(members.back());
        v.current_state_timestamp = model::timestamp_ms(123);
        for (auto& id : members) {
            member_metadata_value m;
            m.member_id = id;
            m.client_id = "c";
            m.client_host = "/h";
            m.rebalance_timeout_ms = 20'000;
            m.session_timeout_ms = 10'000;
            m.subscription = encode_subscription_v0({"t"});
            m.assignment = to_bytes("a-" + id);
            v.members.push_back(m);
        }
        return v;
    }
    void load(std::vector<loaded_group> groups, std::int32_t epoch = 1) {
        ASSERT_TRUE(c->begin_load(other, leader_epoch(epoch)));
        absorb(c->complete_load(other, leader_epoch(epoch), std::move(groups), now()));
        expect_sound();
    }
};

TEST_F(ownership_test, unowned_partition_answers_not_coordinator) {
    auto r = join_req("");
    r.group_id = "x";
    absorb(c->join(other, request_token(900), r, now()));
    EXPECT_EQ(joins.at(900).error, kafka_error::not_coordinator);
    EXPECT_EQ(c->heartbeat(other, {"x", 1, "m", std::nullopt}, now()),
              kafka_error::not_coordinator);
}

TEST_F(ownership_test, loading_partition_answers_per_api) {
    ASSERT_TRUE(c->begin_load(other, leader_epoch(1)));
    auto r = join_req("");
    r.group_id = "x";
    absorb(c->join(other, request_token(900), r, now()));
    EXPECT_EQ(joins.at(900).error, kafka_error::coordinator_load_in_progress);
    sync_request s = sync_req("m", 1);
    s.group_id = "x";
    absorb(c->sync(other, request_token(901), s, now()));
    EXPECT_EQ(syncs.at(901).error, kafka_error::rebalance_in_progress);
    EXPECT_EQ(c->heartbeat(other, {"x", 1, "m", std::nullopt}, now()), kafka_error::none);
    auto l = c->leave(other, {"x", {{"m", std::nullopt, std::nullopt}}}, now());
    EXPECT_EQ(l.response.error, kafka_error::coordinator_load_in_progress);
    EXPECT_EQ(c->describe(other, "x").error, kafka_error::coordinator_load_in_progress);
    EXPECT_EQ(c->list({}, {}).error, kafka_error::coordinator_load_in_progress);
    EXPECT_EQ(c->validate_offset_commit(other, {"x", -1, "", std::nullopt}, now()),
              kafka_error::coordinator_load_in_progress);
}

TEST_F(ownership_test, loaded_group_with_members_is_stable_and_keeps_its_assignment) {
    load({{"x", record_with({"m1", "m2"})}, {"y", record_with({})}, {"z", std::nullopt}});
    const auto* x = c->find("x");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->state, group_state::stable);
    EXPECT_EQ(x->generation, 5);
    EXPECT_EQ(x->leader, "m2");
    EXPECT_EQ(x->state_timestamp, model::timestamp_ms(123));
    EXPECT_EQ(c->find("y")->state, group_state::empty);
    EXPECT_EQ(c->find("z")->state, group_state::empty);
    EXPECT_EQ(c->find("z")->generation, 0);
    group_id = "x";
    sync_request s = sync_req("m1", 5);
    absorb(c->sync(other, request_token(900), s, now()));
    EXPECT_EQ(syncs.at(900).assignment, to_bytes("a-m1"));
}

TEST_F(ownership_test, loaded_members_that_never_come_back_expire) {
    load({{"x", record_with({"m1", "m2"})}});
    clock += 9'000;
    EXPECT_EQ(c->heartbeat(other, {"x", 5, "m1", std::nullopt}, now()), kafka_error::none);
    clock += 1'000;
    absorb(c->on_time(now()));
    EXPECT_FALSE(c->find("x")->has("m2"));
    EXPECT_EQ(c->find("x")->state, group_state::preparing_rebalance);
}

TEST_F(ownership_test, loaded_group_over_the_size_limit_rebalances) {
    cfg.max_size = 1;
    restart();
    load({{"x", record_with({"m1", "m2"})}});
    EXPECT_EQ(c->find("x")->state, group_state::preparing_rebalance);
}

TEST_F(ownership_test, corrupt_records_load_what_is_sound) {
    auto v = record_with({"m1", "m1", ""});
    v.leader = "ghost";
    auto no_protocol = record_with({"m1"});
    no_protocol.protocol.reset();
    load({{"x", v}, {"y", no_protocol}});
    EXPECT_EQ(c->find("x")->members.size(), 1U);
    EXPECT_EQ(c->find("x")->leader, "m1");
    EXPECT_EQ(c->find("y")->state, group_state::empty);
}

TEST_F(ownership_test, unload_answers_parked_requests_not_coordinator) {
    auto ids = form_group(2);
    auto parked_sync = sync(sync_req(ids[1], 1));
    auto leader = sync(sync_req(ids[0], 1, {{ids[0], to_bytes("x")}}));
    ASSERT_EQ(appends.size(), 1U);
    absorb(c->unload(part, leader_epoch(2), now()));
    EXPECT_EQ(sync_answer(parked_sync)->error, kafka_error::not_coordinator);
    EXPECT_EQ(sync_answer(leader)->error, kafka_error::not_coordinator);
    EXPECT_EQ(c->find("g"), nullptr);
    EXPECT_EQ(c->status(part), partition_status::not_owned);
    complete_append();  // late: ignored
    EXPECT_TRUE(c->on_time(now() + 1'000'000).empty());
    expect_sound();
}

TEST_F(ownership_test, unload_answers_parked_joins_not_coordinator) {
    auto ids = stable_group(2);
    auto parked = join(join_req(ids[0]));
    absorb(c->unload(part, std::nullopt, now()));
    EXPECT_EQ(join_answer(parked)->error, kafka_error::not_coordinator);
    EXPECT_EQ(join_answer(parked)->member_id, ids[0]);
}

TEST_F(ownership_test, loads_and_unloads_are_fenced_by_epoch) {
    ASSERT_TRUE(c->begin_load(other, leader_epoch(4)));
    EXPECT_FALSE(c->begin_load(other, leader_epoch(4)));  // already loading
    EXPECT_TRUE(c->unload(other, leader_epoch(3), now()).empty());
    EXPECT_EQ(c->status(other), partition_status::loading);  // older epoch: ignored
    absorb(c->unload(other, leader_epoch(5), now()));
    EXPECT_EQ(c->status(other), partition_status::not_owned);
    EXPECT_TRUE(c->complete_load(other, leader_epoch(4), {{"x", std::nullopt}}, now()).empty());
    EXPECT_EQ(c->find("x"), nullptr);  // stale load dropped
    EXPECT_FALSE(c->begin_load(other, leader_epoch(4)));
    EXPECT_TRUE(c->begin_load(other, leader_epoch(5)));
}

TEST_F(ownership_test, transition_table_is_kafkas) {
    using s = group_state;
    const s all[] = {s::empty, s::preparing_rebalance, s::completing_rebalance, s::stable,
                     s::dead};
    int allowed = 0;
    for (auto from : all) {
        for (auto to : all) {
            allowed += transition_allowed(from, to) ? 1 : 0;
        }
    }
    EXPECT_EQ(allowed, 3 + 1 + 1 + 1 + 5);
    EXPECT_TRUE(transition_allowed(s::empty, s::preparing_rebalance));
    EXPECT_FALSE(transition_allowed(s::empty, s::stable));
    EXPECT_FALSE(transition_allowed(s::stable, s::completing_rebalance));
    EXPECT_TRUE(transition_allowed(s::dead, s::dead));
    EXPECT_EQ(group_state_from_name("completingrebalance"), s::completing_rebalance);
    EXPECT_EQ(group_state_from_name("AwaitingSync"), std::nullopt);
}

TEST_F(ownership_test, uuid_text_is_a_version_4_uuid) {
    auto u = uuid_text(0xffffffffffffffffULL, 0);
    EXPECT_EQ(u.size(), 36U);
    EXPECT_EQ(u, "ffffffff-ffff-4fff-8000-000000000000");
}

TEST_F(ownership_test, subscription_topics_parse_defensively) {
    EXPECT_EQ(parse_subscription_topics(encode_subscription_v0({"a", "bb"})),
              (std::vector<std::string>{"a", "bb"}));
    bytes b = encode_subscription_v0({"a"});
    EXPECT_FALSE(parse_subscription_topics(bytes_view(b).first(4)));  // truncated count
    EXPECT_FALSE(parse_subscription_topics(bytes_view(b).first(8)));  // truncated topic
    bytes negative{0xff, 0xff, 0, 0, 0, 0};
    EXPECT_FALSE(parse_subscription_topics(negative));
    bytes huge_count{0, 1, 0x7f, 0xff, 0xff, 0xff};
    EXPECT_FALSE(parse_subscription_topics(huge_count));
    bytes null_topic{0, 0, 0, 0, 0, 1, 0xff, 0xff};
    EXPECT_FALSE(parse_subscription_topics(null_topic));
    bytes v3_with_tail{0, 3, 0, 0, 0, 0, 1, 2, 3};
    EXPECT_EQ(parse_subscription_topics(v3_with_tail), std::vector<std::string>{});
}

}  // namespace
}  // namespace gregor::group::test

// Goal: replication::partition keeps Kafka's leader and follower rules: the high watermark is
// the smallest log end offset over the (maximal) ISR and never goes backwards; ISR changes
// are proposed one at a time (expand when a follower reaches the high watermark and the
// epoch start, shrink after replica.lag.time.max.ms) and count only as the header says;
// acks=all answers and append checks follow min.insync.replicas and leader epochs; follower
// fetches are fenced by epoch and range; followers truncate a divergent suffix by leader
// epochs (KIP-101, several rounds for KIP-279) and take min(leader HW, own end) as HW.
// Method: three replicas on in-memory logs; the test plays the controller (become_leader /
// become_follower with chosen states) and the network (a follower's fetch is served by the
// leader and its reply applied at once), with a clock it sets by hand.
#include "replication/tests/replica_fixture.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace gregor::replication {
namespace {

using model::kafka_error;
using model::leader_epoch;
using model::node_id;
using model::offset;
using test::fetch_of;
using test::replica_node;
using test::serve_fetch;

struct partition_fixture : ::testing::Test {
    std::array<std::unique_ptr<replica_node>, 3> nodes;
    replication_config cfg{.min_insync_replicas = 1,
                           .lag_time_max = std::chrono::milliseconds(1000)};
    std::set<std::int32_t> dead;  // brokers the metadata cache says are gone
    std::int64_t clock = 10'000;
    std::int64_t stamp = 1;

    void SetUp() override {
        for (std::int32_t i = 0; i < 3; ++i) {
            nodes[static_cast<std::size_t>(i)] = std::make_unique<replica_node>(node_id(i + 1));
            reopen(i + 1, offset(0));
        }
    }
    void reopen(std::int32_t id, offset hw) {
        auto alive = [this](node_id n) { return !dead.contains(n()); };
        auto r = n(id).open(cfg, hw, alive, now());
        ASSERT_TRUE(r) << r.err().to_string();
    }
    model::timestamp_ms now() const { return model::timestamp_ms(clock); }
    replica_node& n(std::int32_t id) { return *nodes[static_cast<std::size_t>(id - 1)]; }
    partition& p(std::int32_t id) { return *n(id).part; }

    static partition_state state(std::int32_t leader, std::int32_t epoch,
                                 std::vector<std::int32_t> isr, std::int32_t partition_epoch = 0) {
        partition_state s;
        s.leader = node_id(leader);
        s.leader_epoch = leader_epoch(epoch);
        s.partition_epoch = partition_epoch;
        for (auto i : isr) {
            s.isr.push_back(node_id(i));
        }
        s.replicas = {node_id(1), node_id(2), node_id(3)};
        return s;
    }
    // The controller's LeaderAndIsr to every replica.
    void elect(std::int32_t leader, std::int32_t epoch, std::vector<std::int32_t> isr,
               std::int32_t partition_epoch = 0) {
        auto s = state(leader, epoch, std::move(isr), partition_epoch);
        for (std::int32_t id = 1; id <= 3; ++id) {
            if (id == leader) {
                p(id).become_leader(s, now());
            } else {
                p(id).become_follower(s, now());
            }
        }
    }
    leader_append produce(std::int32_t leader, int records) {
        auto b = test::produce_batch(records, stamp++);
        auto r = p(leader).append(b, now(), false);
        EXPECT_TRUE(r) << r.err().to_string();
        return r ? *r : leader_append{};
    }
    // One fetch round trip of `follower` to its leader, applied at once.
    follower_progress fetch(std::int32_t follower, std::size_t max_bytes = 1 << 20) {
        auto& f = p(follower);
        auto reply = serve_fetch(p(f.state().leader()), fetch_of(node_id(follower), f.next_fetch()),
                                 now(), max_bytes);
        auto r = f.on_leader_reply(reply.view(), now());
        EXPECT_TRUE(r) << r.err().to_string();
        return r ? *r : follower_progress{};
    }
    // Fetches until the follower has the leader's log end offset (bounded).
    void catch_up(std::int32_t follower) {
        auto& leader = p(p(follower).state().leader());
        for (int i = 0; i < 20 && p(follower).log_end_offset() != leader.log_end_offset(); ++i) {
            fetch(follower);
        }
        ASSERT_EQ(p(follower).log_end_offset(), leader.log_end_offset());
    }
    // Leader 1 (epoch 1, ISR {1, 2}) writes 3 batches of 2; replica 2 gets them all and
    // learns the high watermark 6.
    void six_records_replicated_to_2() {
        elect(1, 1, {1, 2});
        produce(1, 2);
        produce(1, 2);
        produce(1, 2);
        catch_up(2);
        fetch(2);
    }
    // Appends a replicated batch straight into a replica's log (builds histories).
    void put(std::int32_t id, std::int64_t base, int records, std::int32_t epoch) {
        auto b = storage::test::make_batch({.records = records,
                                            .value_bytes = 16,
                                            .timestamp = stamp++,
                                            .base_offset = base,
                                            .epoch = epoch});
        auto r = n(id).log->append_as_follower(b, now());
        ASSERT_TRUE(r) << r.err().to_string();
    }
    static std::vector<std::pair<std::int64_t, std::int32_t>> layout(storage::log& lg) {
        std::vector<std::pair<std::int64_t, std::int32_t>> out;
        for (const auto& b : test::read_batches(lg)) {
            out.emplace_back(b.base(), b.epoch());
        }
        return out;
    }
};

TEST_F(partition_fixture, leader_high_watermark_is_the_smallest_end_offset_over_the_isr) {
    elect(1, 1, {1, 2, 3});
    produce(1, 5);
    EXPECT_EQ(p(1).high_watermark(), offset(0)) << "no follower has fetched yet";
    catch_up(2);
    fetch(2);  // tells the leader it has all 5
    EXPECT_EQ(p(1).follower_end_offset(node_id(2)), offset(5));
    EXPECT_EQ(p(1).high_watermark(), offset(0)) << "replica 3 is in the ISR and has nothing";
    fetch(3, 1);  // fetches from 0: its end offset is 0 at the leader
    EXPECT_EQ(p(1).high_watermark(), offset(0));
    catch_up(3);
    fetch(3);
    EXPECT_EQ(p(1).high_watermark(), offset(5));
    fetch(2);
    EXPECT_EQ(p(2).high_watermark(), offset(5)) << "followers learn it from the reply";
    // Each log keeps it for replication-offset-checkpoint, without anyone collecting it.
    EXPECT_EQ(n(1).log->replication_offset(), offset(5));
    EXPECT_EQ(n(2).log->replication_offset(), offset(5));
}

TEST_F(partition_fixture, leader_high_watermark_never_goes_backwards) {
    elect(1, 1, {1, 2});
    produce(1, 4);
    catch_up(2);
    fetch(2);
    ASSERT_EQ(p(1).high_watermark(), offset(4));
    // A reordered, older fetch of replica 2 arrives late.
    auto d = p(1).on_follower_fetch(
        follower_fetch{node_id(2), offset(0), leader_epoch(1), leader_epoch(1)}, now());
    EXPECT_EQ(d.error, kafka_error::none);
    EXPECT_FALSE(d.high_watermark_advanced);
    EXPECT_EQ(p(1).high_watermark(), offset(4));
    produce(1, 2);
    EXPECT_EQ(p(1).high_watermark(), offset(4));
}

TEST_F(partition_fixture, expansion_is_proposed_when_a_follower_reaches_hw_and_epoch_start) {
    elect(1, 1, {1, 2}, 7);
    produce(1, 3);
    catch_up(2);
    fetch(2);
    ASSERT_EQ(p(1).high_watermark(), offset(3));
    fetch(3, 1);  // replica 3 fetches from 0: below the HW
    EXPECT_FALSE(p(1).isr_change_pending());
    catch_up(3);
    fetch(3);
    ASSERT_TRUE(p(1).isr_change_pending());
    auto prop = p(1).take_isr_proposal();
    ASSERT_TRUE(prop);
    EXPECT_EQ(prop->leader_epoch, leader_epoch(1));
    EXPECT_EQ(prop->partition_epoch, 7);
    EXPECT_EQ(prop->isr, (std::vector<node_id>{node_id(1), node_id(2), node_id(3)}));
    EXPECT_FALSE(p(1).take_isr_proposal()) << "sent once: it is in flight";
    EXPECT_EQ(p(1).maximal_isr().size(), 3U) << "a pending expansion counts at once";
    EXPECT_EQ(p(1).state().isr.size(), 2U);
}

TEST_F(partition_fixture, expansion_waits_for_the_start_of_the_leader_epoch) {
    put(1, 0, 3, 1);
    put(1, 3, 2, 1);
    put(3, 0, 3, 1);
    reopen(1, offset(3));  // its checkpointed high watermark
    elect(1, 2, {1, 2});   // epoch 2 starts at 5; the HW stays 3 until replica 2 fetches
    ASSERT_EQ(p(1).high_watermark(), offset(3));
    fetch(3, 1);
    EXPECT_EQ(p(1).follower_end_offset(node_id(3)), offset(3));
    EXPECT_FALSE(p(1).isr_change_pending()) << "at the HW (3) but below the epoch start (5)";
    fetch(3);
    EXPECT_EQ(p(1).follower_end_offset(node_id(3)), offset(5));
    EXPECT_TRUE(p(1).isr_change_pending());
}

TEST_F(partition_fixture, expansion_skips_a_broker_the_metadata_cache_calls_dead) {
    elect(1, 1, {1, 2});
    produce(1, 2);
    catch_up(2);
    fetch(2);
    dead.insert(3);
    catch_up(3);
    fetch(3);
    EXPECT_FALSE(p(1).isr_change_pending());
    dead.erase(3);
    fetch(3);
    EXPECT_TRUE(p(1).isr_change_pending());
}

TEST_F(partition_fixture, shrink_after_lag_time_max_counts_once_committed) {
    elect(1, 1, {1, 2, 3}, 4);
    produce(1, 2);
    catch_up(2);
    fetch(2);
    clock += 1000;
    fetch(2);
    p(1).maybe_shrink_isr(now());
    EXPECT_FALSE(p(1).isr_change_pending()) << "exactly lag_time_max is not yet out of sync";
    clock += 1;
    fetch(2);
    p(1).maybe_shrink_isr(now());
    ASSERT_TRUE(p(1).isr_change_pending());
    auto prop = p(1).take_isr_proposal();
    ASSERT_TRUE(prop);
    EXPECT_EQ(prop->isr, (std::vector<node_id>{node_id(1), node_id(2)}));
    EXPECT_EQ(p(1).maximal_isr().size(), 3U) << "a shrink counts only once committed";
    EXPECT_EQ(p(1).high_watermark(), offset(0));
    EXPECT_TRUE(p(1).on_isr_committed(state(1, 1, {1, 2}, 5)));
    EXPECT_EQ(p(1).high_watermark(), offset(2));
    EXPECT_EQ(p(1).state().partition_epoch, 5);
    EXPECT_FALSE(p(1).isr_change_pending());
}

// An operator sees why each replica left the ISR and how far behind each follower is.
TEST_F(partition_fixture, a_shrink_says_why_each_replica_left_and_lags_are_reported) {
    elect(1, 1, {1, 2, 3}, 4);
    produce(1, 2);
    catch_up(2);
    fetch(2);
    catch_up(3);
    fetch(3);  // both caught up at t0
    clock += 500;
    produce(1, 2);
    // 2 keeps asking for offset 2 and never gets further (a slow follower): behind. 3 does
    // not fetch any more: not fetching.
    auto stuck_at_2 = [&] {
        (void)p(1).on_follower_fetch(fetch_of(node_id(2), p(2).next_fetch()), now());
    };
    stuck_at_2();
    clock += 1001;
    stuck_at_2();
    auto lags = p(1).follower_lags(now());
    ASSERT_EQ(lags.size(), 2U);
    EXPECT_EQ(lags[0].replica, node_id(2));
    EXPECT_EQ(lags[0].offsets, 2);
    EXPECT_EQ(lags[0].since_caught_up_ms, 1501);
    EXPECT_TRUE(lags[0].in_isr);
    EXPECT_EQ(lags[1].replica, node_id(3));
    EXPECT_EQ(lags[1].offsets, 2);
    p(1).maybe_shrink_isr(now());
    ASSERT_TRUE(p(1).take_isr_proposal());
    EXPECT_TRUE(p(1).take_isr_leaves().empty()) << "nothing has left before the commit";
    p(1).on_isr_committed(state(1, 1, {1}, 5));
    auto leaves = p(1).take_isr_leaves();
    ASSERT_EQ(leaves.size(), 2U);
    EXPECT_EQ(leaves[0].replica, node_id(2));
    EXPECT_EQ(leaves[0].reason, replication::isr_leave_reason::behind);
    EXPECT_EQ(leaves[1].replica, node_id(3));
    EXPECT_EQ(leaves[1].reason, replication::isr_leave_reason::not_fetching);
    EXPECT_EQ(to_string(leaves[1].reason), "not fetching");
    EXPECT_TRUE(p(1).take_isr_leaves().empty()) << "each leave is told once";
    EXPECT_FALSE(p(1).follower_lags(now())[0].in_isr);
    EXPECT_TRUE(p(2).follower_lags(now()).empty()) << "only a leader knows its followers";
}

TEST_F(partition_fixture, a_replica_that_never_fetched_leaves_for_that_reason) {
    elect(1, 1, {1, 2}, 1);
    clock += 1001;
    p(1).maybe_shrink_isr(now());
    ASSERT_TRUE(p(1).take_isr_proposal());
    p(1).on_isr_committed(state(1, 1, {1}, 2));
    auto leaves = p(1).take_isr_leaves();
    ASSERT_EQ(leaves.size(), 1U);
    EXPECT_EQ(leaves[0].reason, replication::isr_leave_reason::never_fetched);
    auto lags = p(1).follower_lags(now());
    EXPECT_EQ(lags[0].since_caught_up_ms, 1001) << "an ISR member counts from the election";
    EXPECT_EQ(lags[1].since_caught_up_ms, 0) << "3 was never in sync: 0, never";
}

TEST_F(partition_fixture, only_one_isr_change_is_in_flight) {
    elect(1, 1, {1, 2});
    produce(1, 2);
    catch_up(2);
    fetch(2);
    catch_up(3);
    fetch(3);
    ASSERT_TRUE(p(1).take_isr_proposal());  // expansion with 3, in flight
    clock += 5000;                          // everyone is out of sync now
    p(1).maybe_shrink_isr(now());
    EXPECT_FALSE(p(1).take_isr_proposal());
    p(1).on_isr_refused(kafka_error::ineligible_replica);
    EXPECT_FALSE(p(1).isr_change_pending());
    p(1).maybe_shrink_isr(now());
    auto shrink = p(1).take_isr_proposal();
    ASSERT_TRUE(shrink) << "once the answer came, the next change may go";
    EXPECT_EQ(shrink->isr, std::vector<node_id>{node_id(1)});
}

TEST_F(partition_fixture, expansion_refused_as_not_written_is_proposed_again_at_the_next_fetch) {
    elect(1, 1, {1, 2});
    catch_up(3);
    fetch(3);
    ASSERT_TRUE(p(1).take_isr_proposal());
    p(1).on_isr_refused(kafka_error::ineligible_replica);
    EXPECT_EQ(p(1).maximal_isr().size(), 2U) << "back to the committed ISR";
    EXPECT_FALSE(p(1).isr_change_pending());
    fetch(3);
    EXPECT_TRUE(p(1).take_isr_proposal());
}

// The controller may have written an earlier attempt whose answer was lost: a stale epoch
// leaves the expansion counting for the high watermark until the next LeaderAndIsr, or a
// leader elected from a ZooKeeper ISR that holds replica 3 could lack committed records.
TEST_F(partition_fixture, expansion_refused_for_a_stale_epoch_stays_pending_until_leader_and_isr) {
    elect(1, 1, {1, 2});
    catch_up(3);
    fetch(3);
    ASSERT_TRUE(p(1).take_isr_proposal());
    p(1).on_isr_refused(kafka_error::invalid_update_version);
    EXPECT_TRUE(p(1).isr_change_pending());
    EXPECT_EQ(p(1).maximal_isr().size(), 3U);
    fetch(3);
    EXPECT_FALSE(p(1).take_isr_proposal()) << "nothing new until the LeaderAndIsr";
    auto a = produce(1, 2);
    catch_up(2);
    fetch(2);
    EXPECT_LT(p(1).high_watermark(), a.appended.last_offset + 1)
        << "replica 3 lacks the records: the high watermark waits for it";
    catch_up(3);
    fetch(3);
    EXPECT_EQ(p(1).high_watermark(), a.appended.last_offset + 1);
    elect(1, 2, {1, 2, 3});
    EXPECT_FALSE(p(1).isr_change_pending()) << "the LeaderAndIsr settles it";
}

TEST_F(partition_fixture, expansion_refused_for_an_unknown_reason_is_sent_again_as_it_is) {
    elect(1, 1, {1, 2});
    catch_up(3);
    fetch(3);
    auto first = p(1).take_isr_proposal();
    ASSERT_TRUE(first);
    p(1).on_isr_refused(kafka_error::unknown_server_error);
    auto again = p(1).take_isr_proposal();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->isr, first->isr);
    EXPECT_EQ(again->partition_epoch, first->partition_epoch);
}

TEST_F(partition_fixture, committed_answer_for_another_leader_epoch_is_not_applied) {
    elect(1, 2, {1, 2});
    catch_up(3);
    fetch(3);
    ASSERT_TRUE(p(1).take_isr_proposal());
    EXPECT_FALSE(p(1).on_isr_committed(state(1, 1, {1, 2, 3}, 9)));
    EXPECT_EQ(p(1).state().isr.size(), 2U);
    EXPECT_EQ(p(1).state().partition_epoch, 0);
    EXPECT_TRUE(p(1).isr_change_pending()) << "pending until the LeaderAndIsr that follows";
    EXPECT_EQ(p(1).maximal_isr().size(), 3U);
    elect(1, 3, {1, 2, 3});
    EXPECT_FALSE(p(1).isr_change_pending());
}

TEST_F(partition_fixture, acks_all_waits_for_the_high_watermark_then_succeeds) {
    cfg.min_insync_replicas = 2;
    for (std::int32_t id = 1; id <= 3; ++id) {
        p(id).set_config(cfg);
    }
    elect(1, 1, {1, 2, 3});
    ASSERT_EQ(p(1).check_append(-1), kafka_error::none);
    auto a = produce(1, 3);
    offset end = a.appended.last_offset + 1;
    EXPECT_FALSE(p(1).acks_all_status(end, leader_epoch(1))) << "waiting";
    catch_up(2);
    fetch(2);
    EXPECT_FALSE(p(1).acks_all_status(end, leader_epoch(1))) << "replica 3 has not got it";
    catch_up(3);
    fetch(3);
    EXPECT_EQ(p(1).acks_all_status(end, leader_epoch(1)), kafka_error::none);
}

TEST_F(partition_fixture, acks_all_fails_after_append_when_the_isr_shrank_below_the_minimum) {
    cfg.min_insync_replicas = 2;
    p(1).set_config(cfg);
    elect(1, 1, {1, 2});
    auto a = produce(1, 1);
    clock += 2000;
    p(1).maybe_shrink_isr(now());
    ASSERT_TRUE(p(1).take_isr_proposal());
    ASSERT_TRUE(p(1).on_isr_committed(state(1, 1, {1}, 1)));
    EXPECT_EQ(p(1).acks_all_status(a.appended.last_offset + 1, leader_epoch(1)),
              kafka_error::not_enough_replicas_after_append);
    EXPECT_EQ(p(1).check_append(-1), kafka_error::not_enough_replicas);
    EXPECT_EQ(p(1).check_append(1), kafka_error::none) << "acks=1 does not need the ISR";
}

TEST_F(partition_fixture, acks_all_never_succeeds_once_leadership_was_lost) {
    elect(1, 1, {1, 2});
    auto a = produce(1, 2);
    offset end = a.appended.last_offset + 1;
    // Re-elected without a break (a new controller bumps the epoch): the records stay.
    p(1).become_leader(state(1, 2, {1, 2}), now());
    EXPECT_FALSE(p(1).acks_all_status(end, leader_epoch(1))) << "still waiting";
    p(1).become_follower(state(2, 3, {1, 2}), now());
    EXPECT_EQ(p(1).acks_all_status(end, leader_epoch(1)), kafka_error::not_leader_or_follower);
    EXPECT_EQ(p(1).check_append(1), kafka_error::not_leader_or_follower);
    // Leading again later does not revive it: another leader may have cut the records.
    p(1).become_leader(state(1, 4, {1, 2}), now());
    EXPECT_EQ(p(1).acks_all_status(end, leader_epoch(1)), kafka_error::not_leader_or_follower);
}

TEST_F(partition_fixture, check_append_refuses_acks_all_when_the_isr_is_below_the_minimum) {
    cfg.min_insync_replicas = 3;
    p(1).set_config(cfg);
    elect(1, 1, {1, 2});
    EXPECT_EQ(p(1).check_append(-1), kafka_error::not_enough_replicas);
    EXPECT_EQ(p(1).check_append(0), kafka_error::none);
    EXPECT_EQ(p(2).check_append(-1), kafka_error::not_leader_or_follower);
}

TEST_F(partition_fixture, follower_fetch_with_another_leader_epoch_is_refused_and_not_counted) {
    elect(1, 3, {1, 2, 3});
    produce(1, 2);
    auto older = p(1).on_follower_fetch(
        follower_fetch{node_id(2), offset(2), leader_epoch(3), leader_epoch(2)}, now());
    EXPECT_EQ(older.error, kafka_error::fenced_leader_epoch);
    auto newer = p(1).on_follower_fetch(
        follower_fetch{node_id(2), offset(2), leader_epoch(3), leader_epoch(4)}, now());
    EXPECT_EQ(newer.error, kafka_error::unknown_leader_epoch);
    EXPECT_FALSE(p(1).follower_end_offset(node_id(2)));
    auto follower = p(2).on_follower_fetch(
        follower_fetch{node_id(3), offset(0), model::no_leader_epoch, leader_epoch(3)}, now());
    EXPECT_EQ(follower.error, kafka_error::not_leader_or_follower);
}

TEST_F(partition_fixture, follower_fetch_out_of_range_is_refused) {
    elect(1, 1, {1, 2});
    produce(1, 4);
    auto beyond = p(1).on_follower_fetch(
        follower_fetch{node_id(2), offset(9), model::no_leader_epoch, leader_epoch(1)}, now());
    EXPECT_EQ(beyond.error, kafka_error::offset_out_of_range);
    ASSERT_TRUE(n(1).log->set_log_start_offset(offset(2)));
    auto below = p(1).on_follower_fetch(
        follower_fetch{node_id(2), offset(1), model::no_leader_epoch, leader_epoch(1)}, now());
    EXPECT_EQ(below.error, kafka_error::offset_out_of_range);
    EXPECT_FALSE(p(1).follower_end_offset(node_id(2)));
}

TEST_F(partition_fixture, follower_far_behind_restarts_at_the_leader_log_start) {
    elect(1, 1, {1, 2});
    produce(1, 3);
    produce(1, 3);
    ASSERT_TRUE(n(1).log->set_log_start_offset(offset(3)));
    catch_up(2);
    EXPECT_EQ(p(2).log().log_start_offset(), offset(3));
    EXPECT_EQ(layout(*n(2).log), layout(*n(1).log));
}

TEST_F(partition_fixture, diverging_epoch_truncates_the_follower_suffix) {
    // Replica 2 led epoch 2 and wrote 3 records nobody else got; replica 1 leads epoch 3.
    put(1, 0, 5, 1);
    put(2, 0, 5, 1);
    put(2, 5, 3, 2);
    elect(1, 3, {1, 2});
    produce(1, 4);
    auto pos = p(2).next_fetch();
    EXPECT_EQ(pos.last_fetched_epoch, leader_epoch(2));
    auto d = p(1).on_follower_fetch(fetch_of(node_id(2), pos), now());
    ASSERT_TRUE(d.diverging);
    EXPECT_EQ(*d.diverging, (storage::epoch_entry{leader_epoch(1), offset(5)}));
    EXPECT_FALSE(p(1).follower_end_offset(node_id(2))) << "a diverging follower is not counted";
    auto prog = fetch(2);
    EXPECT_TRUE(prog.truncated);
    EXPECT_EQ(prog.committed_truncated, 0) << "only records above its high watermark went";
    EXPECT_EQ(p(2).log_end_offset(), offset(5));
    catch_up(2);
    EXPECT_EQ(layout(*n(2).log), layout(*n(1).log));
}

TEST_F(partition_fixture,
       follower_truncates_in_several_rounds_through_epochs_the_leader_never_had) {
    // Follower 2: epoch 1 [0,3), epoch 2 [3,6), epoch 4 [6,8). Leader 1: epoch 1 [0,3),
    // epoch 3 [3,9), then leads epoch 5 from 9.
    put(2, 0, 3, 1);
    put(2, 3, 3, 2);
    put(2, 6, 2, 4);
    put(1, 0, 3, 1);
    put(1, 3, 6, 3);
    elect(1, 5, {1, 2});
    produce(1, 2);
    int truncations = 0;
    for (int i = 0; i < 10 && p(2).log_end_offset() != p(1).log_end_offset(); ++i) {
        truncations += fetch(2).truncated ? 1 : 0;
    }
    EXPECT_EQ(truncations, 2) << "8 -> 6 (end of its epoch 2), then 6 -> 3 (end of epoch 1)";
    EXPECT_EQ(layout(*n(2).log), layout(*n(1).log));
    EXPECT_EQ(p(2).log().epochs().entries(), p(1).log().epochs().entries());
}

TEST_F(partition_fixture, a_follower_counts_the_acknowledged_records_an_unclean_leader_lacked) {
    six_records_replicated_to_2();
    ASSERT_EQ(p(2).high_watermark(), offset(6)) << "replica 2 knows all 6 were acknowledged";
    fetch(3, 1);
    ASSERT_EQ(p(3).log_end_offset(), offset(2)) << "replica 3, out of the ISR, has 2";
    // Replicas 1 and 2 are gone; 3 is elected from outside the ISR (leader_recovery_state 1).
    const auto hw_known_to_3 = p(3).high_watermark();
    auto s = state(3, 2, {3});
    s.recovering = true;
    p(3).become_leader(s, now());
    p(2).become_follower(s, now());
    // The receipts the controller journals: 3 took over at its log end of 2 ...
    EXPECT_EQ(p(3).take_loss_receipts(),
              (std::vector<loss_receipt>{
                  {true, s.leader_epoch, offset(2), hw_known_to_3, model::no_offset}}));
    EXPECT_TRUE(p(3).take_loss_receipts().empty()) << "each receipt is taken once";
    produce(3, 1);
    auto prog = fetch(2);
    EXPECT_TRUE(prog.truncated);
    EXPECT_EQ(prog.committed_truncated, 4) << "offsets 2 to 5 were acknowledged and are gone";
    EXPECT_EQ(p(2).log_end_offset(), offset(2));
    // ... and 2 cut [2, 6), all acknowledged, from its log ending at 6.
    EXPECT_EQ(
        p(2).take_loss_receipts(),
        (std::vector<loss_receipt>{{false, s.leader_epoch, offset(6), offset(6), offset(2)}}));
    catch_up(2);
    EXPECT_EQ(layout(*n(2).log), layout(*n(3).log));
    EXPECT_EQ(fetch(2).committed_truncated, 0);
    EXPECT_TRUE(p(2).take_loss_receipts().empty()) << "an ordinary follower gives none";
    // A clean re-election of the same leader gives no receipt.
    auto clean = state(3, 3, {3, 2});
    p(3).become_leader(clean, now());
    EXPECT_TRUE(p(3).take_loss_receipts().empty());
}

TEST_F(partition_fixture, follower_high_watermark_is_capped_by_its_own_log_end) {
    six_records_replicated_to_2();
    ASSERT_EQ(p(1).high_watermark(), offset(6));
    // Replica 3 joins late and gets one batch per fetch while the leader's HW is 6.
    fetch(3, 1);
    EXPECT_EQ(p(3).log_end_offset(), offset(2));
    EXPECT_EQ(p(3).high_watermark(), offset(2));
    fetch(3, 1);
    EXPECT_EQ(p(3).high_watermark(), offset(4));
    EXPECT_LE(p(3).high_watermark(), p(3).log_end_offset());
}

TEST_F(partition_fixture, deposed_leader_that_wrote_nothing_in_its_epoch_catches_up) {
    // Replica 1 leads epoch 1 and everyone gets 5 records; then it leads epoch 2 (starting at
    // 5) without writing anything before replica 2 takes over in epoch 3.
    elect(1, 1, {1, 2, 3});
    produce(1, 5);
    catch_up(2);
    catch_up(3);
    elect(1, 2, {1, 2, 3});
    elect(2, 3, {1, 2, 3});
    produce(2, 3);
    for (int i = 0; i < 10 && p(1).log_end_offset() != p(2).log_end_offset(); ++i) {
        fetch(1);
    }
    EXPECT_EQ(p(1).log_end_offset(), offset(8)) << "the empty epoch 2 must not block fetching";
    EXPECT_EQ(layout(*n(1).log), layout(*n(2).log));
}

// An idle replica's replication state stays in the allocator's 320-byte class (see
// storage's log_memory test: memory counts at a million partitions).
#if defined(__x86_64__) && defined(__GLIBCXX__)
TEST(partition_memory, stays_in_its_size_class) {
    EXPECT_LE(sizeof(partition), 320U);
}
#endif

}  // namespace
}  // namespace gregor::replication

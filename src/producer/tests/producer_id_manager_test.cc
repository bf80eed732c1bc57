// Goal: producer_id_manager hands out ids the way Kafka's RPCProducerIdManager does: in
// order from the current block of 1000, claiming the next block once 90 % are handed out,
// COORDINATOR_LOAD_IN_PROGRESS while no block is available and ids again once one arrives,
// failed claims retried with a doubling, capped backoff (on its own timer a bounded number
// of times, then only on demand), exhaustion as a permanent error, and never an id twice.
// Method: the manager is sans-IO; the tests play its driver with a virtual clock and check
// the effects of every call. A seeded random schedule of successes and failures checks that
// ids only ever increase.
#include "producer/producer_id_manager.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>

namespace gregor::producer {
namespace {

using namespace std::chrono_literals;
using model::kafka_error;
using model::producer_id;

const effects no_effects{};
const effects claim_now{claim_block{}};

id_block block(std::int64_t first) {
    return {producer_id{first}, producer_id{first + block_size - 1}};
}

struct producer_id_manager_test : ::testing::Test {
    time_point now = time_point{} + 1h;
    producer_id_manager m;

    // Hands out `count` ids that must all succeed, in order from `first`; no effects.
    void expect_ids(std::int64_t first, std::int64_t count) {
        for (std::int64_t i = 0; i < count; ++i) {
            allocation a = m.allocate(now);
            ASSERT_EQ(a.error, kafka_error::none) << "id " << first + i;
            ASSERT_EQ(a.id, producer_id{first + i});
            ASSERT_EQ(a.asks, no_effects) << "id " << first + i;
        }
    }
};

TEST_F(producer_id_manager_test, start_claims_the_first_block_and_requests_wait_for_it) {
    EXPECT_EQ(m.start(now), claim_now);
    allocation early = m.allocate(now);
    EXPECT_EQ(early.error, kafka_error::coordinator_load_in_progress);
    EXPECT_EQ(early.asks, no_effects);  // the claim is already in flight
    EXPECT_EQ(m.on_claimed(block(0), now), no_effects);
    expect_ids(0, 10);
}

TEST_F(producer_id_manager_test, hands_out_a_block_in_order_and_prefetches_at_90_percent) {
    ASSERT_EQ(m.start(now), claim_now);
    ASSERT_EQ(m.on_claimed(block(0), now), no_effects);
    expect_ids(0, 900);  // ids 0..899: no claim yet
    allocation at_threshold = m.allocate(now);
    EXPECT_EQ(at_threshold.id, producer_id{900});
    EXPECT_EQ(at_threshold.asks, claim_now);  // Kafka's prefetch target: first + 900
    EXPECT_TRUE(m.claim_in_flight());
    expect_ids(901, 50);
    EXPECT_EQ(m.on_claimed(block(1000), now), no_effects);
    EXPECT_EQ(m.next(), block(1000));
    expect_ids(951, 49);  // the rest of the first block
    expect_ids(1000, 900);
    EXPECT_EQ(m.allocate(now).asks, claim_now);
    EXPECT_EQ(m.current(), block(1000));
}

TEST_F(producer_id_manager_test,
       a_used_up_block_without_a_successor_answers_load_in_progress_then_recovers) {
    ASSERT_EQ(m.start(now), claim_now);
    ASSERT_EQ(m.on_claimed(block(0), now), no_effects);
    expect_ids(0, 900);
    ASSERT_EQ(m.allocate(now).asks, claim_now);  // the prefetch is slow
    expect_ids(901, 99);
    for (int i = 0; i < 3; ++i) {
        allocation a = m.allocate(now);
        EXPECT_EQ(a.error, kafka_error::coordinator_load_in_progress);
        EXPECT_EQ(a.id, producer_id{-1});
        EXPECT_EQ(a.asks, no_effects);
    }
    EXPECT_EQ(m.on_claimed(block(5000), now), no_effects);  // another broker took 1000..4999
    expect_ids(5000, 3);
}

TEST_F(producer_id_manager_test, failed_claims_back_off_doubling_up_to_the_cap) {
    ASSERT_EQ(m.start(now), claim_now);
    std::chrono::milliseconds expected = 50ms;
    for (int i = 0; i < 12; ++i) {
        effects asks = m.on_claim_failed(claim_failure::retriable, now);
        ASSERT_EQ(asks, effects{wake_at{now + expected}}) << "failure " << i + 1;
        // A request during the backoff neither gets an id nor starts a claim.
        allocation waiting = m.allocate(now);
        EXPECT_EQ(waiting.error, kafka_error::coordinator_load_in_progress);
        EXPECT_EQ(waiting.asks, no_effects);
        // A timer firing early asks to be armed again.
        EXPECT_EQ(m.on_time(now + expected - 1ms), effects{wake_at{now + expected}});
        now += expected;
        ASSERT_EQ(m.on_time(now), claim_now);
        expected = std::min<std::chrono::milliseconds>(expected * 2, 10'000ms);
    }
    EXPECT_EQ(m.consecutive_failures(), 12);
    EXPECT_EQ(m.on_claimed(block(0), now), no_effects);
    EXPECT_EQ(m.consecutive_failures(), 0);
    expect_ids(0, 1);
}

TEST_F(producer_id_manager_test, timed_retries_are_bounded_then_requests_start_claims) {
    producer_id_manager bounded(
        manager_config{.retry_backoff = 50ms, .retry_backoff_max = 200ms, .timed_retries_max = 3});
    ASSERT_EQ(bounded.start(now), claim_now);
    for (int i = 0; i < 3; ++i) {
        effects asks = bounded.on_claim_failed(claim_failure::retriable, now);
        ASSERT_EQ(asks.size(), 1u);
        now = std::get<wake_at>(asks[0]).at;
        ASSERT_EQ(bounded.on_time(now), claim_now);
    }
    // The fourth failure arms nothing: ZooKeeper is down for long, nobody asks.
    EXPECT_EQ(bounded.on_claim_failed(claim_failure::retriable, now), no_effects);
    EXPECT_EQ(bounded.allocate(now + 100ms).asks, no_effects);  // still backing off (200 ms)
    allocation later = bounded.allocate(now + 200ms);
    EXPECT_EQ(later.error, kafka_error::coordinator_load_in_progress);
    EXPECT_EQ(later.asks, claim_now);  // demand retries, at most once per backoff
    EXPECT_EQ(bounded.on_claim_failed(claim_failure::retriable, now + 200ms), no_effects);
    EXPECT_EQ(bounded.allocate(now + 300ms).asks, no_effects);
    EXPECT_EQ(bounded.allocate(now + 400ms).asks, claim_now);
    EXPECT_EQ(bounded.on_claimed(block(0), now + 400ms), no_effects);
    EXPECT_EQ(bounded.allocate(now + 400ms).id, producer_id{0});
}

TEST_F(producer_id_manager_test, a_failed_prefetch_is_retried_while_ids_are_still_handed_out) {
    ASSERT_EQ(m.start(now), claim_now);
    ASSERT_EQ(m.on_claimed(block(0), now), no_effects);
    expect_ids(0, 900);
    ASSERT_EQ(m.allocate(now).asks, claim_now);
    ASSERT_EQ(m.on_claim_failed(claim_failure::retriable, now), effects{wake_at{now + 50ms}});
    expect_ids(901, 10);  // the current block keeps serving
    now += 50ms;
    EXPECT_EQ(m.on_time(now), claim_now);
    EXPECT_EQ(m.on_claimed(block(1000), now), no_effects);
    expect_ids(911, 89);
    expect_ids(1000, 1);
}

TEST_F(producer_id_manager_test,
       exhaustion_stops_claims_and_answers_unknown_server_error_after_the_block) {
    ASSERT_EQ(m.start(now), claim_now);
    ASSERT_EQ(m.on_claimed(block(0), now), no_effects);
    expect_ids(0, 900);
    ASSERT_EQ(m.allocate(now).asks, claim_now);
    EXPECT_EQ(m.on_claim_failed(claim_failure::exhausted, now), no_effects);
    EXPECT_TRUE(m.exhausted());
    expect_ids(901, 99);
    for (int i = 0; i < 3; ++i) {
        allocation a = m.allocate(now + std::chrono::hours(i));
        EXPECT_EQ(a.error, kafka_error::unknown_server_error);
        EXPECT_EQ(a.asks, no_effects);
    }
    EXPECT_EQ(m.on_time(now + 1h), no_effects);
}

TEST_F(producer_id_manager_test, a_block_below_ids_already_claimed_is_refused_and_retried) {
    ASSERT_EQ(m.start(now), claim_now);
    ASSERT_EQ(m.on_claimed(block(2000), now), no_effects);
    expect_ids(2000, 900);
    ASSERT_EQ(m.allocate(now).asks, claim_now);
    // Someone rewrote the znode backwards: the overlapping block is not used.
    EXPECT_EQ(m.on_claimed(block(1500), now), effects{wake_at{now + 50ms}});
    EXPECT_FALSE(m.next().has_value());
    now += 50ms;
    ASSERT_EQ(m.on_time(now), claim_now);
    EXPECT_EQ(m.on_claimed(block(3000), now), no_effects);
    expect_ids(2901, 99);
    expect_ids(3000, 1);
}

TEST_F(producer_id_manager_test,
       a_block_at_the_end_of_the_id_space_is_handed_out_without_overflow) {
    constexpr std::int64_t last = std::numeric_limits<std::int64_t>::max();
    ASSERT_EQ(m.start(now), claim_now);
    ASSERT_EQ(m.on_claimed({producer_id{last - 999}, producer_id{last}}, now), no_effects);
    expect_ids(last - 999, 900);
    ASSERT_EQ(m.allocate(now).asks, claim_now);
    ASSERT_EQ(m.on_claim_failed(claim_failure::exhausted, now), no_effects);
    expect_ids(last - 98, 99);
    EXPECT_EQ(m.allocate(now).error, kafka_error::unknown_server_error);
}

// Random interleavings of requests, slow claims, failures and timer firings: every id
// handed out is larger than the one before, so none repeats.
TEST(producer_id_manager_property, ids_strictly_increase_under_any_schedule) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        producer_id_manager m(manager_config{.timed_retries_max = 4});
        time_point now{};
        std::int64_t znode_end = -1;  // the newest block "in ZooKeeper"
        bool claim_pending = false;
        auto absorb = [&](const effects& asks) {
            for (const effect& e : asks) {
                if (std::holds_alternative<claim_block>(e)) {
                    ASSERT_FALSE(claim_pending) << "seed " << seed << ": two claims in flight";
                    claim_pending = true;
                }
            }
        };
        absorb(m.start(now));
        std::int64_t last = -1;
        std::set<std::int64_t> seen;
        for (int step = 0; step < 10'000; ++step) {
            now += std::chrono::milliseconds(rng() % 20);
            int dice = static_cast<int>(rng() % 100);
            if (claim_pending && dice < 3) {
                claim_pending = false;
                if (rng() % 3 == 0) {
                    absorb(m.on_claim_failed(claim_failure::retriable, now));
                } else {
                    // Other brokers may have claimed blocks in between.
                    znode_end += block_size * static_cast<std::int64_t>(1 + rng() % 3);
                    absorb(m.on_claimed(block(znode_end - block_size + 1), now));
                }
            } else if (dice < 6) {
                absorb(m.on_time(now));
            } else {
                allocation a = m.allocate(now);
                absorb(a.asks);
                if (a.error == kafka_error::none) {
                    ASSERT_GT(a.id(), last) << "seed " << seed << " step " << step;
                    ASSERT_TRUE(seen.insert(a.id()).second);
                    last = a.id();
                } else {
                    ASSERT_EQ(a.error, kafka_error::coordinator_load_in_progress);
                }
            }
        }
        EXPECT_GT(seen.size(), 1000u) << "seed " << seed;
    }
}

}  // namespace
}  // namespace gregor::producer

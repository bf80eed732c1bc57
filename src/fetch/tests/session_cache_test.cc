// Goal: the leader's fetch sessions behave as Kafka's FetchManager and FetchSessionCache
// (KIP-227): full fetches create sessions from epoch 1, incremental ones are checked by id
// and epoch and update the session (added, changed, forgotten partitions), an incremental
// answer carries only partitions whose state the fetcher was not told, an emptied session
// closes, and a full cache makes room by Kafka's eviction rules (stale first, then the least
// valuable evictable session) or refuses. gregor's own bounds (cached partitions, expiry of
// unused sessions) hold.
// Method: the cache is sans-IO; the tests build Fetch requests and answers by hand and pass
// the time.
#include "fetch/session_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace gregor::fetch {
namespace {

using namespace std::chrono_literals;
using model::kafka_error;
using model::offset;
using request = protocol::fetch_request;
using response = protocol::fetch_response;

struct named {
    std::string topic;
    std::int32_t partition;
    std::int64_t fetch_offset = 0;
};

request fetch(std::int32_t id, std::int32_t epoch, const std::vector<named>& parts,
              const std::vector<std::pair<std::string, std::int32_t>>& forget = {}) {
    request r;
    r.session_id = id;
    r.session_epoch = epoch;
    for (const auto& n : parts) {
        if (r.topics.empty() || r.topics.back().topic != n.topic) {
            r.topics.emplace_back().topic = n.topic;
        }
        auto& p = r.topics.back().partitions.emplace_back();
        p.partition = model::partition_id(n.partition);
        p.fetch_offset = offset(n.fetch_offset);
        p.partition_max_bytes = 1024;
    }
    for (const auto& [topic, partition] : forget) {
        if (r.forgotten_topics_data.empty() || r.forgotten_topics_data.back().topic != topic) {
            r.forgotten_topics_data.emplace_back().topic = topic;
        }
        r.forgotten_topics_data.back().partitions.push_back(model::partition_id(partition));
    }
    return r;
}

partition_data answer(std::int32_t partition, std::int64_t hw) {
    partition_data d;
    d.partition_index = model::partition_id(partition);
    d.high_watermark = offset(hw);
    d.last_stable_offset = offset(hw);
    d.log_start_offset = offset(0);
    d.records = protocol::records_ref{};
    return d;
}

// The answer to a full request: every partition at high watermark `hw`.
response answer_all(const request& req, std::int64_t hw) {
    response r;
    for (const auto& t : req.topics) {
        auto& rt = r.responses.emplace_back();
        rt.topic = t.topic;
        for (const auto& p : t.partitions) {
            rt.partitions.push_back(answer(p.partition(), hw));
        }
    }
    return r;
}

model::topic_partition tp(const std::string& topic, std::int32_t p) {
    return {topic, model::partition_id(p)};
}

struct session_cache_test : ::testing::Test {
    clock::time_point now = clock::time_point{} + 1h;
    session_cache cache{cache_config{}, 42};

    // A session created by a full fetch of `parts`, every partition told high watermark 10.
    std::int32_t open_session(const std::vector<named>& parts, bool follower = true) {
        request req = fetch(no_session, initial_epoch, parts);
        context c = cache.open(req, now);
        EXPECT_EQ(c.mode, context::kind::full);
        return cache.create(req, answer_all(req, 10), follower, now);
    }
};

TEST_F(session_cache_test, a_fetch_without_session_fields_creates_no_session) {
    context c = cache.open(fetch(no_session, final_epoch, {{"a", 0}}), now);
    EXPECT_EQ(c.mode, context::kind::sessionless);
    EXPECT_EQ(c.error, kafka_error::none);
    EXPECT_EQ(cache.sessions(), 0u);
}

TEST_F(session_cache_test, a_full_fetch_creates_a_session_whose_epochs_then_advance) {
    std::int32_t id = open_session({{"a", 0}, {"a", 1}, {"b", 0}});
    ASSERT_NE(id, no_session);
    EXPECT_EQ(cache.sessions(), 1u);
    EXPECT_EQ(cache.partitions(), 3u);

    context c = cache.open(fetch(id, 1, {}), now);
    ASSERT_EQ(c.mode, context::kind::incremental);
    ASSERT_EQ(c.error, kafka_error::none);
    EXPECT_EQ(c.incremental->size(), 3u);
    EXPECT_EQ(c.incremental->epoch(), 2);
    // A request repeated with the epoch already used is refused; the session stays.
    EXPECT_EQ(cache.open(fetch(id, 1, {}), now).error, kafka_error::invalid_fetch_session_epoch);
    EXPECT_EQ(cache.open(fetch(id, 2, {}), now).mode, context::kind::incremental);
}

TEST_F(session_cache_test, an_unknown_session_is_not_found) {
    context c = cache.open(fetch(12345, 1, {{"a", 0}}), now);
    EXPECT_EQ(c.error, kafka_error::fetch_session_id_not_found);
    EXPECT_EQ(c.incremental, nullptr);
}

TEST_F(session_cache_test, the_epoch_wraps_to_one) {
    EXPECT_EQ(next_epoch(1), 2);
    EXPECT_EQ(next_epoch(std::numeric_limits<std::int32_t>::max()), 1);
    EXPECT_EQ(next_epoch(final_epoch), final_epoch);
}

TEST_F(session_cache_test, an_incremental_answer_carries_only_what_the_fetcher_was_not_told) {
    std::int32_t id = open_session({{"a", 0}});
    context c = cache.open(fetch(id, 1, {}), now);
    const session_partition& p = c.incremental->in_round(0);
    EXPECT_FALSE(session::must_answer(p, answer(0, 10)));
    EXPECT_TRUE(session::must_answer(p, answer(0, 11)));
    partition_data moved_start = answer(0, 10);
    moved_start.log_start_offset = offset(5);
    EXPECT_TRUE(session::must_answer(p, moved_start));
    partition_data error = answer(0, 10);
    error.error_code = 6;
    EXPECT_TRUE(session::must_answer(p, error));
    partition_data diverging = answer(0, 10);
    diverging.diverging_epoch.epoch = 3;
    EXPECT_TRUE(session::must_answer(p, diverging));
    partition_data records = answer(0, 10);
    records.records = protocol::records_ref::copy_of(bytes(61, 0));
    EXPECT_TRUE(session::must_answer(p, records));
}

TEST_F(session_cache_test, an_answered_error_is_told_again_once_gone) {
    std::int32_t id = open_session({{"a", 0}});
    context c = cache.open(fetch(id, 1, {}), now);
    response r;
    r.responses.emplace_back().topic = "a";
    partition_data error = answer(0, 10);
    error.error_code = 6;
    r.responses.back().partitions.push_back(error);
    c.incremental->answered(r);
    // Same high watermark as before the error: still carried, once.
    EXPECT_TRUE(session::must_answer(c.incremental->in_round(0), answer(0, 10)));
    response fine;
    fine.responses.emplace_back().topic = "a";
    fine.responses.back().partitions.push_back(answer(0, 10));
    c.incremental->answered(fine);
    EXPECT_FALSE(session::must_answer(c.incremental->in_round(0), answer(0, 10)));
}

TEST_F(session_cache_test, an_incremental_request_adds_changes_and_forgets_partitions) {
    std::int32_t id = open_session({{"a", 0}, {"a", 1}, {"b", 0}});
    context c = cache.open(fetch(id, 1, {{"a", 1, 50}, {"c", 0, 7}}, {{"b", 0}}), now);
    ASSERT_EQ(c.mode, context::kind::incremental);
    const session& s = *c.incremental;
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(cache.partitions(), 3u);
    EXPECT_EQ(s.find(tp("b", 0)), nullptr);
    ASSERT_NE(s.find(tp("a", 1)), nullptr);
    EXPECT_EQ(s.find(tp("a", 1))->fetch.fetch_offset, offset(50));
    ASSERT_NE(s.find(tp("c", 0)), nullptr);
    EXPECT_EQ(s.find(tp("c", 0))->fetch.fetch_offset, offset(7));
    // Added and changed partitions are answered next; the unchanged one is not.
    EXPECT_TRUE(session::must_answer(*s.find(tp("c", 0)), answer(0, 10)));
    EXPECT_TRUE(session::must_answer(*s.find(tp("a", 1)), answer(1, 10)));
    EXPECT_FALSE(session::must_answer(*s.find(tp("a", 0)), answer(0, 10)));
    // The round visits each partition once, in partition order.
    EXPECT_EQ(s.in_round(0).tp, tp("a", 0));
    EXPECT_EQ(s.in_round(1).tp, tp("a", 1));
    EXPECT_EQ(s.in_round(2).tp, tp("c", 0));
}

TEST_F(session_cache_test, a_partition_named_twice_keeps_its_last_position) {
    request req = fetch(no_session, initial_epoch, {{"a", 0, 1}, {"a", 0, 2}});
    cache.open(req, now);
    std::int32_t id = cache.create(req, answer_all(req, 10), true, now);
    context c = cache.open(fetch(id, 1, {{"b", 0, 3}, {"b", 0, 4}}), now);
    ASSERT_EQ(c.incremental->size(), 2u);
    EXPECT_EQ(c.incremental->find(tp("a", 0))->fetch.fetch_offset, offset(2));
    EXPECT_EQ(c.incremental->find(tp("b", 0))->fetch.fetch_offset, offset(4));
}

TEST_F(session_cache_test, a_request_that_empties_its_session_closes_it) {
    std::int32_t id = open_session({{"a", 0}});
    context c = cache.open(fetch(id, 1, {}, {{"a", 0}}), now);
    EXPECT_EQ(c.mode, context::kind::sessionless);
    EXPECT_EQ(c.error, kafka_error::none);
    EXPECT_EQ(cache.sessions(), 0u);
    EXPECT_EQ(cache.partitions(), 0u);
}

TEST_F(session_cache_test, a_full_request_closes_the_session_it_names) {
    std::int32_t id = open_session({{"a", 0}});
    EXPECT_EQ(cache.open(fetch(id, initial_epoch, {{"a", 0}}), now).mode, context::kind::full);
    EXPECT_EQ(cache.sessions(), 0u);
    std::int32_t other = open_session({{"a", 0}});
    EXPECT_EQ(cache.open(fetch(other, final_epoch, {{"a", 0}}), now).mode,
              context::kind::sessionless);
    EXPECT_EQ(cache.sessions(), 0u);
    EXPECT_EQ(cache.open(fetch(other, 1, {}), now).error, kafka_error::fetch_session_id_not_found);
}

TEST_F(session_cache_test, the_round_starts_after_the_last_partition_that_returned_records) {
    std::int32_t id = open_session({{"a", 0}, {"a", 1}, {"a", 2}});
    context c = cache.open(fetch(id, 1, {}), now);
    response r;
    r.responses.emplace_back().topic = "a";
    partition_data d = answer(1, 11);
    d.records = protocol::records_ref::copy_of(bytes(61, 0));
    r.responses.back().partitions.push_back(d);
    c.incremental->answered(r);
    EXPECT_EQ(c.incremental->in_round(0).tp, tp("a", 2));
    EXPECT_EQ(c.incremental->in_round(1).tp, tp("a", 0));
    EXPECT_EQ(c.incremental->in_round(2).tp, tp("a", 1));
}

TEST_F(session_cache_test, a_full_cache_lets_a_follower_evict_a_consumer_but_not_a_consumer) {
    session_cache small{cache_config{.max_slots = 2}, 7};
    auto create = [&](const std::vector<named>& parts, bool follower) {
        request req = fetch(no_session, initial_epoch, parts);
        small.open(req, now);
        return small.create(req, answer_all(req, 10), follower, now);
    };
    std::int32_t big_consumer = create({{"a", 0}, {"a", 1}}, false);
    std::int32_t small_consumer = create({{"b", 0}}, false);
    ASSERT_NE(big_consumer, no_session);
    ASSERT_NE(small_consumer, no_session);
    // Young consumer sessions: another consumer, however large, gets none.
    EXPECT_EQ(create({{"c", 0}, {"c", 1}, {"c", 2}}, false), no_session);
    EXPECT_EQ(small.evictions(), 0u);
    // A follower takes the smallest consumer session's slot.
    std::int32_t follower = create({{"d", 0}}, true);
    EXPECT_NE(follower, no_session);
    EXPECT_EQ(small.evictions(), 1u);
    EXPECT_EQ(small.open(fetch(small_consumer, 1, {}), now).error,
              kafka_error::fetch_session_id_not_found);
    EXPECT_EQ(small.open(fetch(big_consumer, 1, {}), now).mode, context::kind::incremental);
    // Followers' young sessions are safe from another follower.
    now += 1min;
    EXPECT_EQ(small.open(fetch(follower, 1, {}), now).mode, context::kind::incremental);
    EXPECT_EQ(small.open(fetch(big_consumer, 2, {}), now).mode, context::kind::incremental);
    EXPECT_EQ(create({{"e", 0}}, false), no_session);
    // Once sessions are older than the eviction time, a larger one takes a smaller's slot.
    now += 2min;
    EXPECT_EQ(small.open(fetch(follower, 2, {}), now).mode, context::kind::incremental);
    EXPECT_EQ(small.open(fetch(big_consumer, 3, {}), now).mode, context::kind::incremental);
    EXPECT_EQ(create({{"f", 0}}, false), no_session);  // (consumer, 1) < (consumer, 2)
    EXPECT_NE(create({{"g", 0}, {"g", 1}, {"g", 2}}, false), no_session);
    EXPECT_EQ(small.sessions(), 2u);
}

TEST_F(session_cache_test, a_stale_session_gives_its_slot_to_any_new_one) {
    session_cache small{cache_config{.max_slots = 1}, 7};
    request req = fetch(no_session, initial_epoch, {{"a", 0}, {"a", 1}});
    small.open(req, now);
    std::int32_t follower = small.create(req, answer_all(req, 10), true, now);
    ASSERT_NE(follower, no_session);
    now += 2min + 1s;
    request other = fetch(no_session, initial_epoch, {{"b", 0}});
    EXPECT_NE(small.create(other, answer_all(other, 1), false, now), no_session);
    EXPECT_EQ(small.evictions(), 1u);
}

TEST_F(session_cache_test, no_slots_means_no_sessions) {
    session_cache none{cache_config{.max_slots = 0}, 7};
    request req = fetch(no_session, initial_epoch, {{"a", 0}});
    EXPECT_EQ(none.open(req, now).mode, context::kind::full);
    EXPECT_EQ(none.create(req, answer_all(req, 10), true, now), no_session);
}

TEST_F(session_cache_test, the_cached_partitions_stay_within_their_bound) {
    session_cache bounded{cache_config{.max_partitions = 3}, 7};
    request four = fetch(no_session, initial_epoch, {{"a", 0}, {"a", 1}, {"a", 2}, {"a", 3}});
    EXPECT_EQ(bounded.create(four, answer_all(four, 1), true, now), no_session);
    request two = fetch(no_session, initial_epoch, {{"a", 0}, {"a", 1}});
    std::int32_t id = bounded.create(two, answer_all(two, 1), true, now);
    ASSERT_NE(id, no_session);
    // Growing past the bound closes the session; the request is answered on its own.
    context c = bounded.open(fetch(id, 1, {{"b", 0}, {"b", 1}}), now);
    EXPECT_EQ(c.mode, context::kind::sessionless);
    EXPECT_EQ(bounded.sessions(), 0u);
    EXPECT_EQ(bounded.partitions(), 0u);
}

TEST_F(session_cache_test, an_unused_session_expires) {
    std::int32_t gone = open_session({{"a", 0}});
    now += 1min;
    std::int32_t used = open_session({{"b", 0}});
    now += 1min + 30s;
    ASSERT_EQ(cache.open(fetch(used, 1, {}), now).mode, context::kind::incremental);
    EXPECT_EQ(cache.sessions(), 1u);
    EXPECT_EQ(cache.partitions(), 1u);
    EXPECT_EQ(cache.open(fetch(gone, 1, {}), now).error, kafka_error::fetch_session_id_not_found);
}

}  // namespace
}  // namespace gregor::fetch

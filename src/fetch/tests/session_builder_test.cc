// Goal: the fetcher's side of fetch sessions behaves as Kafka's FetchSessionHandler: a full
// request first, incremental ones naming only added or changed partitions and forgetting
// skipped ones once the leader gave a session, and back to a full request after any error
// (closing the old session unless the leader said it was not found). Above all, the
// leader's session always holds exactly the partitions, at the positions, that the fetcher
// believes it does, whatever the mix of rounds, errors and lost answers.
// Method: unit cases on hand-built answers; then a seeded random schedule that drives the
// builder against the real session_cache and compares both sides after every round.
#include "fetch/session_builder.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace gregor::fetch {
namespace {

using model::kafka_error;
using model::offset;
using request = protocol::fetch_request;
using response = protocol::fetch_response;

model::topic_partition tp(const std::string& topic, std::int32_t p) {
    return {topic, model::partition_id(p)};
}

partition_fetch at(std::int64_t o) {
    partition_fetch f;
    f.fetch_offset = offset(o);
    f.max_bytes = 1024;
    return f;
}

std::size_t named(const request& r) {
    std::size_t n = 0;
    for (const auto& t : r.topics) {
        n += t.partitions.size();
    }
    return n;
}

std::size_t forgotten(const request& r) {
    std::size_t n = 0;
    for (const auto& t : r.forgotten_topics_data) {
        n += t.partitions.size();
    }
    return n;
}

response with_session(std::int32_t id, kafka_error e = kafka_error::none) {
    response r;
    r.session_id = id;
    r.error_code = model::to_wire(e);
    return r;
}

struct session_builder_test : ::testing::Test {
    session_builder b;
    std::map<model::topic_partition, sent_partition> sent;

    // One round: `positions` fetched, every other known partition skipped.
    request round(const std::map<model::topic_partition, partition_fetch>& positions) {
        request r;
        b.begin(r);
        for (const auto& [p, f] : positions) {
            sent[p];
        }
        for (auto& [p, s] : sent) {
            if (auto it = positions.find(p); it != positions.end()) {
                b.fetch(r, p, it->second, s);
            } else {
                b.skip(r, p, s);
            }
        }
        return r;
    }

    // A full round answered with session 77, then one incremental round (not yet answered).
    void in_session(const std::map<model::topic_partition, partition_fetch>& positions) {
        round(positions);
        b.on_response(with_session(77));
        round(positions);
    }
};

TEST_F(session_builder_test, the_first_request_is_full_and_asks_for_a_session) {
    request r = round({{tp("a", 0), at(0)}, {tp("a", 1), at(5)}, {tp("b", 0), at(0)}});
    EXPECT_EQ(r.session_id, no_session);
    EXPECT_EQ(r.session_epoch, initial_epoch);
    EXPECT_EQ(named(r), 3u);
    ASSERT_EQ(r.topics.size(), 2u);  // one entry per topic
    EXPECT_EQ(r.topics[0].partitions[1].fetch_offset, offset(5));
}

TEST_F(session_builder_test, within_a_session_only_changes_are_named) {
    std::map<model::topic_partition, partition_fetch> now{
        {tp("a", 0), at(0)}, {tp("a", 1), at(5)}, {tp("b", 0), at(0)}};
    round(now);
    b.on_response(with_session(77));
    request idle = round(now);
    EXPECT_EQ(idle.session_id, 77);
    EXPECT_EQ(idle.session_epoch, 1);
    EXPECT_EQ(named(idle), 0u);
    EXPECT_EQ(forgotten(idle), 0u);
    b.on_response(with_session(77));

    now[tp("a", 1)] = at(9);  // records appended
    now.erase(tp("b", 0));    // resting
    request changed = round(now);
    EXPECT_EQ(changed.session_epoch, 2);
    ASSERT_EQ(named(changed), 1u);
    EXPECT_EQ(changed.topics[0].partitions[0].fetch_offset, offset(9));
    ASSERT_EQ(forgotten(changed), 1u);
    EXPECT_EQ(changed.forgotten_topics_data[0].topic, "b");
    b.on_response(with_session(77));

    now[tp("b", 0)] = at(0);  // back
    request back = round(now);
    EXPECT_EQ(back.session_epoch, 3);
    EXPECT_EQ(named(back), 1u);
    EXPECT_EQ(back.topics[0].topic, "b");
}

TEST_F(session_builder_test, a_lost_session_starts_over_with_a_full_request) {
    std::map<model::topic_partition, partition_fetch> now{{tp("a", 0), at(0)}};
    in_session(now);
    b.on_response(with_session(0, kafka_error::fetch_session_id_not_found));
    request r = round(now);
    EXPECT_EQ(r.session_id, no_session);
    EXPECT_EQ(r.session_epoch, initial_epoch);
    EXPECT_EQ(named(r), 1u);
}

TEST_F(session_builder_test, a_wrong_epoch_or_a_failure_closes_the_session_with_a_full_request) {
    std::map<model::topic_partition, partition_fetch> now{{tp("a", 0), at(0)}};
    in_session(now);
    b.on_response(with_session(0, kafka_error::invalid_fetch_session_epoch));
    request r = round(now);
    EXPECT_EQ(r.session_id, 77);
    EXPECT_EQ(r.session_epoch, initial_epoch);
    EXPECT_EQ(named(r), 1u);
    b.on_response(with_session(78));
    round(now);
    b.on_failure();
    request after = round(now);
    EXPECT_EQ(after.session_id, 78);
    EXPECT_EQ(after.session_epoch, initial_epoch);
    EXPECT_EQ(named(after), 1u);
}

TEST_F(session_builder_test, no_session_from_the_leader_keeps_requests_full) {
    std::map<model::topic_partition, partition_fetch> now{{tp("a", 0), at(0)}};
    round(now);
    b.on_response(with_session(no_session));
    request r = round(now);
    EXPECT_EQ(r.session_epoch, initial_epoch);
    EXPECT_EQ(named(r), 1u);
}

// The leader's session, after each round, holds exactly the fetcher's in_session partitions
// at their recorded positions: the property the follower's reply check relies on.
TEST_F(session_builder_test, the_leaders_session_always_matches_what_the_fetcher_believes) {
    std::mt19937 random(20261207);
    session_cache cache(cache_config{}, 1);
    clock::time_point now = clock::time_point{} + std::chrono::hours(1);
    std::map<model::topic_partition, partition_fetch> positions;
    for (int i = 0; i < 12; ++i) {
        positions[tp(i % 3 == 0 ? "x" : "y", i)] = at(0);
    }
    int sessions_seen = 0;
    for (int step = 0; step < 3000; ++step) {
        now += std::chrono::milliseconds(100);
        std::map<model::topic_partition, partition_fetch> fetched;
        for (auto& [p, f] : positions) {
            if (random() % 4 == 0) {
                f.fetch_offset = offset(f.fetch_offset() + 1);
            }
            if (random() % 5 != 0) {
                fetched.emplace(p, f);  // else resting this round
            }
        }
        request req = round(fetched);
        context c = cache.open(req, now);
        response r;
        if (c.error != kafka_error::none) {
            r = with_session(no_session, c.error);
        } else if (random() % 10 == 0) {
            b.on_failure();  // the answer is lost on the way
            continue;
        } else if (c.mode == context::kind::incremental) {
            r = with_session(c.incremental->id());
        } else if (c.mode == context::kind::full) {
            response full;
            for (const auto& t : req.topics) {
                full.responses.emplace_back().topic = t.topic;
            }
            r = with_session(cache.create(req, full, true, now));
        } else {
            r = with_session(no_session);
        }
        b.on_response(r);
        if (r.session_id == no_session) {
            continue;
        }
        if (b.full()) {
            continue;  // the next request is full: it states everything again
        }
        ++sessions_seen;
        std::shared_ptr<const session> held = cache.find(r.session_id);
        ASSERT_NE(held, nullptr) << "step " << step;
        std::size_t believed = 0;
        for (const auto& [p, s] : sent) {
            if (!s.in_session) {
                EXPECT_EQ(held->find(p), nullptr) << "step " << step;
                continue;
            }
            ++believed;
            const session_partition* there = held->find(p);
            ASSERT_NE(there, nullptr) << "step " << step;
            EXPECT_EQ(there->fetch, s.fetch) << "step " << step;
        }
        EXPECT_EQ(held->size(), believed) << "step " << step;
    }
    EXPECT_GT(sessions_seen, 100);
}

}  // namespace
}  // namespace gregor::fetch

// Goal: a session's round reads every partition whose answer may have changed, and only a
// few others: what the fetcher moved, what the change feed names, what the last round could
// not settle, and a slice of the rest so that each partition is read at least once per sweep
// (a follower's reads keep it in the ISR). Never does a round skip a partition that has
// records or an offset its fetcher was not told, provided every change was pushed.
// Method: sessions from the real cache; a model leader whose partitions take appends and
// high watermark moves, pushed to a change feed; the rounds are checked against reading
// every partition.
#include "fetch/change_feed.h"
#include "fetch/session_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace gregor::fetch {
namespace {

using namespace std::chrono_literals;
using model::offset;
using request = protocol::fetch_request;

model::topic_partition tp(const std::string& topic, std::int32_t p) {
    return {topic, model::partition_id(p)};
}

void name(request& r, const model::topic_partition& p, std::int64_t fetch_offset) {
    if (r.topics.empty() || r.topics.back().topic != p.topic) {
        r.topics.emplace_back().topic = p.topic;
    }
    auto& f = r.topics.back().partitions.emplace_back();
    f.partition = p.partition;
    f.fetch_offset = offset(fetch_offset);
    f.partition_max_bytes = 1024;
}

// A leader's partition: its log end and high watermark.
struct leader_partition {
    std::int64_t log_end = 10;
    std::int64_t high_watermark = 10;
};

struct session_round_test : ::testing::Test {
    clock::time_point now = clock::time_point{} + 1h;
    session_cache cache{cache_config{}, 7};
    change_feed feed{1024};
    std::map<model::topic_partition, leader_partition> leader;
    std::map<model::topic_partition, std::int64_t> position;  // the fetcher's
    std::int32_t id = no_session;
    std::int32_t epoch = 1;
    static constexpr clock::duration sweep = 5s;

    // A session of `n` partitions of topic "t", every fetcher at its leader's end.
    void open(std::int32_t n) {
        request req;
        req.session_id = no_session;
        req.session_epoch = initial_epoch;
        for (std::int32_t i = 0; i < n; ++i) {
            leader[tp("t", i)] = {};
            position[tp("t", i)] = 10;
            name(req, tp("t", i), 10);
        }
        ASSERT_EQ(cache.open(req, now).mode, context::kind::full);
        id = cache.create(req, answer_all(req), true, now);
        ASSERT_NE(id, no_session);
    }

    protocol::fetch_response answer_all(const request& req) const {
        protocol::fetch_response r;
        for (const auto& t : req.topics) {
            auto& rt = r.responses.emplace_back();
            rt.topic = t.topic;
            for (const auto& p : t.partitions) {
                rt.partitions.push_back(read(tp(t.topic, p.partition()), p.fetch_offset()));
            }
        }
        return r;
    }

    // What the leader answers for `p` read from `from`: records up to its log end.
    partition_data read(const model::topic_partition& p, std::int64_t from) const {
        const leader_partition& l = leader.at(p);
        partition_data d;
        d.partition_index = p.partition;
        d.high_watermark = offset(l.high_watermark);
        d.last_stable_offset = offset(l.high_watermark);
        d.log_start_offset = offset(0);
        d.records = protocol::records_ref{};
        if (from < l.log_end) {
            auto owned =
                std::make_shared<const gregor::bytes>(static_cast<std::size_t>(l.log_end - from));
            d.records = protocol::records_ref(bytes_view(*owned), owned);
        }
        return d;
    }

    // One incremental round: the fetcher names `moved` at their positions; returns the
    // partitions the round read, after answering and settling them as the broker does.
    std::set<model::topic_partition> round(const std::vector<model::topic_partition>& moved = {}) {
        request req;
        req.session_id = id;
        req.session_epoch = epoch;
        for (const auto& p : moved) {
            name(req, p, position.at(p));
        }
        context c = cache.open(req, now);
        EXPECT_EQ(c.mode, context::kind::incremental);
        epoch = next_epoch(epoch);
        session& s = *c.incremental;
        std::set<model::topic_partition> read_now;
        protocol::fetch_response out;
        for (std::uint32_t i : s.plan_round(feed, now, sweep)) {
            const session_partition& p = s.at(i);
            EXPECT_TRUE(read_now.insert(p.tp).second) << "read twice in a round";
            partition_data d = read(p.tp, p.fetch.fetch_offset());
            const bool answer = session::must_answer(p, d);
            s.settle(i, p.fetch.fetch_offset() == leader.at(p.tp).log_end && !answer);
            if (answer) {
                if (out.responses.empty() || out.responses.back().topic != p.tp.topic) {
                    out.responses.emplace_back().topic = p.tp.topic;
                }
                out.responses.back().partitions.push_back(std::move(d));
            }
        }
        s.answered(out);
        return read_now;
    }

    // The partitions whose answer the fetcher would not have been told yet, by reading all.
    std::set<model::topic_partition> with_news() {
        std::set<model::topic_partition> out;
        auto s = cache.find(id);
        for (std::size_t i = 0; i < s->size(); ++i) {
            const session_partition& p = s->in_round(i);
            if (session::must_answer(p, read(p.tp, p.fetch.fetch_offset()))) {
                out.insert(p.tp);
            }
        }
        return out;
    }
};

TEST_F(session_round_test, an_idle_round_reads_nothing_once_every_partition_is_settled) {
    open(100);
    EXPECT_EQ(round().size(), 100u);  // the session's first round reads everything
    now += 1ms;
    EXPECT_TRUE(round().empty());
    now += 1ms;
    EXPECT_TRUE(round().empty());
}

TEST_F(session_round_test, a_round_reads_what_moved_here_or_at_the_fetcher) {
    open(100);
    round();
    // An append here, pushed to the feed.
    leader[tp("t", 7)].log_end = 11;
    feed.push(tp("t", 7));
    EXPECT_EQ(round(), (std::set{tp("t", 7)}));
    // The fetcher took the record and says so; the high watermark moves once it has.
    position[tp("t", 7)] = 11;
    leader[tp("t", 7)].high_watermark = 11;
    feed.push(tp("t", 7));
    EXPECT_EQ(round({tp("t", 7)}), (std::set{tp("t", 7)}));
    // Told the high watermark; a round with nothing to tell settles it.
    EXPECT_EQ(round(), (std::set{tp("t", 7)}));
    EXPECT_TRUE(round().empty());
    // The feed names partitions of other sessions too: nothing to read here.
    feed.push(tp("other", 0));
    EXPECT_TRUE(round().empty());
}

TEST_F(session_round_test, a_partition_behind_its_end_is_read_every_round_until_it_is_not) {
    open(10);
    round();
    leader[tp("t", 3)].log_end = 20;
    feed.push(tp("t", 3));
    EXPECT_EQ(round(), (std::set{tp("t", 3)}));
    // The fetcher dropped that answer and did not move: read again without a push.
    EXPECT_EQ(round(), (std::set{tp("t", 3)}));
    position[tp("t", 3)] = 20;
    EXPECT_EQ(round({tp("t", 3)}), (std::set{tp("t", 3)}));
    EXPECT_EQ(round(), (std::set{tp("t", 3)}));
    EXPECT_TRUE(round().empty());
}

TEST_F(session_round_test, the_sweep_reads_each_resting_partition_once_per_period) {
    open(50);
    round();
    std::map<model::topic_partition, int> reads;
    // Rounds every 500 ms for two periods: each partition is read twice, in slices.
    for (int r = 0; r < 20; ++r) {
        now += 500ms;
        auto read_now = round();
        EXPECT_EQ(read_now.size(), 5u);
        for (const auto& p : read_now) {
            ++reads[p];
        }
    }
    EXPECT_EQ(reads.size(), 50u);
    for (const auto& [p, n] : reads) {
        EXPECT_EQ(n, 2) << fmt::format("{}", p);
    }
    // A round after a long pause reads each partition once, not once per period missed.
    now += 60s;
    EXPECT_EQ(round().size(), 50u);
}

TEST_F(session_round_test, everything_is_read_when_the_feed_cannot_say_what_changed) {
    open(20);
    round();
    feed.push_all();
    EXPECT_EQ(round().size(), 20u);
    EXPECT_TRUE(round().empty());
    for (std::int32_t i = 0; i < 2000; ++i) {
        feed.push(tp("other", i));  // past the ring's 1024
    }
    EXPECT_EQ(round().size(), 20u);
}

TEST_F(session_round_test, added_or_forgotten_partitions_make_the_next_round_read_everything) {
    open(20);
    round();
    leader[tp("u", 0)] = {};
    position[tp("u", 0)] = 10;
    auto read_now = round({tp("u", 0)});
    EXPECT_EQ(read_now.size(), 21u);
    EXPECT_EQ(round(), (std::set{tp("u", 0)}));  // answered as added, settled now
    EXPECT_TRUE(round().empty());

    request forget;
    forget.session_id = id;
    forget.session_epoch = epoch;
    forget.forgotten_topics_data.emplace_back().topic = "t";
    forget.forgotten_topics_data.back().partitions.push_back(model::partition_id(0));
    context c = cache.open(forget, now);
    epoch = next_epoch(epoch);
    auto plan = c.incremental->plan_round(feed, now, sweep);
    EXPECT_EQ(plan.size(), 20u);
    for (std::uint32_t i : plan) {
        EXPECT_NE(c.incremental->at(i).tp, tp("t", 0));
        c.incremental->settle(i, true);
    }
}

TEST_F(session_round_test, a_round_starts_after_the_partition_that_last_returned_records) {
    open(5);
    round();
    leader[tp("t", 1)].log_end = 11;
    leader[tp("t", 3)].log_end = 11;
    feed.push(tp("t", 1));
    feed.push(tp("t", 3));
    round();  // t-3 returned records last: the next round starts at t-4
    auto c = cache.open(
        [&] {
            request r;
            r.session_id = id;
            r.session_epoch = epoch;
            return r;
        }(),
        now);
    epoch = next_epoch(epoch);
    auto plan = c.incremental->plan_round(feed, now, sweep);
    ASSERT_EQ(plan.size(), 2u);  // both still behind
    EXPECT_EQ(c.incremental->at(plan[0]).tp, tp("t", 1));
    EXPECT_EQ(c.incremental->at(plan[1]).tp, tp("t", 3));
}

// The property the whole scheme rests on, over a seeded schedule of appends, high watermark
// moves and fetcher moves: every partition with news is in the round's plan.
TEST_F(session_round_test, no_round_skips_a_partition_with_news) {
    constexpr std::int32_t n = 200;
    open(n);
    std::mt19937 rng(20261208);
    for (int r = 0; r < 1000; ++r) {
        now += std::chrono::milliseconds(rng() % 700);
        std::vector<model::topic_partition> moved;
        for (auto k = rng() % 4; k > 0; --k) {
            auto p = tp("t", static_cast<std::int32_t>(rng() % n));
            leader_partition& l = leader[p];
            switch (rng() % 3) {
                case 0:  // an append
                    l.log_end += static_cast<std::int64_t>(1 + rng() % 3);
                    feed.push(p);
                    break;
                case 1:  // the high watermark catches up
                    if (l.high_watermark < l.log_end) {
                        l.high_watermark = l.log_end;
                        feed.push(p);
                    }
                    break;
                default:  // the fetcher takes what there is (its answer may have been lost)
                    if (position[p] < l.log_end) {
                        position[p] = l.log_end;
                        moved.push_back(p);
                    }
            }
        }
        std::sort(moved.begin(), moved.end());
        moved.erase(std::unique(moved.begin(), moved.end()), moved.end());
        // What reading every partition would tell, at the fetcher's positions after this
        // request: computed on a copy of the session (the same request applied).
        auto expected = [&] {
            std::set<model::topic_partition> out;
            for (const auto& [p, l] : leader) {
                auto s = cache.find(id);
                const session_partition* sp = s->find(p);
                partition_data d = read(p, position[p]);
                bool moved_here = std::binary_search(moved.begin(), moved.end(), p);
                if (moved_here || sp == nullptr || session::must_answer(*sp, d)) {
                    out.insert(p);
                }
            }
            return out;
        }();
        auto read_now = round(moved);
        for (const auto& p : expected) {
            ASSERT_TRUE(read_now.contains(p))
                << "round " << r << " skipped " << fmt::format("{}", p);
        }
    }
    // The fetcher catches up everywhere: then nothing is left with news, and an idle round
    // reads nothing.
    std::vector<model::topic_partition> all;
    for (auto& [p, l] : leader) {
        position[p] = l.log_end;
        all.push_back(p);
    }
    round(all);
    round();
    EXPECT_TRUE(with_news().empty());
    EXPECT_TRUE(round().empty());
}

}  // namespace
}  // namespace gregor::fetch

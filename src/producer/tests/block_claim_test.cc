// Goal: the claim of producer id blocks at /latest_producer_id_block is Kafka's
// compare-and-set: Kafka's JSON, contiguous blocks of 1000 from [0, 999], a lost race
// re-read and retried a bounded number of times, exhaustion refused, a missing znode
// created, a lost answer wasting its block but never handing it out again, and brokers
// racing for blocks never getting overlapping ranges.
// Method: block_claimer on fake_client sessions of one fake_ensemble, drained by hand;
// a forwarding client injects a competing writer before every write, or loses answers.
#include "producer/block_claim.h"

#include "coord/errc.h"
#include "coord/fake_client.h"
#include "coord/znode_paths.h"
#include "producer/errc.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace gregor::producer {
namespace {

using model::node_id;
using model::producer_id;

const std::string path(coord::paths::latest_producer_id_block);

// Forwards to a fake_client; before each set it can let "another broker" write the same
// znode first (every compare-and-set then loses), or it can lose the set's answer after the
// write applied (connection loss).
class scripted_client final : public coord::client {
public:
    explicit scripted_client(coord::fake_client& inner) : inner_(inner) {}

    bool competitor_writes_first = false;
    bool lose_set_answers = false;
    int sets = 0;

    void create(std::string p, std::string data, coord::create_mode mode,
                coord::callback<std::string> done) override {
        inner_.create(std::move(p), std::move(data), mode, std::move(done));
    }
    void get(std::string p, coord::watch_fn watch,
             coord::callback<coord::node_data> done) override {
        inner_.get(std::move(p), std::move(watch), std::move(done));
    }
    void set(std::string p, std::string data, model::zk_version expected,
             coord::callback<coord::znode_stat> done) override {
        ++sets;
        if (competitor_writes_first) {
            inner_.set(p, data, coord::any_version, [](result<coord::znode_stat>) {});
        }
        if (lose_set_answers) {
            inner_.set(std::move(p), std::move(data), expected,
                       [done = std::move(done)](result<coord::znode_stat>) {
                           done(error(coord::errc::connection_loss));
                       });
            return;
        }
        inner_.set(std::move(p), std::move(data), expected, std::move(done));
    }
    void remove(std::string p, model::zk_version expected, coord::callback<void> done) override {
        inner_.remove(std::move(p), expected, std::move(done));
    }
    void exists(std::string p, coord::watch_fn watch,
                coord::callback<std::optional<coord::znode_stat>> done) override {
        inner_.exists(std::move(p), std::move(watch), std::move(done));
    }
    void get_children(std::string p, coord::watch_fn watch,
                      coord::callback<coord::children> done) override {
        inner_.get_children(std::move(p), std::move(watch), std::move(done));
    }
    void read_many(std::vector<std::string> paths,
                   coord::callback<std::vector<result<coord::node_data>>> done) override {
        inner_.read_many(std::move(paths), std::move(done));
    }
    void multi(std::vector<coord::op> ops, coord::multi_fn done) override {
        inner_.multi(std::move(ops), std::move(done));
    }
    coord::listener_id add_session_listener(coord::session_fn fn) override {
        return inner_.add_session_listener(std::move(fn));
    }
    void remove_session_listener(coord::listener_id id) override {
        inner_.remove_session_listener(id);
    }
    coord::session_id session() const override { return inner_.session(); }
    bool is_connected() const override { return inner_.is_connected(); }
    void close() override { inner_.close(); }

private:
    coord::fake_client& inner_;
};

struct producer_block_claim_test : ::testing::Test {
    coord::fake_ensemble ensemble;
    coord::fake_client admin{ensemble};

    // The znode as a broker creates it at start: persistent and empty.
    void create_empty_znode() {
        admin.create(path, "", coord::create_mode::persistent,
                     [](result<std::string> r) { ASSERT_TRUE(r) << r.err().to_string(); });
        ensemble.run_pending();
    }
    void write_znode(const std::string& data) {
        admin.set(path, data, coord::any_version,
                  [](result<coord::znode_stat> r) { ASSERT_TRUE(r) << r.err().to_string(); });
        ensemble.run_pending();
    }
    std::string znode() const { return ensemble.peek(path).value().data; }

    // Runs one claim to its end.
    result<id_block> claim_once(block_claimer& claimer) {
        std::optional<result<id_block>> out;
        claimer.claim([&](result<id_block> r) { out.emplace(std::move(r)); });
        EXPECT_FALSE(out.has_value()) << "completed inside claim()";
        ensemble.run_pending();
        EXPECT_TRUE(out.has_value()) << "the claim never completed";
        return out ? std::move(*out) : result<id_block>(error(coord::errc::closed));
    }
};

id_block ids(std::int64_t first, std::int64_t last) {
    return {producer_id{first}, producer_id{last}};
}

TEST(producer_next_block_after, follows_kafka_from_nothing_to_exhaustion) {
    auto first = next_block_after("", node_id{3});
    ASSERT_TRUE(first);
    EXPECT_EQ(*first, (coord::producer_id_block{node_id{3}, producer_id{0}, producer_id{999}}));
    auto second = next_block_after(
        R"({"version":1,"broker":1,"block_start":"0","block_end":"999"})", node_id{3});
    ASSERT_TRUE(second);
    EXPECT_EQ(ids_of(*second), ids(1000, 1999));
    EXPECT_EQ(second->broker, node_id{3});

    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    coord::producer_id_block last_fitting{node_id{1}, producer_id{max - 1999},
                                          producer_id{max - 1000}};
    auto last = next_block_after(coord::encode_producer_id_block(last_fitting), node_id{1});
    ASSERT_TRUE(last);
    EXPECT_EQ(ids_of(*last), ids(max - 999, max));
    auto beyond = next_block_after(coord::encode_producer_id_block(*last), node_id{1});
    ASSERT_FALSE(beyond);
    EXPECT_EQ(beyond.code(), errc::ids_exhausted);
}

TEST(producer_next_block_after, refuses_content_that_is_not_kafkas_json) {
    for (std::string_view bad : {"junk",
                                 R"({"version":2,"broker":1,"block_start":"0",)"
                                 R"("block_end":"999"})",
                                 R"({"version":1,"broker":1,"block_start":0,"block_end":999})"}) {
        auto r = next_block_after(bad, node_id{1});
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.code(), coord::errc::malformed_data) << bad;
    }
}

TEST_F(producer_block_claim_test, the_first_claim_writes_kafkas_json_for_block_zero) {
    create_empty_znode();
    coord::fake_client broker{ensemble};
    block_claimer claimer(broker, node_id{7});
    auto r = claim_once(claimer);
    ASSERT_TRUE(r) << r.err().to_string();
    EXPECT_EQ(*r, ids(0, 999));
    EXPECT_EQ(znode(), R"({"version":1,"broker":7,"block_start":"0","block_end":"999"})");
    EXPECT_EQ(ensemble.peek(path)->stat.version, model::zk_version{1});
}

TEST_F(producer_block_claim_test, successive_claims_take_contiguous_blocks) {
    create_empty_znode();
    coord::fake_client broker{ensemble};
    block_claimer claimer(broker, node_id{1});
    for (std::int64_t i = 0; i < 5; ++i) {
        auto r = claim_once(claimer);
        ASSERT_TRUE(r) << r.err().to_string();
        EXPECT_EQ(*r, ids(i * 1000, i * 1000 + 999));
    }
    EXPECT_EQ(znode(), R"({"version":1,"broker":1,"block_start":"4000","block_end":"4999"})");
}

TEST_F(producer_block_claim_test, a_missing_znode_is_created_with_the_first_block) {
    coord::fake_client broker{ensemble};
    block_claimer claimer(broker, node_id{2});
    auto r = claim_once(claimer);
    ASSERT_TRUE(r) << r.err().to_string();
    EXPECT_EQ(*r, ids(0, 999));
    EXPECT_EQ(znode(), R"({"version":1,"broker":2,"block_start":"0","block_end":"999"})");
    EXPECT_EQ(ensemble.peek(path)->stat.ephemeral_owner, coord::no_session);
}

TEST_F(producer_block_claim_test, an_exhausted_id_space_is_a_permanent_error_and_writes_nothing) {
    create_empty_znode();
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    std::string full =
        coord::encode_producer_id_block({node_id{1}, producer_id{max - 999}, producer_id{max}});
    write_znode(full);
    coord::fake_client broker{ensemble};
    block_claimer claimer(broker, node_id{1});
    auto r = claim_once(claimer);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), errc::ids_exhausted);
    EXPECT_EQ(znode(), full);
}

TEST_F(producer_block_claim_test, lost_races_are_retried_a_bounded_number_of_times) {
    create_empty_znode();
    coord::fake_client inner{ensemble};
    scripted_client broker{inner};
    broker.competitor_writes_first = true;
    block_claimer claimer(broker, node_id{1});
    auto r = claim_once(claimer);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), errc::claim_contended);
    EXPECT_EQ(broker.sets, cas_attempts_max);
    // Once the competitor stops, the next claim wins the block after the competitor's.
    broker.competitor_writes_first = false;
    auto after = claim_once(claimer);
    ASSERT_TRUE(after) << after.err().to_string();
    EXPECT_EQ(*after, ids(cas_attempts_max * 1000, cas_attempts_max * 1000 + 999));
}

TEST_F(producer_block_claim_test, a_lost_answer_wastes_its_block_and_the_next_claim_goes_past_it) {
    create_empty_znode();
    coord::fake_client inner{ensemble};
    scripted_client broker{inner};
    block_claimer claimer(broker, node_id{1});
    broker.lose_set_answers = true;
    auto lost = claim_once(claimer);
    ASSERT_FALSE(lost);
    EXPECT_TRUE(coord::is_transient(lost.code()));
    EXPECT_EQ(znode(), R"({"version":1,"broker":1,"block_start":"0","block_end":"999"})");
    broker.lose_set_answers = false;
    auto next = claim_once(claimer);
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, ids(1000, 1999));
}

TEST_F(producer_block_claim_test, zookeeper_errors_fail_the_claim_and_a_later_one_succeeds) {
    create_empty_znode();
    coord::fake_client broker{ensemble};
    block_claimer claimer(broker, node_id{1});
    broker.disconnect();
    auto down = claim_once(claimer);
    ASSERT_FALSE(down);
    EXPECT_TRUE(coord::is_transient(down.code()));
    broker.reconnect();
    ensemble.run_pending();
    auto up = claim_once(claimer);
    ASSERT_TRUE(up) << up.err().to_string();
    EXPECT_EQ(*up, ids(0, 999));
}

TEST_F(producer_block_claim_test, cancel_and_destruction_drop_the_completion) {
    create_empty_znode();
    coord::fake_client broker{ensemble};
    bool called = false;
    {
        block_claimer claimer(broker, node_id{1});
        claimer.claim([&](result<id_block>) { called = true; });
        claimer.cancel();
        EXPECT_FALSE(claimer.in_flight());
        claimer.claim([&](result<id_block>) { called = true; });
    }
    ensemble.run_pending();
    EXPECT_FALSE(called);
}

// Three brokers claim 40 blocks each, every claim starting as soon as the previous one
// ended (a failed one too, as the manager would retry it), while a seeded schedule holds
// back one broker's answers at a time so their reads and writes interleave differently per
// seed: every block is claimed once, and together they tile [0, 120000) without overlap.
TEST_F(producer_block_claim_test, racing_brokers_never_get_overlapping_blocks) {
    create_empty_znode();
    constexpr int brokers = 3;
    constexpr int blocks_each = 40;
    std::vector<std::unique_ptr<coord::fake_client>> clients;
    std::vector<std::unique_ptr<block_claimer>> claimers;
    std::map<std::int64_t, std::pair<id_block, int>> claimed;  // first id -> block, broker
    int contended = 0;
    std::vector<int> left(brokers, blocks_each);
    std::function<void(int)> next = [&](int b) {
        claimers[static_cast<std::size_t>(b)]->claim([&, b](result<id_block> r) {
            if (!r) {
                EXPECT_EQ(r.code(), errc::claim_contended);
                ++contended;
            } else {
                EXPECT_TRUE(claimed.emplace(r->first(), std::make_pair(*r, b)).second)
                    << "block at " << r->first() << " claimed twice";
                --left[static_cast<std::size_t>(b)];
            }
            if (left[static_cast<std::size_t>(b)] > 0) {
                next(b);
            }
        });
    };
    for (int b = 0; b < brokers; ++b) {
        clients.push_back(std::make_unique<coord::fake_client>(ensemble));
        claimers.push_back(std::make_unique<block_claimer>(*clients.back(), node_id{b + 1}));
    }
    ensemble.run_pending();  // the sessions' connected events
    std::mt19937 rng(20261);
    for (int b = 0; b < brokers; ++b) {
        next(b);
    }
    for (int step = 0; step < 100'000 && ensemble.has_pending(); ++step) {
        auto held = static_cast<std::size_t>(rng() % (brokers + 1));  // brokers: none held
        if (held < clients.size()) {
            clients[held]->hold();
        }
        ensemble.run_pending();
        if (held < clients.size()) {
            clients[held]->release();
        }
    }
    ensemble.run_pending();
    ASSERT_EQ(claimed.size(), static_cast<std::size_t>(brokers * blocks_each));
    std::int64_t expected_first = 0;
    std::set<int> winners;
    for (const auto& [first, entry] : claimed) {
        EXPECT_EQ(entry.first, ids(expected_first, expected_first + 999));
        expected_first += 1000;
        winners.insert(entry.second);
    }
    EXPECT_EQ(winners.size(), static_cast<std::size_t>(brokers));
    EXPECT_EQ(znode(), coord::encode_producer_id_block(
                           {node_id{claimed.rbegin()->second.second + 1},
                            producer_id{expected_first - 1000}, producer_id{expected_first - 1}}));
    RecordProperty("contended_claims", contended);
}

}  // namespace
}  // namespace gregor::producer

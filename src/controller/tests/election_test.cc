// Goal: every leader election strategy picks the leader and ISR Kafka's controller would,
// including the corner cases that decide whether acknowledged records survive (dead
// leader, leader outside the ISR, unclean election allowed or not, shutting-down brokers,
// a single-member ISR, nobody live, duplicate ids in the inputs).
// Method: a table of cases per strategy, then a seeded property test over thousands of
// random assignments, ISRs and live sets that checks the safety invariants of every
// strategy at once.
#include "controller/election.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

namespace gregor::controller {
namespace {

using model::node_id;
using ids = std::vector<node_id>;

ids n(std::initializer_list<int> values) {
    ids out;
    for (int v : values) {
        out.emplace_back(v);
    }
    return out;
}

broker_set s(std::initializer_list<int> values) {
    broker_set out;
    for (int v : values) {
        out.emplace(v);
    }
    return out;
}

std::optional<election_outcome> clean(int leader, ids isr) {
    return election_outcome{node_id{leader}, std::move(isr), false};
}

struct initial_case {
    std::string name;
    ids assignment;
    broker_set live;
    std::optional<election_outcome> expected;
};

TEST(election, initial_takes_first_live_replica_and_all_live_replicas) {
    std::vector<initial_case> cases = {
        {"all live", n({1, 2, 3}), s({1, 2, 3}), clean(1, n({1, 2, 3}))},
        {"first dead", n({1, 2, 3}), s({2, 3}), clean(2, n({2, 3}))},
        {"order is the assignment's", n({3, 1, 2}), s({1, 2, 3}), clean(3, n({3, 1, 2}))},
        {"only last live", n({1, 2, 3}), s({3, 9}), clean(3, n({3}))},
        {"none live", n({1, 2, 3}), s({4}), std::nullopt},
        {"empty live set", n({1, 2}), s({}), std::nullopt},
        {"empty assignment", n({}), s({1}), std::nullopt},
        {"duplicates collapse", n({2, 2, 1}), s({1, 2}), clean(2, n({2, 1}))},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(elect_initial(c.assignment, c.live), c.expected) << c.name;
    }
}

struct offline_case {
    std::string name;
    ids assignment;
    ids isr;
    broker_set live;
    bool allow_unclean;
    std::optional<election_outcome> expected;
};

TEST(election, offline_prefers_live_isr_members_and_goes_unclean_only_when_allowed) {
    std::vector<offline_case> cases = {
        {"leader dead, next in isr", n({1, 2, 3}), n({1, 2, 3}), s({2, 3}), false,
         clean(2, n({2, 3}))},
        {"isr order is kept", n({1, 2, 3}), n({3, 2, 1}), s({2, 3}), false, clean(2, n({3, 2}))},
        {"live replica outside isr is skipped", n({1, 2, 3}), n({1, 3}), s({2, 3}), false,
         clean(3, n({3}))},
        {"no live isr member, clean only", n({1, 2, 3}), n({1}), s({2, 3}), false, std::nullopt},
        {"no live isr member, unclean allowed", n({1, 2, 3}), n({1}), s({2, 3}), true,
         election_outcome{node_id{2}, n({2}), true}},
        {"unclean allowed but a clean choice exists", n({1, 2, 3}), n({1, 3}), s({2, 3}), true,
         clean(3, n({3}))},
        {"single-member isr alive", n({1, 2}), n({2}), s({1, 2}), false, clean(2, n({2}))},
        {"nobody live, unclean allowed", n({1, 2}), n({1, 2}), s({}), true, std::nullopt},
        {"empty isr, clean only", n({1, 2}), n({}), s({1, 2}), false, std::nullopt},
        {"isr member outside the assignment is dropped", n({1, 2}), n({1, 7}), s({1, 7}), false,
         clean(1, n({1}))},
        {"duplicates collapse", n({1, 1, 2}), n({1, 2, 1}), s({1, 2}), false, clean(1, n({1, 2}))},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(elect_offline(c.assignment, c.isr, c.live, c.allow_unclean), c.expected)
            << c.name;
    }
}

struct preferred_case {
    std::string name;
    ids assignment;
    ids isr;
    broker_set live;
    std::optional<election_outcome> expected;
};

TEST(election, preferred_elects_only_the_first_assigned_replica) {
    std::vector<preferred_case> cases = {
        {"preferred live and in isr", n({1, 2, 3}), n({2, 3, 1}), s({1, 2, 3}),
         clean(1, n({2, 3, 1}))},
        {"preferred dead", n({1, 2, 3}), n({1, 2, 3}), s({2, 3}), std::nullopt},
        {"preferred not in isr", n({1, 2, 3}), n({2, 3}), s({1, 2, 3}), std::nullopt},
        {"empty assignment", n({}), n({1}), s({1}), std::nullopt},
        {"empty live set", n({1}), n({1}), s({}), std::nullopt},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(elect_preferred(c.assignment, c.isr, c.live), c.expected) << c.name;
    }
}

struct shutdown_case {
    std::string name;
    ids assignment;
    ids isr;
    broker_set live;
    broker_set shutting_down;
    std::optional<election_outcome> expected;
};

TEST(election, controlled_shutdown_moves_leadership_off_shutting_down_brokers) {
    std::vector<shutdown_case> cases = {
        {"leader shutting down", n({1, 2, 3}), n({1, 2, 3}), s({1, 2, 3}), s({1}),
         clean(2, n({2, 3}))},
        {"next is not in isr", n({1, 2, 3}), n({1, 3}), s({1, 2, 3}), s({1}), clean(3, n({3}))},
        {"next is dead, isr keeps it", n({1, 2, 3}), n({1, 2, 3}), s({1, 3}), s({1}),
         clean(3, n({2, 3}))},
        {"only the shutting-down broker is in isr", n({1, 2}), n({1}), s({1, 2}), s({1}),
         std::nullopt},
        {"replication factor one", n({1}), n({1}), s({1}), s({1}), std::nullopt},
        {"two brokers shutting down", n({1, 2, 3}), n({1, 2, 3}), s({1, 2, 3}), s({1, 2}),
         clean(3, n({3}))},
        {"empty live set", n({1, 2}), n({1, 2}), s({}), s({1}), std::nullopt},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(elect_controlled_shutdown(c.assignment, c.isr, c.live, c.shutting_down),
                  c.expected)
            << c.name;
    }
}

struct reassign_case {
    std::string name;
    ids target;
    ids isr;
    broker_set live;
    std::optional<election_outcome> expected;
};

TEST(election, reassign_takes_the_first_live_isr_member_of_the_target) {
    std::vector<reassign_case> cases = {
        {"target head in isr", n({4, 5, 6}), n({1, 4, 5, 6}), s({1, 4, 5, 6}),
         clean(4, n({1, 4, 5, 6}))},
        {"target head dead", n({4, 5}), n({1, 4, 5}), s({1, 5}), clean(5, n({1, 4, 5}))},
        {"target not yet in sync", n({4, 5}), n({1, 2}), s({1, 2, 4, 5}), std::nullopt},
        {"empty target", n({}), n({1}), s({1}), std::nullopt},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(elect_reassign(c.target, c.isr, c.live), c.expected) << c.name;
    }
}

struct removal_case {
    std::string name;
    leader_isr current;
    int replica;
    leader_isr expected;
};

TEST(election, remove_from_isr_clears_the_leader_but_never_empties_the_isr) {
    std::vector<removal_case> cases = {
        {"follower", {node_id{1}, n({1, 2, 3})}, 2, {node_id{1}, n({1, 3})}},
        {"leader", {node_id{1}, n({1, 2, 3})}, 1, {model::no_node, n({2, 3})}},
        {"only member and leader", {node_id{1}, n({1})}, 1, {model::no_node, n({1})}},
        {"not a member", {node_id{1}, n({1, 2})}, 3, {node_id{1}, n({1, 2})}},
        {"already leaderless", {model::no_node, n({2, 3})}, 3, {model::no_node, n({2})}},
        {"duplicate entries", {node_id{1}, n({1, 2, 2})}, 2, {node_id{1}, n({1})}},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(remove_from_isr(c.current, node_id{c.replica}), c.expected) << c.name;
    }
}

partition_leadership part(std::string topic, int p, ids assignment, ids isr, int leader) {
    return {{std::move(topic), model::partition_id{p}},
            std::move(assignment),
            std::move(isr),
            node_id{leader}};
}

model::topic_partition tp(std::string topic, int p) {
    return {std::move(topic), model::partition_id{p}};
}

TEST(election, rebalance_picks_partitions_of_brokers_over_the_imbalance_threshold) {
    // Broker 1 prefers 4 partitions and leads 3 of them: ratio 25%. Broker 2 prefers 2 and
    // leads both.
    std::vector<partition_leadership> parts = {
        part("a", 0, n({1, 2}), n({1, 2}), 1), part("a", 1, n({1, 2}), n({1, 2}), 1),
        part("a", 2, n({1, 2}), n({1, 2}), 1), part("b", 0, n({1, 2}), n({1, 2}), 2),
        part("c", 0, n({2, 1}), n({1, 2}), 2), part("c", 1, n({2, 1}), n({1, 2}), 2),
    };
    EXPECT_EQ(imbalanced_partitions(parts, s({1, 2}), 10),
              (std::vector<model::topic_partition>{tp("b", 0)}));
    EXPECT_TRUE(imbalanced_partitions(parts, s({1, 2}), 25).empty()) << "equal is not over";
    EXPECT_EQ(imbalanced_partitions(parts, s({1, 2}), 24).size(), 1U);
    EXPECT_TRUE(imbalanced_partitions(parts, s({2}), 0).empty()) << "preferred broker dead";
}

TEST(election, rebalance_skips_partitions_whose_preferred_replica_cannot_lead) {
    std::vector<partition_leadership> parts = {
        part("t", 0, n({1, 2}), n({2}), 2),      // preferred out of sync
        part("t", 1, n({1, 2}), n({1, 2}), 2),   // movable
        part("t", 2, n({1, 2}), n({1, 2}), -1),  // leaderless counts as not led by 1
        part("t", 3, n({}), n({}), -1),          // no assignment: ignored
    };
    EXPECT_EQ(imbalanced_partitions(parts, s({1, 2}), 10),
              (std::vector<model::topic_partition>{tp("t", 1), tp("t", 2)}));
}

// Random inputs over a small id space so that overlaps (dead leaders, out-of-sync
// replicas, shutting-down ISR members) are common.
struct random_world {
    ids assignment;
    ids isr;
    broker_set live;
    broker_set shutting_down;
};

random_world make_world(std::mt19937& rng) {
    std::uniform_int_distribution<int> size(0, 5);
    std::bernoulli_distribution coin(0.5);
    ids brokers = n({0, 1, 2, 3, 4, 5, 6});
    std::shuffle(brokers.begin(), brokers.end(), rng);
    random_world w;
    w.assignment.assign(brokers.begin(), brokers.begin() + size(rng));
    for (node_id id : w.assignment) {
        if (coin(rng)) {
            w.isr.push_back(id);
        }
    }
    std::shuffle(w.isr.begin(), w.isr.end(), rng);
    for (node_id id : brokers) {
        if (coin(rng)) {
            w.live.insert(id);
        }
        if (w.live.contains(id) && coin(rng) && coin(rng)) {
            w.shutting_down.insert(id);
        }
    }
    return w;
}

bool has(const ids& list, node_id id) {
    return std::find(list.begin(), list.end(), id) != list.end();
}

// `isr` is the ISR the election started from: the new leader must come from it unless the
// election says it was unclean.
void check_outcome(const random_world& w, const ids& isr,
                   const std::optional<election_outcome>& out) {
    if (!out) {
        return;
    }
    EXPECT_TRUE(has(w.assignment, out->leader));
    EXPECT_TRUE(w.live.contains(out->leader));
    EXPECT_TRUE(out->unclean || has(isr, out->leader));
    for (node_id id : out->isr) {
        EXPECT_TRUE(has(w.assignment, id));
    }
    EXPECT_TRUE(has(out->isr, out->leader));
}

bool any_live_isr_member(const random_world& w) {
    return std::any_of(w.isr.begin(), w.isr.end(), [&](node_id id) { return w.live.contains(id); });
}

bool any_live_replica(const random_world& w) {
    return std::any_of(w.assignment.begin(), w.assignment.end(),
                       [&](node_id id) { return w.live.contains(id); });
}

TEST(election, random_worlds_keep_every_strategy_safe) {
    std::mt19937 rng(20261121);
    int elected = 0;
    for (int i = 0; i < 5000; ++i) {
        auto w = make_world(rng);
        SCOPED_TRACE(testing::Message() << "iteration " << i);
        // A new partition has no ISR yet: every live assigned replica is eligible.
        check_outcome(w, w.assignment, elect_initial(w.assignment, w.live));
        auto offline = elect_offline(w.assignment, w.isr, w.live, true);
        check_outcome(w, w.isr, offline);
        EXPECT_EQ(offline.has_value(), any_live_replica(w));
        if (any_live_isr_member(w)) {
            ASSERT_TRUE(offline.has_value());
            EXPECT_FALSE(offline->unclean);
            EXPECT_EQ(elect_offline(w.assignment, w.isr, w.live, false), offline);
        }
        check_outcome(w, w.isr, elect_preferred(w.assignment, w.isr, w.live));
        check_outcome(w, w.isr, elect_reassign(w.assignment, w.isr, w.live));
        auto shutdown = elect_controlled_shutdown(w.assignment, w.isr, w.live, w.shutting_down);
        check_outcome(w, w.isr, shutdown);
        if (shutdown) {
            EXPECT_FALSE(w.shutting_down.contains(shutdown->leader));
            ++elected;
        }
    }
    EXPECT_GT(elected, 500) << "the generator must exercise successful elections";
}

}  // namespace
}  // namespace gregor::controller

// Goal: topics created without an explicit assignment get Kafka's replica placement: no
// partition holds a broker twice, leaders and replicas spread evenly over the brokers,
// racks are spread when brokers have them, one seed always gives the same answer, bad
// requests get Kafka's error code and message, and CreatePartitions continues the topic.
// Method: Kafka's documented worked examples (fixed start index and shift) as golden
// values, then properties over many seeds and cluster shapes, then an error table.
#include "controller/assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace gregor::controller {
namespace {

using model::kafka_error;
using model::node_id;
using model::partition_id;
using ids = std::vector<node_id>;

ids n(std::initializer_list<int> values) {
    ids out;
    for (int v : values) {
        out.emplace_back(v);
    }
    return out;
}

std::vector<broker_rack> plain(std::initializer_list<int> values) {
    std::vector<broker_rack> out;
    for (int v : values) {
        out.push_back({node_id{v}, std::nullopt});
    }
    return out;
}

std::vector<broker_rack> numbered(int count) {
    std::vector<broker_rack> out;
    for (int i = 0; i < count; ++i) {
        out.push_back({node_id{i}, std::nullopt});
    }
    return out;
}

// `count` brokers spread round-robin over `racks` racks named r0, r1, ...
std::vector<broker_rack> racked(int count, int racks) {
    std::vector<broker_rack> out;
    for (int i = 0; i < count; ++i) {
        out.push_back({node_id{i}, "r" + std::to_string(i % racks)});
    }
    return out;
}

TEST(assignment, rack_unaware_matches_kafkas_worked_example) {
    // Five brokers, ten partitions, three replicas, start index and shift 0; the brokers
    // are given out of order because the ring is sorted by id.
    auto brokers = plain({3, 0, 4, 1, 2});
    auto got = assign_replicas_from(brokers, 10, 3, {0, 0});
    ASSERT_TRUE(got.has_value()) << got.err().message;
    std::vector<ids> expected = {n({0, 1, 2}), n({1, 2, 3}), n({2, 3, 4}), n({3, 4, 0}),
                                 n({4, 0, 1}), n({0, 2, 3}), n({1, 3, 4}), n({2, 4, 0}),
                                 n({3, 0, 1}), n({4, 1, 2})};
    ASSERT_EQ(got.value().size(), expected.size());
    for (std::size_t p = 0; p < expected.size(); ++p) {
        EXPECT_EQ(got.value().at(partition_id{static_cast<std::int32_t>(p)}), expected[p])
            << "partition " << p;
    }
}

std::vector<broker_rack> kafka_rack_example() {
    return {{node_id{0}, "rack1"}, {node_id{1}, "rack3"}, {node_id{2}, "rack3"},
            {node_id{3}, "rack2"}, {node_id{4}, "rack2"}, {node_id{5}, "rack1"}};
}

TEST(assignment, rack_aware_matches_kafkas_worked_example) {
    auto brokers = kafka_rack_example();
    EXPECT_EQ(rack_alternated_brokers(brokers), n({0, 3, 1, 5, 4, 2}));
    auto got = assign_replicas_from(brokers, 6, 3, {0, 0});
    ASSERT_TRUE(got.has_value()) << got.err().message;
    std::vector<ids> expected = {n({0, 3, 1}), n({3, 1, 5}), n({1, 5, 4}),
                                 n({5, 4, 2}), n({4, 2, 0}), n({2, 0, 3})};
    for (std::size_t p = 0; p < expected.size(); ++p) {
        EXPECT_EQ(got.value().at(partition_id{static_cast<std::int32_t>(p)}), expected[p])
            << "partition " << p;
    }
}

TEST(assignment, rack_alternation_leaves_out_brokers_without_a_rack_and_duplicates) {
    std::vector<broker_rack> brokers = {{node_id{4}, "b"},
                                        {node_id{1}, "a"},
                                        {node_id{2}, std::nullopt},
                                        {node_id{3}, "a"},
                                        {node_id{1}, "b"}};
    EXPECT_EQ(rack_alternated_brokers(brokers), n({1, 4, 3}));
}

// Per-broker counts of leaders and of all replicas.
struct spread {
    std::map<node_id, int> leaders;
    std::map<node_id, int> replicas;
};

spread count(const replica_map& map, std::span<const broker_rack> brokers) {
    spread s;
    for (const auto& b : brokers) {
        s.leaders[b.id] = 0;
        s.replicas[b.id] = 0;
    }
    for (const auto& [p, replicas] : map) {
        ++s.leaders[replicas.front()];
        for (node_id r : replicas) {
            ++s.replicas[r];
        }
    }
    return s;
}

int range(const std::map<node_id, int>& counts) {
    auto [lo, hi] = std::minmax_element(counts.begin(), counts.end(),
                                        [](auto& a, auto& b) { return a.second < b.second; });
    return hi->second - lo->second;
}

void expect_distinct_replicas(const replica_map& map, std::size_t rf) {
    for (const auto& [p, replicas] : map) {
        EXPECT_EQ(replicas.size(), rf) << "partition " << p();
        EXPECT_EQ(std::set<node_id>(replicas.begin(), replicas.end()).size(), replicas.size())
            << "partition " << p();
    }
}

TEST(assignment, rack_unaware_spreads_leaders_and_replicas_evenly) {
    for (int brokers = 1; brokers <= 7; ++brokers) {
        for (std::int16_t rf = 1; rf <= brokers; ++rf) {
            for (std::uint64_t seed = 0; seed < 5; ++seed) {
                auto cluster = numbered(brokers);
                auto got = assign_replicas(cluster, brokers * 4, rf, seed);
                ASSERT_TRUE(got.has_value()) << got.err().message;
                SCOPED_TRACE(testing::Message() << brokers << " brokers, rf " << rf);
                expect_distinct_replicas(got.value(), static_cast<std::size_t>(rf));
                auto s = count(got.value(), cluster);
                EXPECT_EQ(range(s.leaders), 0);
                EXPECT_EQ(range(s.replicas), 0);
                auto uneven = assign_replicas(cluster, brokers * 4 + 1, rf, seed);
                EXPECT_LE(range(count(uneven.value(), cluster).leaders), 1);
            }
        }
    }
}

std::set<std::string> racks_of(const ids& replicas, std::span<const broker_rack> brokers) {
    std::set<std::string> out;
    for (node_id r : replicas) {
        for (const auto& b : brokers) {
            if (b.id == r) {
                out.insert(*b.rack);
            }
        }
    }
    return out;
}

TEST(assignment, rack_aware_spans_as_many_racks_as_it_can) {
    for (int brokers = 2; brokers <= 9; ++brokers) {
        for (int racks = 2; racks <= std::min(brokers, 4); ++racks) {
            auto cluster = racked(brokers, racks);
            for (std::int16_t rf = 1; rf <= std::min(brokers, 4); ++rf) {
                SCOPED_TRACE(testing::Message()
                             << brokers << " brokers, " << racks << " racks, rf " << rf);
                auto got = assign_replicas(cluster, brokers * 3, rf, 42);
                ASSERT_TRUE(got.has_value()) << got.err().message;
                expect_distinct_replicas(got.value(), static_cast<std::size_t>(rf));
                for (const auto& [p, replicas] : got.value()) {
                    EXPECT_EQ(racks_of(replicas, cluster).size(),
                              static_cast<std::size_t>(std::min<int>(rf, racks)));
                }
                EXPECT_EQ(range(count(got.value(), cluster).leaders), 0);
            }
        }
    }
}

TEST(assignment, rack_aware_spreads_replicas_evenly_over_balanced_racks) {
    // Three racks of two brokers each.
    auto cluster = racked(6, 3);
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        for (std::int16_t rf = 1; rf <= 3; ++rf) {
            for (std::int32_t partitions : {6, 12, 18}) {
                auto got = assign_replicas(cluster, partitions, rf, seed);
                ASSERT_TRUE(got.has_value());
                EXPECT_EQ(range(count(got.value(), cluster).replicas), 0)
                    << "rf " << rf << ", seed " << seed << ", partitions " << partitions;
            }
        }
    }
}

TEST(assignment, one_seed_gives_one_assignment) {
    auto cluster = racked(6, 3);
    auto a = assign_replicas(cluster, 20, 3, 123);
    auto b = assign_replicas(cluster, 20, 3, 123);
    ASSERT_TRUE(a.has_value() && b.has_value());
    EXPECT_EQ(a.value(), b.value());
    std::set<replica_map> seen;
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
        seen.insert(assign_replicas(cluster, 20, 3, seed).value());
    }
    EXPECT_GT(seen.size(), 1U) << "the seed must move the start index or the shift";
}

struct error_case {
    std::string name;
    std::vector<broker_rack> brokers;
    std::int32_t partitions;
    std::int16_t rf;
    std::int32_t start_partition;
    admin_error expected;
};

TEST(assignment, bad_requests_get_kafkas_errors) {
    std::vector<error_case> cases = {
        {"no partitions",
         numbered(3),
         0,
         1,
         0,
         {kafka_error::invalid_partitions, "Number of partitions must be larger than 0."}},
        {"negative partitions",
         numbered(3),
         -1,
         1,
         0,
         {kafka_error::invalid_partitions, "Number of partitions must be larger than 0."}},
        {"zero replicas",
         numbered(3),
         1,
         0,
         0,
         {kafka_error::invalid_replication_factor, "Replication factor must be larger than 0."}},
        {"more replicas than brokers",
         numbered(2),
         1,
         3,
         0,
         {kafka_error::invalid_replication_factor,
          "Replication factor: 3 larger than available brokers: 2."}},
        {"duplicate broker counts once",
         plain({1, 1, 2}),
         1,
         3,
         0,
         {kafka_error::invalid_replication_factor,
          "Replication factor: 3 larger than available brokers: 2."}},
        {"no brokers",
         {},
         1,
         1,
         0,
         {kafka_error::invalid_replication_factor,
          "Replication factor: 1 larger than available brokers: 0."}},
        {"racks on some brokers",
         {{node_id{1}, "a"}, {node_id{2}, std::nullopt}},
         1,
         1,
         0,
         {kafka_error::invalid_replication_factor,
          "Not all brokers have rack information for replica rack aware assignment."}},
    };
    for (const auto& c : cases) {
        auto got = assign_replicas(c.brokers, c.partitions, c.rf, 1, c.start_partition);
        ASSERT_FALSE(got.has_value()) << c.name;
        EXPECT_EQ(got.err(), c.expected) << c.name;
    }
}

TEST(assignment, partition_ids_are_bounded) {
    auto got = assign_replicas(numbered(1), 10, 1, 1, assigned_partitions_max - 5);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.err().code, kafka_error::invalid_partitions);
    EXPECT_TRUE(assign_replicas(numbered(1), 5, 1, 1, assigned_partitions_max - 5).has_value());
}

TEST(assignment, rack_modes_choose_the_algorithm) {
    std::vector<broker_rack> mixed = {{node_id{1}, "a"}, {node_id{2}, std::nullopt}};
    auto safe = assign_replicas(mixed, 4, 2, 1, 0, rack_mode::safe);
    ASSERT_TRUE(safe.has_value());
    EXPECT_EQ(safe.value(), assign_replicas(plain({1, 2}), 4, 2, 1).value());
    // Kafka's example with racks ignored is plain round robin over ids 0..5.
    auto disabled =
        assign_replicas_from(kafka_rack_example(), 6, 3, {0, 0}, 0, rack_mode::disabled);
    EXPECT_EQ(disabled.value(), assign_replicas_from(numbered(6), 6, 3, {0, 0}).value());
    EXPECT_NE(disabled.value(), assign_replicas_from(kafka_rack_example(), 6, 3, {0, 0}).value());
}

TEST(assignment, start_partition_continues_the_ids) {
    auto got = assign_replicas(numbered(3), 2, 2, 9, 3);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got.value().begin()->first, partition_id{3});
    EXPECT_EQ(got.value().rbegin()->first, partition_id{4});
    auto negative = assign_replicas(numbered(3), 2, 2, 9, -1);
    EXPECT_EQ(negative.value().begin()->first, partition_id{0});
}

TEST(assignment, added_partitions_continue_the_topics_rotation) {
    // A topic created with start index and shift 2 has partition 0 led by broker 2, which
    // is where CreatePartitions restarts: extending it gives what creating all partitions
    // at once would have given.
    auto cluster = numbered(5);
    auto existing = assign_replicas_from(cluster, 3, 3, {2, 2}).value();
    auto added = assign_added_partitions(cluster, existing, 8);
    ASSERT_TRUE(added.has_value()) << added.err().message;
    auto all = assign_replicas_from(cluster, 8, 3, {2, 2}).value();
    replica_map combined = existing;
    combined.insert(added.value().begin(), added.value().end());
    EXPECT_EQ(combined, all);
    EXPECT_EQ(added.value().begin()->first, partition_id{3});
}

TEST(assignment, added_partitions_refuse_shrinking_and_empty_topics) {
    auto cluster = numbered(3);
    auto existing = assign_replicas(cluster, 3, 2, 5).value();
    auto shrink = assign_added_partitions(cluster, existing, 2);
    ASSERT_FALSE(shrink.has_value());
    EXPECT_EQ(
        shrink.err(),
        (admin_error{kafka_error::invalid_partitions,
                     "Topic currently has 3 partitions, which is higher than the requested 2."}));
    auto same = assign_added_partitions(cluster, existing, 3);
    ASSERT_FALSE(same.has_value());
    EXPECT_EQ(same.err(),
              (admin_error{kafka_error::invalid_partitions, "Topic already has 3 partitions."}));
    replica_map no_p0 = {{partition_id{1}, n({1})}};
    EXPECT_EQ(assign_added_partitions(cluster, no_p0, 3).err().code,
              kafka_error::unknown_server_error);
    auto too_wide = assign_added_partitions(numbered(1), existing, 4);
    EXPECT_EQ(too_wide.err().code, kafka_error::invalid_replication_factor);
}

}  // namespace
}  // namespace gregor::controller

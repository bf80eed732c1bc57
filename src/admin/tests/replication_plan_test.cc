// Goal: `topics alter --replication-factor` asks for the targets its help promises, and
// `topics reassignments` shows what ListPartitionReassignments returned. Method: the pure
// planner on small hand-built assignments; the renderer on a hand-built response.
#include "admin/errc.h"
#include "admin/replication_plan.h"
#include "admin/report.h"

#include <gtest/gtest.h>

namespace gregor::admin {
namespace {

using ids = std::vector<model::node_id>;

ids of(std::initializer_list<std::int32_t> v) {
    ids out;
    for (auto i : v) {
        out.push_back(model::node_id(i));
    }
    return out;
}

model::partition_id part(std::int32_t p) {
    return model::partition_id(p);
}

TEST(replication_plan, growing_keeps_replicas_in_order_and_adds_least_loaded_brokers) {
    replica_lists current{{part(0), of({1})}, {part(1), of({2})}, {part(2), of({3})}};
    auto plan = plan_replication_factor(current, of({3, 1, 2}), 3);
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->size(), 3u);
    EXPECT_EQ(plan->at(part(0)), of({1, 2, 3}));
    // After partition 0, brokers 2 and 3 hold two replicas and broker 1 one: 1 goes first.
    EXPECT_EQ(plan->at(part(1)), of({2, 1, 3}));
    EXPECT_EQ(plan->at(part(2)), of({3, 1, 2}));
}

TEST(replication_plan, growing_spreads_over_the_least_loaded) {
    replica_lists current{{part(0), of({1})}, {part(1), of({1})}};
    auto plan = plan_replication_factor(current, of({1, 2, 3, 4}), 2);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->at(part(0)), of({1, 2}));
    EXPECT_EQ(plan->at(part(1)), of({1, 3}));
}

TEST(replication_plan, shrinking_keeps_the_preferred_leader_and_drops_the_most_loaded) {
    replica_lists current{{part(0), of({1, 2, 3})}, {part(1), of({2, 3, 1})},
                          {part(2), of({3, 1, 2})}};
    auto plan = plan_replication_factor(current, of({1, 2, 3}), 2);
    ASSERT_TRUE(plan);
    // Equal loads: the later replica goes; then the loads differ and every broker ends with two.
    EXPECT_EQ(plan->at(part(0)), of({1, 2}));
    EXPECT_EQ(plan->at(part(1)), of({2, 3}));
    EXPECT_EQ(plan->at(part(2)), of({3, 1}));
    for (const auto& [p, r] : *plan) {
        EXPECT_EQ(r.front(), current.at(p).front());
    }
}

TEST(replication_plan, partitions_already_at_the_factor_are_left_out) {
    replica_lists current{{part(0), of({1, 2})}, {part(1), of({2})}};
    auto plan = plan_replication_factor(current, of({1, 2}), 2);
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->size(), 1u);
    EXPECT_EQ(plan->at(part(1)), of({2, 1}));
}

TEST(replication_plan, impossible_factors_are_usage_errors) {
    replica_lists current{{part(0), of({1})}};
    auto too_many = plan_replication_factor(current, of({1, 2}), 3);
    ASSERT_FALSE(too_many);
    EXPECT_EQ(too_many.code(), errc::bad_usage);
    EXPECT_NE(too_many.err().to_string().find("2 broker"), std::string::npos);
    EXPECT_FALSE(plan_replication_factor(current, of({1, 2}), 0));
}

TEST(render_reassignments, text_json_and_topic_filter) {
    protocol::list_partition_reassignments_response r;
    auto& t = r.topics.emplace_back();
    t.name = "a";
    auto& p = t.partitions.emplace_back();
    p.partition_index = part(0);
    p.replicas = of({2, 3, 1});
    p.adding_replicas = of({2, 3});
    p.removing_replicas = of({1});
    r.topics.emplace_back().name = "b";
    r.topics.back().partitions.push_back(p);
    EXPECT_EQ(render_reassignments(r, {"a"}, output_format::text),
              "Topic: a\tPartition: 0\tReplicas: 2,3,1\tAdding: 2,3\tRemoving: 1\n");
    EXPECT_EQ(render_reassignments(r, {"c"}, output_format::text),
              "no reassignments in progress\n");
    EXPECT_EQ(render_reassignments(r, {"b"}, output_format::json),
              "{\"reassignments\":[{\"topic\":\"b\",\"partition\":0,\"replicas\":[2,3,1],"
              "\"adding\":[2,3],\"removing\":[1]}]}\n");
}

}  // namespace
}  // namespace gregor::admin

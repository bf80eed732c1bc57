// "Can broker N stop now?" from a hand-built controller context: healthy RF 3, a broker
// already down, a topic's min.insync.replicas override, a partition N alone holds.
#include "controller/can_stop.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gregor::controller {
namespace {

using model::node_id;

struct can_stop_fixture : ::testing::Test {
    controller_context ctx;

    void live(std::initializer_list<int> ids) {
        ctx.brokers.clear();
        for (int id : ids) {
            ctx.brokers[node_id(id)] = live_broker{node_id(id), model::broker_epoch(1), {}};
        }
    }
    void partition(const std::string& topic, int p, std::vector<int> replicas,
                   std::vector<int> isr) {
        partition_record r;
        for (int id : replicas) {
            r.replicas.push_back(node_id(id));
        }
        for (int id : isr) {
            r.state.isr.push_back(node_id(id));
        }
        r.state.leader = r.state.isr.empty() ? model::no_node : r.state.isr.front();
        ctx.topics[topic].partitions[model::partition_id(p)] = r;
    }
};

TEST_F(can_stop_fixture, a_healthy_rf3_cluster_can_lose_any_one_broker) {
    live({1, 2, 3});
    partition("t", 0, {1, 2, 3}, {1, 2, 3});
    partition("t", 1, {2, 3, 1}, {2, 3, 1});
    auto a = check_can_stop(ctx, node_id(2), {{"min.insync.replicas", "2"}});
    EXPECT_TRUE(a.can_stop);
    EXPECT_EQ(a.partitions_checked, 2U);
    EXPECT_TRUE(a.blockers.empty());
}

TEST_F(can_stop_fixture, with_a_broker_down_the_next_one_would_break_min_insync_replicas) {
    live({1, 3});  // broker 2 is gone; its replica left the ISRs
    partition("t", 0, {1, 2, 3}, {1, 3});
    partition("t", 1, {2, 3, 1}, {3, 1});
    partition("other", 0, {2, 3}, {3});  // no replica on 1: not checked
    auto a = check_can_stop(ctx, node_id(1), {{"min.insync.replicas", "2"}});
    EXPECT_FALSE(a.can_stop);
    EXPECT_EQ(a.partitions_checked, 2U);
    ASSERT_EQ(a.blockers.size(), 2U);
    EXPECT_EQ(a.blockers[0].tp, (model::topic_partition{"t", model::partition_id(0)}));
    EXPECT_NE(a.blockers[0].reason.find("below min.insync.replicas=2"), std::string::npos)
        << a.blockers[0].reason;
    // With Kafka's default of 1 it may stop: one in-sync replica stays.
    EXPECT_TRUE(check_can_stop(ctx, node_id(1), {}).can_stop);
}

TEST_F(can_stop_fixture, a_topic_override_wins_and_a_sole_replica_would_go_offline) {
    live({1, 2, 3});
    partition("strict", 0, {1, 2}, {1, 2});
    ctx.topics["strict"].config["min.insync.replicas"] = "2";
    partition("single", 0, {3}, {3});
    auto strict = check_can_stop(ctx, node_id(1), {});
    ASSERT_EQ(strict.blockers.size(), 1U);
    EXPECT_EQ(strict.blockers[0].tp.topic, "strict");
    auto single = check_can_stop(ctx, node_id(3), {});
    ASSERT_EQ(single.blockers.size(), 1U);
    EXPECT_NE(single.blockers[0].reason.find("offline"), std::string::npos);
    ctx.topics["single"].deleting = true;
    EXPECT_TRUE(check_can_stop(ctx, node_id(3), {}).can_stop) << "topics being deleted aside";
    auto doc = nlohmann::json::parse(to_json(strict));
    EXPECT_EQ(doc["broker"], 1);
    EXPECT_EQ(doc["can_stop"], false);
    EXPECT_EQ(doc["blockers"][0]["topic"], "strict");
    EXPECT_EQ(doc["blockers"][0]["partition"], 0);
}

TEST_F(can_stop_fixture, a_broker_that_is_not_running_can_always_stop) {
    live({1, 3});  // 2 is down, and the partition only it holds is already offline
    partition("single", 0, {2}, {2});
    partition("t", 0, {1, 2, 3}, {1, 3});
    auto a = check_can_stop(ctx, node_id(2), {{"min.insync.replicas", "3"}});
    EXPECT_TRUE(a.can_stop) << "restarting a dead broker is never refused";
    EXPECT_FALSE(a.running);
    EXPECT_EQ(nlohmann::json::parse(to_json(a))["running"], false);
    EXPECT_TRUE(check_can_stop(ctx, node_id(1), {}).running);
}

}  // namespace
}  // namespace gregor::controller

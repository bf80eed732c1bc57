// Goal: the controller behaves as Kafka's ZooKeeper-mode controller for the things users see:
// one controller per epoch, a new one with epoch + 1 when it goes, leaders elected from the
// ISR when a broker dies, new topics getting leaders, zombies fenced. Method: the real
// controller and broker registration of three simulated brokers on the in-memory ZooKeeper
// (sim_cluster), every request applied by a broker model with the brokers' fencing rules.
#include "controller/tests/sim_cluster.h"

#include "coord/znode_paths.h"

#include <gtest/gtest.h>

namespace gregor::controller::sim {
namespace {

using model::node_id;
using model::partition_id;

coord::replica_map replicas(std::initializer_list<std::vector<node_id>> parts) {
    coord::replica_map out;
    std::int32_t p = 0;
    for (const auto& r : parts) {
        out[partition_id(p++)] = r;
    }
    return out;
}

TEST(controller, exactly_one_broker_wins_the_first_election_with_epoch_1) {
    sim_cluster c(3);
    c.run();
    auto active = c.active_controllers();
    ASSERT_EQ(active.size(), 1U);
    auto node = c.ensemble.peek("/controller");
    ASSERT_TRUE(node);
    EXPECT_EQ(coord::decode_controller(node->data)->broker, active[0]);
    EXPECT_EQ(c.ensemble.peek("/controller_epoch")->data, "1");
    for (auto& n : c.nodes) {
        EXPECT_EQ(n->ctl->known_controller(), active[0]);
        EXPECT_EQ(n->model.controller, active[0]) << "broker " << n->id();
        EXPECT_EQ(n->model.live_brokers.size(), 3U);
    }
}

TEST(controller, new_topic_gets_first_live_replica_as_leader_and_every_broker_hears_it) {
    sim_cluster c(3);
    c.run();
    c.create_topic_znode("t", replicas({{node_id(2), node_id(3), node_id(1)},
                                        {node_id(3), node_id(1), node_id(2)}}));
    c.run();
    auto s0 = c.zk_state("t", 0);
    ASSERT_TRUE(s0);
    EXPECT_EQ(s0->leader, node_id(2));
    EXPECT_EQ(s0->leader_epoch, model::leader_epoch(0));
    EXPECT_EQ(s0->isr, (std::vector<node_id>{node_id(2), node_id(3), node_id(1)}));
    EXPECT_EQ(c.zk_state("t", 1)->leader, node_id(3));
    for (auto& n : c.nodes) {
        model::topic_partition tp{"t", partition_id(0)};
        ASSERT_TRUE(n->model.metadata.contains(tp)) << "broker " << n->id();
        EXPECT_EQ(n->model.metadata[tp].leader, node_id(2));
        EXPECT_EQ(n->model.partitions[tp].leader, node_id(2)) << "LeaderAndIsr to replica";
    }
}

TEST(controller, controller_death_elects_another_with_a_higher_epoch_and_it_keeps_the_role) {
    sim_cluster c(3);
    c.run();
    node_id first = c.active_controllers().at(0);
    c.kill(first());
    c.run();
    auto active = c.active_controllers();
    ASSERT_EQ(active.size(), 1U);
    EXPECT_NE(active[0], first);
    EXPECT_EQ(c.ensemble.peek("/controller_epoch")->data, "2");
    c.restart(first());
    c.run();
    EXPECT_EQ(c.active_controllers(), active) << "a returning broker does not take the role back";
    EXPECT_EQ(c.node(first()).model.controller, active[0]);
}

TEST(controller, leaders_of_a_dead_broker_move_to_live_isr_members_with_epoch_plus_one) {
    sim_cluster c(3);
    c.run();
    node_id ctl = c.active_controllers().at(0);
    node_id victim = node_id(ctl() % 3 + 1);  // not the controller
    node_id other = node_id(victim() % 3 + 1);
    c.create_topic_znode("t", replicas({{victim, other}}));
    c.run();
    c.kill(victim());
    c.run();
    auto s = c.zk_state("t", 0);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->leader, other);
    EXPECT_EQ(s->leader_epoch, model::leader_epoch(1));
    EXPECT_EQ(s->isr, std::vector<node_id>{other});
    model::topic_partition tp{"t", partition_id(0)};
    EXPECT_EQ(c.node(other()).model.partitions[tp].leader, other);
}

TEST(controller, partition_without_live_isr_member_goes_offline_and_returns_with_it) {
    sim_cluster c(3);
    c.run();
    node_id ctl = c.active_controllers().at(0);
    node_id victim = node_id(ctl() % 3 + 1);
    c.create_topic_znode("t", replicas({{victim}}));
    c.run();
    c.kill(victim());
    c.run();
    auto s = c.zk_state("t", 0);
    EXPECT_EQ(s->leader, model::no_node);
    EXPECT_EQ(s->isr, std::vector<node_id>{victim}) << "the last ISR member is kept";
    c.restart(victim());
    c.run();
    s = c.zk_state("t", 0);
    EXPECT_EQ(s->leader, victim);
    EXPECT_EQ(s->leader_epoch, model::leader_epoch(2));
}

TEST(controller, session_expiry_of_the_controller_moves_the_role_and_fences_the_old_epoch) {
    sim_cluster c(3);
    c.run();
    node_id first = c.active_controllers().at(0);
    c.expire(first());
    c.run();
    auto active = c.active_controllers();
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(c.ensemble.peek("/controller_epoch")->data, "2");
    for (auto& n : c.nodes) {
        EXPECT_EQ(n->model.controller_epoch, model::controller_epoch(2));
        ASSERT_FALSE(n->model.applied.empty());
        EXPECT_EQ(n->model.applied.back().first, model::controller_epoch(2));
        EXPECT_EQ(n->model.applied.back().second, c.activations.at(model::controller_epoch(2)));
    }
}

}  // namespace
}  // namespace gregor::controller::sim

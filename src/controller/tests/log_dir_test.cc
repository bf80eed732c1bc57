// Goal: a broker's log dir failure takes its replicas offline through the controller, as in
// Kafka's ZooKeeper mode: the controller reads and deletes the notification, asks the
// broker about every replica, and the replicas answered KAFKA_STORAGE_ERROR leave every
// ISR (leader epoch + 1), lose their leaderships to the rest of the ISR, are shown in
// UpdateMetadata's offline replicas and are not live for any election; a broker that
// registers again is trusted again. Method: sim_cluster (real controllers and registration
// on the in-memory ZooKeeper, broker models that answer KAFKA_STORAGE_ERROR for the replicas
// of a failed dir), plus the context's liveness rules on their own.
#include "controller/tests/sim_cluster.h"

#include "controller/context.h"
#include "controller/election.h"
#include "coord/znode_paths.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace gregor::controller::sim {
namespace {

using model::node_id;
using model::partition_id;

const model::topic_partition t0{"t", partition_id(0)};
const model::topic_partition t1{"t", partition_id(1)};

std::vector<node_id> ids(std::initializer_list<int> v) {
    std::vector<node_id> out;
    for (int i : v) {
        out.emplace_back(i);
    }
    return out;
}

// t-0 led by 1 and t-1 led by 2, both on all three brokers.
void make_topic(sim_cluster& c) {
    coord::replica_map a;
    a[partition_id(0)] = ids({1, 2, 3});
    a[partition_id(1)] = ids({2, 3, 1});
    c.create_topic_znode("t", a);
    c.run();
    ASSERT_EQ(c.zk_state("t", 1)->leader, node_id(2));
}

TEST(log_dir_failure, context_liveness_excludes_offline_replicas_of_that_partition_only) {
    controller_context ctx;
    for (int i = 1; i <= 3; ++i) {
        ctx.brokers[node_id(i)] = live_broker{node_id(i), model::broker_epoch(i), {}};
    }
    ctx.offline_replicas[node_id(2)].insert(t0);
    EXPECT_EQ(ctx.live_set(t0), (broker_set{node_id(1), node_id(3)}));
    EXPECT_EQ(ctx.live_set(t1), (broker_set{node_id(1), node_id(2), node_id(3)}));
    EXPECT_FALSE(ctx.replica_live(node_id(2), t0));
    EXPECT_TRUE(ctx.replica_live(node_id(2), t1));
    // Every strategy sees the offline replica as not live: it is never elected.
    auto won = elect_offline(ids({2, 1, 3}), ids({2, 1, 3}), ctx.live_set(t0), false);
    ASSERT_TRUE(won);
    EXPECT_EQ(won->leader, node_id(1));
    EXPECT_FALSE(elect_preferred(ids({2, 1, 3}), ids({2, 1, 3}), ctx.live_set(t0)));
    auto fresh = elect_initial(ids({2, 3}), ctx.live_set(t0));
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->isr, ids({3}));
}

TEST(log_dir_failure, offline_replicas_leave_the_isr_and_their_leaderships_move) {
    sim_cluster c(3);
    c.run();
    make_topic(c);
    c.fail_log_dir(2, {t0, t1});
    c.run();
    auto s0 = c.zk_state("t", 0);
    EXPECT_EQ(s0->leader, node_id(1));
    EXPECT_EQ(s0->isr, ids({1, 3}));
    EXPECT_EQ(s0->leader_epoch, model::leader_epoch(1));
    auto s1 = c.zk_state("t", 1);
    EXPECT_EQ(s1->leader, node_id(3)) << "the next ISR member in assignment order";
    EXPECT_EQ(s1->isr, ids({3, 1}));
    EXPECT_EQ(s1->leader_epoch, model::leader_epoch(1));
    for (int b : {1, 3}) {
        auto& md = c.node(b).model.metadata;
        EXPECT_EQ(md[t0].offline_replicas, ids({2})) << "broker " << b;
        EXPECT_EQ(md[t1].offline_replicas, ids({2})) << "broker " << b;
        EXPECT_EQ(md[t1].leader, node_id(3));
    }
    EXPECT_EQ(c.node(3).model.partitions[t1].leader, node_id(3)) << "LeaderAndIsr to the rest";
    auto left = c.ensemble.peek(std::string(coord::paths::log_dir_event_notification));
    ASSERT_TRUE(left);
    EXPECT_EQ(left->stat.num_children, 0) << "processed notifications are deleted";
}

TEST(log_dir_failure, a_new_controller_learns_the_offline_replicas_again) {
    sim_cluster c(3);
    c.run();
    make_topic(c);
    c.fail_log_dir(3, {t0});
    c.run();
    EXPECT_EQ(c.zk_state("t", 0)->isr, ids({1, 2}));
    node_id first = c.active_controllers().at(0);
    if (first == node_id(3)) {
        GTEST_SKIP() << "the failed broker is the controller; covered by the other tests";
    }
    // The next controller knows nothing of it until the broker answers its LeaderAndIsr.
    c.kill(first());
    c.run();
    node_id next = c.active_controllers().at(0);
    ASSERT_NE(next, first);
    const auto& offline = c.node(next()).model.metadata[t0].offline_replicas;
    EXPECT_NE(std::find(offline.begin(), offline.end(), node_id(3)), offline.end());
    auto s0 = c.zk_state("t", 0);
    EXPECT_NE(s0->leader, node_id(3)) << "the replica in the failed dir never leads";
    EXPECT_EQ(std::count(s0->isr.begin(), s0->isr.end(), node_id(3)), 0);
}

TEST(log_dir_failure, a_broker_that_registers_again_is_trusted_again) {
    sim_cluster c(3);
    c.run();
    make_topic(c);
    c.fail_log_dir(2, {t0});
    c.run();
    EXPECT_EQ(c.node(1).model.metadata[t0].offline_replicas, ids({2}));
    if (c.active_controllers().at(0) == node_id(2)) {
        GTEST_SKIP() << "the failed broker is the controller; covered by the other tests";
    }
    c.kill(2);
    c.run();
    c.restart(2);
    c.run();
    EXPECT_TRUE(c.node(1).model.metadata[t0].offline_replicas.empty());
    EXPECT_EQ(c.node(2).model.partitions[t0].leader, node_id(1))
        << "the restarted broker hears its replica's state and can catch up";
}

}  // namespace
}  // namespace gregor::controller::sim

// Goal: leadership returns to preferred replicas without an ElectLeaders request, as Kafka's
// controller does it: the automatic leader rebalance (checked when a controller wins and then
// periodically) and /admin/preferred_replica_election (processed at failover and whenever it is
// created, then deleted, malformed or not). Method: three simulated brokers (sim_cluster) on
// the in-memory ZooKeeper; a broker is killed and restarted so its leadership moves away, the
// leader then reports it back in the ISR (AlterPartition); the rebalance check is driven
// directly (check_leader_balance) or by a timer armed with no delay, which fires on the next
// poll of the simulated loop, so nothing waits for the wall clock.
#include "controller/tests/sim_cluster.h"

#include "coord/znode_paths.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

namespace gregor::controller::sim {
namespace {

using model::node_id;
using model::partition_id;
using namespace std::chrono_literals;

// The rebalance on, its timer never firing during a test (checks are driven by hand).
void rebalance_by_hand(controller_config& c) {
    c.auto_leader_rebalance = true;
    c.leader_imbalance_first_check = 24h;
    c.leader_imbalance_check_interval = 24h;
}

// Three brokers, topic "t" with partition 0 on [a, b]: a is killed and restarted, so b leads;
// then b reports a back in the ISR. Leaves the preferred replica `a` eligible but not leading.
struct displaced {
    node_id controller_id;
    node_id a;
    node_id b;
};

displaced displace_preferred_leader(sim_cluster& c) {
    c.run();
    displaced d;
    d.controller_id = c.active_controllers().at(0);
    d.a = node_id(d.controller_id() % 3 + 1);
    d.b = node_id(d.a() % 3 + 1);
    coord::replica_map parts;
    parts[partition_id(0)] = {d.a, d.b};
    c.create_topic_znode("t", parts);
    c.run();
    c.kill(d.a());
    c.run();
    c.restart(d.a());
    c.run();
    auto before = *c.zk_state("t", 0);
    EXPECT_EQ(before.leader, d.b);
    protocol::alter_partition_request ap;
    ap.broker_id = d.b;
    ap.broker_epoch = model::no_broker_epoch;
    auto& tp = ap.topics.emplace_back();
    tp.topic_name = "t";
    auto& pp = tp.partitions.emplace_back();
    pp.partition_index = partition_id(0);
    pp.leader_epoch = before.leader_epoch;
    pp.new_isr = {d.b, d.a};
    pp.partition_epoch =
        c.ensemble.peek(coord::paths::partition_state("t", partition_id(0)))->stat.version();
    std::optional<std::int16_t> err;
    controller& ctl = *c.node(d.controller_id()).ctl;
    asio::co_spawn(
        c.ioc,
        [&]() -> asio::awaitable<void> {
            auto r = co_await ctl.alter_partition(ap, 1);
            err = r.topics.at(0).partitions.at(0).error_code;
        },
        asio::detached);
    c.run();
    EXPECT_EQ(err, std::optional<std::int16_t>(0));
    EXPECT_EQ(c.zk_state("t", 0)->isr, (std::vector<node_id>{d.b, d.a}));
    return d;
}

void write_election_node(sim_cluster& c, const std::string& data) {
    coord::fake_client admin(c.ensemble);
    admin.create("/admin", "", coord::create_mode::persistent, [](result<std::string>) {});
    admin.create(std::string(coord::paths::preferred_replica_election), data,
                 coord::create_mode::persistent, [](result<std::string>) {});
    c.settle();
}

std::string election_request_for_t0() {
    std::vector<model::topic_partition> ps{{"t", partition_id(0)}};
    return coord::encode_partition_list(ps);
}

TEST(rebalance, check_moves_leadership_back_to_the_preferred_in_sync_replica) {
    sim_cluster c(3, 1, rebalance_by_hand);
    displaced d = displace_preferred_leader(c);
    auto before = *c.zk_state("t", 0);
    c.node(d.controller_id()).ctl->check_leader_balance();
    c.run();
    auto after = *c.zk_state("t", 0);
    EXPECT_EQ(after.leader, d.a);
    EXPECT_EQ(after.leader_epoch, model::leader_epoch(before.leader_epoch() + 1));
    EXPECT_EQ(after.isr, before.isr) << "a preferred election leaves the ISR alone";
    model::topic_partition t0{"t", partition_id(0)};
    EXPECT_EQ(c.node(d.a()).model.partitions[t0].leader, d.a) << "LeaderAndIsr reached it";
    EXPECT_EQ(c.node(d.b()).model.metadata[t0].leader, d.a) << "UpdateMetadata reached it";
}

TEST(rebalance, nothing_moves_when_disabled_or_at_the_threshold) {
    for (bool enabled : {false, true}) {
        sim_cluster c(3, 1, [enabled](controller_config& cfg) {
            rebalance_by_hand(cfg);
            cfg.auto_leader_rebalance = enabled;
            cfg.leader_imbalance_percentage = 100;  // 1 of 1 not led is 100%: not over it
        });
        displaced d = displace_preferred_leader(c);
        c.node(d.controller_id()).ctl->check_leader_balance();
        c.run();
        EXPECT_EQ(c.zk_state("t", 0)->leader, d.b) << "enabled " << enabled;
    }
}

TEST(rebalance, a_preferred_replica_out_of_the_isr_is_not_elected) {
    sim_cluster c(3, 1, rebalance_by_hand);
    c.run();
    node_id ctl = c.active_controllers().at(0);
    node_id a = node_id(ctl() % 3 + 1);
    node_id b = node_id(a() % 3 + 1);
    coord::replica_map parts;
    parts[partition_id(0)] = {a, b};
    c.create_topic_znode("t", parts);
    c.run();
    c.kill(a());
    c.run();
    c.restart(a());
    c.run();  // a is back but has not caught up: not in the ISR
    auto before = *c.zk_state("t", 0);
    c.node(ctl()).ctl->check_leader_balance();
    c.run();
    auto after = *c.zk_state("t", 0);
    EXPECT_EQ(after.leader, b);
    EXPECT_EQ(after.leader_epoch, before.leader_epoch) << "no election was written";
}

TEST(rebalance, a_newly_elected_controller_arms_the_timer_and_rebalances) {
    // The first check comes at once after winning (Kafka: 5 s); the next a day later.
    sim_cluster c(3, 1, [](controller_config& cfg) {
        rebalance_by_hand(cfg);
        cfg.leader_imbalance_first_check = 0ms;
    });
    displaced d = displace_preferred_leader(c);
    EXPECT_EQ(c.zk_state("t", 0)->leader, d.b) << "the old controller's check was before";
    c.kill(d.controller_id());  // neither a nor b: the partition is untouched by this
    c.run();
    auto active = c.active_controllers();
    ASSERT_EQ(active.size(), 1U);
    EXPECT_NE(active[0], d.controller_id);
    EXPECT_EQ(c.zk_state("t", 0)->leader, d.a) << "the new controller's first check moved it";
}

TEST(rebalance, election_znode_created_while_active_is_acted_on_and_deleted) {
    sim_cluster c(3);
    displaced d = displace_preferred_leader(c);
    write_election_node(c, election_request_for_t0());
    c.run();
    EXPECT_EQ(c.zk_state("t", 0)->leader, d.a);
    EXPECT_FALSE(c.ensemble.peek(std::string(coord::paths::preferred_replica_election)));
    // The watch is set again: a second request is served too (nothing to do, still deleted).
    write_election_node(c, election_request_for_t0());
    c.run();
    EXPECT_FALSE(c.ensemble.peek(std::string(coord::paths::preferred_replica_election)));
}

TEST(rebalance, malformed_election_znode_is_deleted_and_the_controller_carries_on) {
    sim_cluster c(3);
    displaced d = displace_preferred_leader(c);
    const std::vector<std::string> malformed{
        "{not json", R"({"version":1,"partitions":[{"topic":"t"}]})",
        R"({"version":1,"partitions":"t"})", ""};
    for (const std::string& bad : malformed) {
        write_election_node(c, bad);
        c.run();
        EXPECT_FALSE(c.ensemble.peek(std::string(coord::paths::preferred_replica_election)))
            << bad;
        EXPECT_EQ(c.zk_state("t", 0)->leader, d.b) << bad;
        EXPECT_EQ(c.active_controllers(), std::vector<node_id>{d.controller_id}) << bad;
    }
    write_election_node(c, election_request_for_t0());
    c.run();
    EXPECT_EQ(c.zk_state("t", 0)->leader, d.a) << "a valid request after bad ones still works";
}

TEST(rebalance, election_znode_pending_at_failover_is_processed_after_the_state_load) {
    sim_cluster c(3);
    displaced d = displace_preferred_leader(c);
    // Written while the controller is gone: its session closes before the node appears.
    sim_node& old = c.node(d.controller_id());
    old.alive = false;
    old.registration.reset();
    old.ctl.reset();
    c.settle();
    write_election_node(c, election_request_for_t0());
    old.zk.reset();
    c.run();
    ASSERT_EQ(c.active_controllers().size(), 1U);
    EXPECT_EQ(c.zk_state("t", 0)->leader, d.a);
    EXPECT_FALSE(c.ensemble.peek(std::string(coord::paths::preferred_replica_election)));
}

}  // namespace
}  // namespace gregor::controller::sim

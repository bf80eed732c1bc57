// Goal: the controller behaves as Kafka's ZooKeeper-mode controller for the things users see:
// one controller per epoch, a new one with epoch + 1 when it goes, leaders elected from the
// ISR when a broker dies, new topics getting leaders, zombies fenced. Method: the real
// controller and broker registration of three simulated brokers on the in-memory ZooKeeper
// (sim_cluster), every request applied by a broker model with the brokers' fencing rules.
#include "controller/tests/await_call.h"
#include "controller/tests/sim_cluster.h"
#include "coord/fake_client.h"
#include "coord/znode_paths.h"
#include "model/kafka_error.h"
#include "protocol/messages/controlled_shutdown.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include <algorithm>

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

struct roles {
    node_id ctl;
    node_id victim;  // not the controller
    node_id other;
};

// Runs the cluster and creates topic t, one partition on [victim, other], led by victim.
roles topic_led_by_a_plain_broker(sim_cluster& c) {
    c.run();
    node_id ctl = c.active_controllers().at(0);
    node_id victim = node_id(ctl() % 3 + 1);
    node_id other = node_id(victim() % 3 + 1);
    c.create_topic_znode("t", replicas({{victim, other}}));
    c.run();
    return {ctl, victim, other};
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

// A stopping broker steps down by deleting /controller, and must not then win the election
// its own deletion starts: alone in its cluster, it would load every partition again just
// before it exits, and a new epoch would be spent on nothing.
TEST(controller, a_stopping_controller_steps_down_and_does_not_win_the_next_election) {
    sim_cluster c(1);
    c.run();
    ASSERT_EQ(c.active_controllers(), std::vector<node_id>{node_id(1)});
    await<bool>(c, [&]() -> asio::awaitable<bool> {
        co_await c.node(1).ctl->stop();
        co_return true;
    });
    EXPECT_TRUE(c.active_controllers().empty());
    EXPECT_FALSE(c.ensemble.peek(std::string(coord::paths::controller)).has_value())
        << "the stopping broker took the role again";
    EXPECT_EQ(c.ensemble.peek("/controller_epoch")->data, "1");
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

// A topic's assignment is one znode, and ZooKeeper closes a connection whose request is over
// its 1 MiB: a topic of 100,000 partitions with RF 3 (about 1.6 MB) is refused with
// INVALID_PARTITIONS and a message, the controller keeps its session and role, and so is
// growing a topic past that size. Smaller topics are still created.
TEST(controller, a_topic_too_large_for_one_znode_is_refused_and_the_controller_carries_on) {
    sim_cluster c(3);
    c.run();
    const auto active = c.active_controllers().at(0);
    controller* ctl = c.node(active()).ctl.get();
    auto create = [&](const std::string& name, std::int32_t partitions) {
        protocol::create_topics_request req;
        protocol::create_topics_request::creatable_topic t;
        t.name = name;
        t.num_partitions = partitions;
        t.replication_factor = 3;
        req.topics.push_back(t);
        std::function<asio::awaitable<protocol::create_topics_response>()> call = [&] {
            return ctl->create_topics(req, 7);
        };
        return await(c, call).topics.at(0);
    };
    const auto huge = create("huge", 100'000);
    EXPECT_EQ(huge.error_code, model::to_wire(model::kafka_error::invalid_partitions));
    EXPECT_NE(huge.error_message.value_or("").find("100000 partitions"), std::string::npos)
        << huge.error_message.value_or("");
    EXPECT_FALSE(c.ensemble.peek(coord::paths::topic("huge")).has_value());
    EXPECT_EQ(c.active_controllers(), std::vector<node_id>{active});

    ASSERT_EQ(create("small", 10).error_code, 0);
    protocol::create_partitions_request grow;
    grow.topics.push_back({"small", 100'000, std::nullopt, {}});
    std::function<asio::awaitable<protocol::create_partitions_response>()> call = [&] {
        return ctl->create_partitions(grow);
    };
    const auto grown = await(c, call).results.at(0);
    EXPECT_EQ(grown.error_code, model::to_wire(model::kafka_error::invalid_partitions));
    EXPECT_TRUE(grown.error_message.has_value());
    c.run();
    EXPECT_EQ(c.zk_state("small", 9)->leader_epoch, model::leader_epoch(0));
    EXPECT_FALSE(c.zk_state("small", 10));
    EXPECT_EQ(c.active_controllers(), std::vector<node_id>{active});
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
    auto [ctl, victim, other] = topic_led_by_a_plain_broker(c);
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

// A ZooKeeper without multiRead (before 3.6): the failover reads the state one znode at a
// time instead, and ends in the same place.
TEST(controller, failover_on_a_server_without_batched_reads_loads_the_state_one_by_one) {
    sim_cluster c(3);
    c.run();
    node_id ctl = c.active_controllers().at(0);
    node_id a = node_id(ctl() % 3 + 1);
    node_id b = node_id(a() % 3 + 1);
    c.create_topic_znode("t", replicas({{ctl, a}, {a, b}, {b, ctl}}));
    c.run();
    for (auto& n : c.nodes) {
        dynamic_cast<coord::fake_client&>(*n->zk).fail_read_many(
            make_error_code(coord::errc::unsupported));
    }
    c.kill(ctl());
    c.run();
    auto active = c.active_controllers();
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(c.zk_state("t", 0)->leader, a) << "the dead controller's partition moved";
    EXPECT_EQ(c.zk_state("t", 0)->leader_epoch, model::leader_epoch(1));
    EXPECT_EQ(c.zk_state("t", 1)->leader_epoch, model::leader_epoch(0)) << "the rest untouched";
    EXPECT_EQ(c.zk_state("t", 2)->leader, b);
    for (node_id id : {a, b}) {
        for (int p = 0; p < 3; ++p) {
            model::topic_partition tp{"t", partition_id(p)};
            ASSERT_TRUE(c.node(id()).model.metadata.contains(tp)) << "broker " << id() << " p" << p;
            EXPECT_EQ(c.node(id()).model.metadata[tp].leader, c.zk_state("t", p)->leader);
        }
    }
}

// Kafka's controlled shutdown: leaders move to other ISR members, the stopping broker leaves
// every ISR, and every replica it holds is stopped (StopReplica, log kept) so that it does not
// catch up and get proposed for the ISR again while it exits.
TEST(controller, controlled_shutdown_moves_leaders_and_stops_every_replica_of_the_broker) {
    sim_cluster c(3);
    c.run();
    node_id ctl = c.active_controllers().at(0);
    node_id victim = node_id(ctl() % 3 + 1);
    node_id a = node_id(victim() % 3 + 1);
    node_id b = node_id(a() % 3 + 1);
    c.create_topic_znode("t", replicas({{victim, a, b}, {a, victim, b}, {b, a, victim}}));
    c.run();
    protocol::controlled_shutdown_request req;
    req.broker_id = victim;
    auto r = await<protocol::controlled_shutdown_response>(
        c, [&] { return c.node(ctl()).ctl->controlled_shutdown(req); });
    EXPECT_EQ(r.error_code, 0);
    EXPECT_TRUE(r.remaining_partitions.empty());
    for (int p = 0; p < 3; ++p) {
        auto s = c.zk_state("t", p);
        ASSERT_TRUE(s);
        EXPECT_NE(s->leader, victim) << p;
        EXPECT_EQ(std::count(s->isr.begin(), s->isr.end(), victim), 0) << p;
        model::topic_partition tp{"t", partition_id(p)};
        const broker_partition& held = c.node(victim()).model.partitions[tp];
        EXPECT_TRUE(held.stopped) << "partition " << p << " still followed by the stopping broker";
        EXPECT_EQ(held.leader_epoch, s->leader_epoch) << p;
        EXPECT_EQ(c.node(a()).model.metadata[tp].leader, s->leader) << p;
    }
}

// State writes go many to a fenced multi; one stale version must fail alone, not the whole
// multi: the other partitions of the round still get their new leaders.
TEST(controller, a_stale_state_version_fails_only_its_partition_in_a_batched_write) {
    sim_cluster c(3);
    c.run();
    node_id ctl = c.active_controllers().at(0);
    node_id victim = node_id(ctl() % 3 + 1);
    node_id other = node_id(victim() % 3 + 1);
    c.create_topic_znode("t", replicas({{victim, other}, {victim, other}, {victim, other}}));
    c.run();
    // Someone else rewrites partition 1's state (same content, a new znode version).
    coord::fake_client admin(c.ensemble);
    auto path = coord::paths::partition_state("t", partition_id(1));
    auto before = c.zk_state("t", 1);
    ASSERT_TRUE(before);
    admin.set(path, coord::encode_partition_state(*before), model::zk_version(-1),
              [](result<coord::znode_stat>) {});
    c.run();
    c.kill(victim());
    c.run();
    for (int p : {0, 2}) {
        auto s = c.zk_state("t", p);
        ASSERT_TRUE(s);
        EXPECT_EQ(s->leader, other) << p;
        EXPECT_EQ(s->leader_epoch, model::leader_epoch(1)) << p;
    }
    auto stale = c.zk_state("t", 1);
    ASSERT_TRUE(stale);
    EXPECT_EQ(*stale, *before);  // its conditional write failed: nothing changed
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

// A broker whose session ended and who registered again before the controller looked (a
// restart while the old run's node lingered) comes back with a new broker epoch: a bounce.
// What it led gets a new leader epoch, as in Kafka, since the new run's log may lack what
// the old one had and the same epoch would hide that from the followers.
TEST(controller, a_bounced_leader_loses_its_leaderships_to_a_new_leader_epoch) {
    sim_cluster c(3);
    auto [ctl, victim, other] = topic_led_by_a_plain_broker(c);
    auto before = c.zk_state("t", 0);
    ASSERT_EQ(before->leader, victim);
    model::broker_epoch old_epoch = c.node(victim()).model.epoch;
    c.expire(victim());
    c.run();
    ASSERT_NE(c.node(victim()).model.epoch, old_epoch) << "registered again";
    auto after = c.zk_state("t", 0);
    EXPECT_GT(after->leader_epoch, before->leader_epoch);
    EXPECT_EQ(after->leader, other) << "the other ISR member took over";
}

// Fast crash detection: a crashed broker's ZooKeeper session lingers, but once the channels
// prove its process gone the controller deletes its registration and moves its leaders at
// once, without waiting for the session to expire.
TEST(controller, leaders_of_a_broker_whose_process_is_proven_gone_move_before_its_session_ends) {
    sim_cluster c(3);
    auto [ctl, victim, other] = topic_led_by_a_plain_broker(c);
    c.crash(victim());
    c.run();
    ASSERT_EQ(c.zk_state("t", 0)->leader, victim) << "the session lingers: nothing moved yet";
    ASSERT_TRUE(c.ensemble.peek(coord::paths::broker(victim)).has_value());

    c.report_gone(ctl(), victim());
    c.run();
    EXPECT_FALSE(c.ensemble.peek(coord::paths::broker(victim)).has_value());
    auto s = c.zk_state("t", 0);
    EXPECT_EQ(s->leader, other);
    EXPECT_EQ(s->leader_epoch, model::leader_epoch(1));
    EXPECT_EQ(s->isr, std::vector<node_id>{other});
    auto moved = c.node(ctl()).ctl->journal().find({});
    ASSERT_FALSE(moved.empty());
    EXPECT_EQ(moved.back().reason, "broker process gone (" + std::to_string(victim()) + ")");

    // The session's end later changes nothing more.
    c.expire_crashed(victim());
    c.run();
    EXPECT_EQ(c.zk_state("t", 0)->leader_epoch, model::leader_epoch(1));
}

// A report about a live broker (a firewall answering for it, say) costs it a bounce, not its
// membership: it registers again with a new epoch and the controller takes it back.
TEST(controller, a_live_broker_wrongly_reported_gone_registers_again_and_is_taken_back) {
    sim_cluster c(3);
    auto [ctl, victim, other] = topic_led_by_a_plain_broker(c);
    model::broker_epoch before = c.node(victim()).model.epoch;
    c.report_gone(ctl(), victim());
    c.run();
    auto node = c.ensemble.peek(coord::paths::broker(victim));
    ASSERT_TRUE(node.has_value()) << "registered again";
    EXPECT_GT(model::broker_epoch{node->stat.czxid()}, before);
    EXPECT_EQ(c.node(victim()).model.epoch, model::broker_epoch{node->stat.czxid()})
        << "the controller addresses the new run";
    const auto& known = c.node(ctl()).ctl->context().brokers;
    ASSERT_TRUE(known.contains(victim));
    EXPECT_EQ(known.at(victim).epoch, model::broker_epoch{node->stat.czxid()});
    EXPECT_EQ(c.zk_state("t", 0)->leader, other) << "its leaderships moved, as in a bounce";
}

TEST(controller, fast_crash_detection_off_leaves_a_crashed_broker_to_its_session_timeout) {
    sim_cluster c(3, 1, [](controller_config& cfg) { cfg.fast_crash_detection = false; });
    auto [ctl, victim, other] = topic_led_by_a_plain_broker(c);
    c.crash(victim());
    c.report_gone(ctl(), victim());
    c.run();
    EXPECT_TRUE(c.ensemble.peek(coord::paths::broker(victim)).has_value());
    EXPECT_EQ(c.zk_state("t", 0)->leader, victim);
    c.expire_crashed(victim());
    c.run();
    EXPECT_EQ(c.zk_state("t", 0)->leader, other);
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

std::int16_t election_error(const protocol::elect_leaders_response& r) {
    return r.replica_election_results.at(0).partition_result.at(0).error_code;
}

TEST(controller, elect_leaders_moves_a_partition_back_to_its_preferred_in_sync_replica) {
    sim_cluster c(3);
    c.run();
    controller& ctl = *c.node(c.active_controllers().at(0)()).ctl;
    node_id a = node_id(c.active_controllers().at(0)() % 3 + 1);  // not the controller
    node_id b = node_id(a() % 3 + 1);
    c.create_topic_znode("t", replicas({{a, b}}));
    c.run();
    c.kill(a());
    c.run();
    c.restart(a());
    c.run();
    ASSERT_EQ(c.zk_state("t", 0)->leader, b);
    protocol::elect_leaders_request req;
    req.election_type = 0;
    req.topic_partitions = std::vector<protocol::elect_leaders_request::topic_partitions_entry>{
        {"t", {partition_id(0)}, {}}};
    std::function<asio::awaitable<protocol::elect_leaders_response>()> elect = [&] {
        return ctl.elect_leaders(req, 2);
    };
    // `a` is back but not in the ISR yet: it may not lead.
    EXPECT_EQ(election_error(await(c, elect)),
              static_cast<std::int16_t>(model::kafka_error::preferred_leader_not_available));

    // The leader reports `a` caught up; now the preferred election moves leadership to it.
    auto before = *c.zk_state("t", 0);
    protocol::alter_partition_request ap;
    ap.broker_id = b;
    ap.broker_epoch = model::no_broker_epoch;
    auto& tp = ap.topics.emplace_back();
    tp.topic_name = "t";
    auto& pp = tp.partitions.emplace_back();
    pp.partition_index = partition_id(0);
    pp.leader_epoch = before.leader_epoch;
    pp.new_isr = {b, a};
    pp.partition_epoch =
        c.ensemble.peek(coord::paths::partition_state("t", partition_id(0)))->stat.version();
    std::function<asio::awaitable<protocol::alter_partition_response>()> alter = [&] {
        return ctl.alter_partition(ap, 1);
    };
    ASSERT_EQ(await(c, alter).topics.at(0).partitions.at(0).error_code, 0);
    EXPECT_EQ(election_error(await(c, elect)), 0);
    auto after = *c.zk_state("t", 0);
    EXPECT_EQ(after.leader, a);
    EXPECT_EQ(after.leader_epoch, model::leader_epoch(before.leader_epoch() + 1));
    model::topic_partition t0{"t", partition_id(0)};
    EXPECT_EQ(c.node(a()).model.partitions[t0].leader, a);
    EXPECT_EQ(election_error(await(c, elect)),
              static_cast<std::int16_t>(model::kafka_error::election_not_needed));
}

TEST(controller, unclean_election_picks_a_live_out_of_sync_replica_only_when_no_leader_lives) {
    sim_cluster c(3);
    c.run();
    controller& ctl = *c.node(c.active_controllers().at(0)()).ctl;
    node_id a = node_id(c.active_controllers().at(0)() % 3 + 1);
    node_id b = node_id(a() % 3 + 1);
    c.create_topic_znode("t", replicas({{a, b}}));
    c.run();
    c.kill(b());
    c.run();  // ISR [a]
    c.kill(a());
    c.run();  // no leader: the last ISR member is dead
    c.restart(b());
    c.run();
    ASSERT_EQ(c.zk_state("t", 0)->leader, model::no_node);
    protocol::elect_leaders_request req;
    req.election_type = 1;
    req.topic_partitions = std::vector<protocol::elect_leaders_request::topic_partitions_entry>{
        {"t", {partition_id(0)}, {}}};
    std::function<asio::awaitable<protocol::elect_leaders_response>()> elect = [&] {
        return ctl.elect_leaders(req, 2);
    };
    EXPECT_EQ(election_error(await(c, elect)), 0);
    auto s = *c.zk_state("t", 0);
    EXPECT_EQ(s.leader, b);
    EXPECT_EQ(s.isr, std::vector<node_id>{b});
    EXPECT_EQ(election_error(await(c, elect)),
              static_cast<std::int16_t>(model::kafka_error::election_not_needed));
}

TEST(controller, create_partitions_adds_led_partitions_and_refuses_shrinking) {
    sim_cluster c(3);
    c.run();
    controller& ctl = *c.node(c.active_controllers().at(0)()).ctl;
    c.create_topic_znode("t", replicas({{node_id(1), node_id(2)}, {node_id(2), node_id(3)}}));
    c.run();
    protocol::create_partitions_request req;
    req.topics.push_back({"t", 4, std::nullopt, {}});
    std::function<asio::awaitable<protocol::create_partitions_response>()> grow = [&] {
        return ctl.create_partitions(req);
    };
    ASSERT_EQ(await(c, grow).results.at(0).error_code, 0);
    auto a = coord::decode_topic(c.ensemble.peek(coord::paths::topic("t"))->data);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->partitions.size(), 4U);
    for (int p = 2; p < 4; ++p) {
        EXPECT_EQ(a->partitions.at(partition_id(p)).size(), 2U) << "the topic's replication factor";
        auto s = c.zk_state("t", p);
        ASSERT_TRUE(s) << "partition " << p << " has a state";
        EXPECT_EQ(s->leader, a->partitions.at(partition_id(p)).front());
    }
    req.topics[0].count = 3;
    EXPECT_EQ(await(c, grow).results.at(0).error_code,
              static_cast<std::int16_t>(model::kafka_error::invalid_partitions));
    req.topics[0].name = "missing";
    EXPECT_EQ(await(c, grow).results.at(0).error_code,
              static_cast<std::int16_t>(model::kafka_error::unknown_topic_or_partition));
}

}  // namespace
}  // namespace gregor::controller::sim

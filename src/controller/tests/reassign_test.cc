// Goal: partition reassignment (KIP-455) does what kafka-reassign-partitions.sh users rely on:
// the new replicas join as followers, the move completes once they are in the ISR, leadership
// leaves replicas being removed, a cancel reverts, a new controller resumes a move, and bad
// requests get Kafka's errors. Method: the real controller on three simulated brokers
// (sim_cluster); ISR growth is reported through AlterPartition as a leader would.
#include "controller/tests/await_call.h"
#include "controller/tests/sim_cluster.h"

#include "coord/znode_paths.h"
#include "model/kafka_error.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

namespace gregor::controller::sim {
namespace {

using model::kafka_error;
using model::node_id;
using model::partition_id;
using ids = std::vector<node_id>;
using alter_request = protocol::alter_partition_reassignments_request;
using alter_response = protocol::alter_partition_reassignments_response;
using list_request = protocol::list_partition_reassignments_request;
using list_response = protocol::list_partition_reassignments_response;

controller& active(sim_cluster& c) {
    return *c.node(c.active_controllers().at(0)()).ctl;
}

// Asks the active controller to move t-<p> to `target` (nullopt: cancel); the error code.
std::int16_t reassign(sim_cluster& c, const std::string& topic, int p,
                      const std::optional<ids>& target) {
    alter_request req;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    t.partitions.push_back({partition_id(p), target, {}});
    controller& ctl = active(c);
    std::function<asio::awaitable<alter_response>()> call = [&] {
        return ctl.alter_partition_reassignments(req);
    };
    auto r = await(c, call);
    EXPECT_EQ(r.error_code, 0);
    return r.responses.at(0).partitions.at(0).error_code;
}

list_response list(sim_cluster& c) {
    list_request req;
    req.topics = std::nullopt;
    controller& ctl = active(c);
    std::function<asio::awaitable<list_response>()> call = [&] {
        return ctl.list_partition_reassignments(req);
    };
    return await(c, call);
}

// The leader of t-0 reports `isr` (AlterPartition v1); returns the partition's error code.
std::int16_t report_isr(sim_cluster& c, const ids& isr) {
    auto state = *c.zk_state("t", 0);
    protocol::alter_partition_request ap;
    ap.broker_id = state.leader;
    ap.broker_epoch = model::no_broker_epoch;
    auto& tp = ap.topics.emplace_back();
    tp.topic_name = "t";
    auto& pp = tp.partitions.emplace_back();
    pp.partition_index = partition_id(0);
    pp.leader_epoch = state.leader_epoch;
    pp.new_isr = isr;
    pp.partition_epoch =
        c.ensemble.peek(coord::paths::partition_state("t", partition_id(0)))->stat.version();
    controller& ctl = active(c);
    std::function<asio::awaitable<protocol::alter_partition_response>()> call = [&] {
        return ctl.alter_partition(ap, 1);
    };
    return await(c, call).topics.at(0).partitions.at(0).error_code;
}

coord::topic_assignment topic_znode(sim_cluster& c) {
    auto a = coord::decode_topic(c.ensemble.peek(coord::paths::topic("t"))->data);
    EXPECT_TRUE(a);
    return a ? *a : coord::topic_assignment{};
}

std::int16_t code(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

// Three brokers and topic t with one partition on `replicas`; the controller is broker ctl.
struct fixture {
    explicit fixture(const std::function<ids(node_id, node_id, node_id)>& replicas) : c(3) {
        c.run();
        ctl = c.active_controllers().at(0);
        a = node_id(ctl() % 3 + 1);  // a and b are not the controller
        b = node_id(a() % 3 + 1);
        coord::replica_map m;
        m[partition_id(0)] = replicas(a, b, ctl);
        c.create_topic_znode("t", m);
        c.run();
    }
    sim_cluster c;
    node_id ctl, a, b;
    model::topic_partition t0{"t", partition_id(0)};
};

TEST(reassignment, new_replicas_follow_and_the_move_completes_once_they_are_in_the_isr) {
    fixture f([](node_id a, node_id, node_id) { return ids{a}; });
    auto& c = f.c;
    auto before = *c.zk_state("t", 0);
    ASSERT_EQ(reassign(c, "t", 0, ids{f.a, f.b, f.ctl}), 0);
    auto moving = topic_znode(c);
    EXPECT_EQ(moving.partitions.at(partition_id(0)), (ids{f.a, f.b, f.ctl}));
    EXPECT_EQ(moving.adding_replicas.at(partition_id(0)), (ids{f.b, f.ctl}));
    EXPECT_TRUE(moving.removing_replicas.at(partition_id(0)).empty());
    auto started = *c.zk_state("t", 0);
    EXPECT_EQ(started.leader, f.a);
    EXPECT_EQ(started.leader_epoch(), before.leader_epoch() + 1);
    // The added replicas heard LeaderAndIsr and follow the leader.
    EXPECT_EQ(c.node(f.b()).model.partitions[f.t0].leader, f.a);
    EXPECT_EQ(c.node(f.ctl()).model.partitions[f.t0].leader, f.a);
    auto l = list(c);
    ASSERT_EQ(l.topics.size(), 1U);
    EXPECT_EQ(l.topics[0].partitions.at(0).adding_replicas, (ids{f.b, f.ctl}));

    ASSERT_EQ(report_isr(c, ids{f.a, f.b}), 0);
    EXPECT_FALSE(topic_znode(c).adding_replicas.empty()) << "one target replica is missing";
    ASSERT_EQ(report_isr(c, ids{f.a, f.b, f.ctl}), 0);
    auto done = topic_znode(c);
    EXPECT_EQ(done.partitions.at(partition_id(0)), (ids{f.a, f.b, f.ctl}));
    EXPECT_TRUE(done.adding_replicas.empty());
    EXPECT_TRUE(done.removing_replicas.empty());
    EXPECT_EQ(c.zk_state("t", 0)->leader_epoch(), started.leader_epoch() + 1);
    EXPECT_TRUE(list(c).topics.empty());
    EXPECT_EQ(c.node(f.b()).model.metadata[f.t0].isr, (ids{f.a, f.b, f.ctl}));
}

TEST(reassignment, leadership_leaves_removed_replicas_and_their_logs_are_deleted) {
    fixture f([](node_id a, node_id b, node_id) { return ids{a, b}; });
    auto& c = f.c;
    ASSERT_EQ(reassign(c, "t", 0, ids{f.ctl}), 0);
    auto moving = topic_znode(c);
    EXPECT_EQ(moving.partitions.at(partition_id(0)), (ids{f.ctl, f.a, f.b}));
    EXPECT_EQ(moving.removing_replicas.at(partition_id(0)), (ids{f.a, f.b}));
    EXPECT_EQ(c.zk_state("t", 0)->leader, f.a) << "the leader stays until the target is in sync";
    ASSERT_EQ(report_isr(c, ids{f.a, f.b, f.ctl}), 0);
    auto s = *c.zk_state("t", 0);
    EXPECT_EQ(s.leader, f.ctl);
    EXPECT_EQ(s.isr, ids{f.ctl});
    EXPECT_EQ(topic_znode(c).partitions.at(partition_id(0)), ids{f.ctl});
    EXPECT_TRUE(c.node(f.a()).model.partitions[f.t0].deleted);
    EXPECT_TRUE(c.node(f.b()).model.partitions[f.t0].deleted);
    EXPECT_EQ(c.node(f.ctl()).model.partitions[f.t0].leader, f.ctl);
}

TEST(reassignment, shrinking_completes_at_once_when_the_target_is_in_sync) {
    fixture f([](node_id a, node_id b, node_id ctl) { return ids{a, b, ctl}; });
    auto& c = f.c;
    ASSERT_EQ(reassign(c, "t", 0, ids{f.a, f.b}), 0);
    EXPECT_EQ(topic_znode(c).partitions.at(partition_id(0)), (ids{f.a, f.b}));
    EXPECT_TRUE(topic_znode(c).removing_replicas.empty());
    EXPECT_EQ(c.zk_state("t", 0)->isr, (ids{f.a, f.b}));
    EXPECT_TRUE(c.node(f.ctl()).model.partitions[f.t0].deleted);
    EXPECT_TRUE(list(c).topics.empty());
}

TEST(reassignment, cancel_reverts_to_the_original_replicas_and_deletes_the_added_ones) {
    fixture f([](node_id a, node_id, node_id) { return ids{a}; });
    auto& c = f.c;
    ASSERT_EQ(reassign(c, "t", 0, ids{f.b, f.ctl}), 0);
    // A new target replaces the old one: the original replicas are still [a].
    ASSERT_EQ(reassign(c, "t", 0, ids{f.b}), 0);
    EXPECT_EQ(topic_znode(c).partitions.at(partition_id(0)), (ids{f.b, f.a}));
    EXPECT_TRUE(c.node(f.ctl()).model.partitions[f.t0].deleted) << "dropped from the target";
    ASSERT_EQ(reassign(c, "t", 0, std::nullopt), 0);
    auto reverted = topic_znode(c);
    EXPECT_EQ(reverted.partitions.at(partition_id(0)), ids{f.a});
    EXPECT_TRUE(reverted.adding_replicas.empty());
    EXPECT_EQ(c.zk_state("t", 0)->leader, f.a);
    EXPECT_TRUE(c.node(f.b()).model.partitions[f.t0].deleted);
    EXPECT_TRUE(list(c).topics.empty());
    EXPECT_EQ(reassign(c, "t", 0, std::nullopt), code(kafka_error::no_reassignment_in_progress));
}

TEST(reassignment, a_new_controller_resumes_the_move_from_zookeeper) {
    fixture f([](node_id a, node_id, node_id) { return ids{a}; });
    auto& c = f.c;
    ASSERT_EQ(reassign(c, "t", 0, ids{f.a, f.b}), 0);
    c.kill(f.ctl());
    c.run();
    ASSERT_EQ(c.active_controllers().size(), 1U);
    ASSERT_NE(c.active_controllers().at(0), f.ctl);
    auto l = list(c);
    ASSERT_EQ(l.topics.size(), 1U) << "the new controller knows the move";
    EXPECT_EQ(l.topics[0].partitions.at(0).adding_replicas, ids{f.b});
    ASSERT_EQ(report_isr(c, ids{f.a, f.b}), 0);
    EXPECT_TRUE(list(c).topics.empty());
    EXPECT_EQ(topic_znode(c).partitions.at(partition_id(0)), (ids{f.a, f.b}));
    EXPECT_TRUE(topic_znode(c).adding_replicas.empty());
}

TEST(reassignment, bad_requests_get_kafkas_errors_and_change_nothing) {
    fixture f([](node_id a, node_id, node_id) { return ids{a}; });
    auto& c = f.c;
    auto before = c.ensemble.peek(coord::paths::topic("t"))->data;
    const auto invalid = code(kafka_error::invalid_replica_assignment);
    EXPECT_EQ(reassign(c, "missing", 0, ids{f.a}), code(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(reassign(c, "t", 7, ids{f.a}), code(kafka_error::unknown_topic_or_partition));
    EXPECT_EQ(reassign(c, "t", 0, ids{}), invalid);
    EXPECT_EQ(reassign(c, "t", 0, ids{f.b, f.b}), invalid);
    EXPECT_EQ(reassign(c, "t", 0, ids{f.b, node_id(9)}), invalid);
    EXPECT_EQ(reassign(c, "t", 0, ids{node_id(-1)}), invalid);
    EXPECT_EQ(reassign(c, "t", 0, std::nullopt), code(kafka_error::no_reassignment_in_progress));
    EXPECT_EQ(c.ensemble.peek(coord::paths::topic("t"))->data, before);
    EXPECT_TRUE(list(c).topics.empty());
}

TEST(reassignment, the_legacy_znode_starts_moves_and_goes_once_they_finish) {
    fixture f([](node_id a, node_id, node_id) { return ids{a}; });
    auto& c = f.c;
    coord::fake_client tool(c.ensemble);
    std::vector<coord::partition_reassignment> wanted{{f.t0, ids{f.a, f.b}},
                                                      {{"missing", partition_id(0)}, ids{f.a}}};
    const std::string path(coord::paths::reassign_partitions);
    tool.create(path, coord::encode_reassignment(wanted), coord::create_mode::persistent,
                [](result<std::string>) {});
    c.run();
    EXPECT_EQ(topic_znode(c).adding_replicas.at(partition_id(0)), ids{f.b});
    auto node = c.ensemble.peek(path);
    ASSERT_TRUE(node) << "kept while the move runs";
    auto left = coord::decode_reassignment(node->data);
    ASSERT_TRUE(left);
    ASSERT_EQ(left->size(), 1U) << "the refused entry is dropped";
    EXPECT_EQ(left->at(0).tp, f.t0);
    ASSERT_EQ(report_isr(c, ids{f.a, f.b}), 0);
    EXPECT_EQ(topic_znode(c).partitions.at(partition_id(0)), (ids{f.a, f.b}));
    EXPECT_FALSE(c.ensemble.peek(path)) << "deleted once every move finished";
}

}  // namespace
}  // namespace gregor::controller::sim

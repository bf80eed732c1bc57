// Goal: the receipts replicas write after an unclean election reach the active controller's
// decision journal with the offsets lost, in the order written, and are deleted; an
// unreadable one is dropped without a journal entry; receipts written while no controller
// was active are journalled by the next one.
// Method: sim_cluster (real controllers and registration on the in-memory ZooKeeper); the
// receipts are created as a broker creates them.
#include "controller/tests/sim_cluster.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"

#include <gtest/gtest.h>

namespace gregor::controller::sim {
namespace {

using model::node_id;
using model::offset;
using model::partition_id;

const model::topic_partition t0{"t", partition_id(0)};

void make_topic(sim_cluster& c) {
    coord::replica_map a;
    a[partition_id(0)] = {node_id(1), node_id(2), node_id(3)};
    c.create_topic_znode("t", a);
    c.run();
}

void write(sim_cluster& c, int from, const std::string& data) {
    c.node(from).zk->create(coord::paths::unclean_receipt_sequential(), data,
                            coord::create_mode::persistent_sequential, [](result<std::string>) {});
}

coord::unclean_receipt takeover(int broker, std::int64_t leo) {
    return {node_id(broker), t0, model::leader_epoch(4), true, offset(leo), offset(leo - 1),
            model::no_offset};
}

coord::unclean_receipt cut(int broker, std::int64_t to, std::int64_t hw, std::int64_t leo) {
    return {node_id(broker), t0,        model::leader_epoch(4), false, offset(leo),
            offset(hw),      offset(to)};
}

std::vector<decision> receipts(sim_cluster& c) {
    auto active = c.active_controllers();
    EXPECT_EQ(active.size(), 1U);
    std::vector<decision> out;
    for (auto& d : c.node(active.at(0)()).ctl->journal().find({})) {
        if (d.receipt) {
            out.push_back(d);
        }
    }
    return out;
}

TEST(unclean_receipts, are_journalled_in_order_with_the_offsets_lost_and_deleted) {
    sim_cluster c(3);
    c.run();
    make_topic(c);
    write(c, 2, coord::encode_unclean_receipt(takeover(2, 10)));
    write(c, 1, "{not json");
    write(c, 1, coord::encode_unclean_receipt(cut(1, 10, 15, 16)));
    c.run();
    auto got = receipts(c);
    ASSERT_EQ(got.size(), 2U) << "the unreadable one is dropped";
    EXPECT_EQ(got[0].topic, "t");
    EXPECT_EQ(got[0].leader_epoch, model::leader_epoch(4));
    EXPECT_TRUE(got[0].receipt->takeover);
    EXPECT_EQ(got[0].receipt->broker, node_id(2));
    EXPECT_EQ(got[0].receipt->log_end_offset, offset(10));
    EXPECT_NE(got[0].reason.find("from offset 10 on are lost"), std::string::npos) << got[0].reason;
    EXPECT_FALSE(got[1].receipt->takeover);
    EXPECT_EQ(got[1].receipt->truncated_to, offset(10));
    EXPECT_EQ(got[1].receipt->high_watermark, offset(15));
    EXPECT_NE(got[1].reason.find("cut 5 acknowledged records [10, 15)"), std::string::npos)
        << got[1].reason;
    EXPECT_FALSE(got[1].unclean) << "the election was counted once, when it was made";
    auto left = c.ensemble.peek(std::string(coord::paths::unclean_receipts));
    ASSERT_TRUE(left);
    EXPECT_EQ(left->stat.num_children, 0) << "every receipt read is deleted, the bad one too";
}

TEST(unclean_receipts, written_without_a_controller_are_journalled_by_the_next) {
    sim_cluster c(3);
    c.run();
    make_topic(c);
    node_id first = c.active_controllers().at(0);
    c.kill(first());
    int writer = first() % 3 + 1;
    write(c, writer, coord::encode_unclean_receipt(cut(writer, 3, 7, 9)));
    c.run();
    auto got = receipts(c);
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].receipt->broker, node_id(writer));
    EXPECT_EQ(got[0].receipt->high_watermark, offset(7));
}

}  // namespace
}  // namespace gregor::controller::sim

// Goal: the metadata cache holds what the controller last sent (brokers with endpoints per
// listener, partition states) and drops partitions of topics being deleted.
// Method: fill a cache directly and read it back.
#include "broker/metadata_cache.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

using model::node_id;
using model::partition_id;

cached_partition led_by(int leader, int epoch) {
    cached_partition p;
    p.leader = node_id(leader);
    p.leader_epoch = model::leader_epoch(epoch);
    p.replicas = {node_id(leader)};
    p.isr = {node_id(leader)};
    return p;
}

TEST(metadata_cache, finds_brokers_by_id_and_their_endpoint_per_listener) {
    metadata_cache c;
    c.set_brokers({{node_id(3), {{"PLAINTEXT", "h3", 9092, 0}}, std::nullopt},
                   {node_id(1),
                    {{"PLAINTEXT", "h1", 9092, 0}, {"INTERNAL", "i1", 9093, 0}},
                    std::string("r1")}});
    ASSERT_NE(c.broker(node_id(1)), nullptr);
    EXPECT_EQ(c.broker(node_id(1))->endpoint_for("INTERNAL")->host, "i1");
    EXPECT_EQ(c.broker(node_id(3))->endpoint_for("INTERNAL"), nullptr);
    EXPECT_EQ(c.broker(node_id(2)), nullptr);
    EXPECT_FALSE(c.alive(node_id(2)));
    EXPECT_EQ(c.brokers().front().id, node_id(1));  // sorted by id
}

TEST(metadata_cache, replacing_the_broker_list_forgets_brokers_not_in_it) {
    metadata_cache c;
    c.set_brokers({{node_id(1), {}, std::nullopt}, {node_id(2), {}, std::nullopt}});
    c.set_brokers({{node_id(2), {}, std::nullopt}});
    EXPECT_FALSE(c.alive(node_id(1)));
    EXPECT_TRUE(c.alive(node_id(2)));
}

TEST(metadata_cache, partition_states_replace_older_ones) {
    metadata_cache c;
    c.update_partition("t", partition_id(0), led_by(1, 1));
    c.update_partition("t", partition_id(0), led_by(2, 2));
    const cached_partition* p = c.partition({"t", partition_id(0)});
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->leader, node_id(2));
    EXPECT_EQ(p->leader_epoch, model::leader_epoch(2));
}

TEST(metadata_cache, leader_during_delete_removes_the_partition_and_then_the_topic) {
    metadata_cache c;
    c.update_partition("t", partition_id(0), led_by(1, 1));
    c.update_partition("t", partition_id(1), led_by(1, 1));
    c.update_partition("t", partition_id(0), led_by(leader_during_delete(), 2));
    EXPECT_EQ(c.partition({"t", partition_id(0)}), nullptr);
    ASSERT_NE(c.topic("t"), nullptr);
    c.update_partition("t", partition_id(1), led_by(leader_during_delete(), 2));
    EXPECT_EQ(c.topic("t"), nullptr);
}

}  // namespace
}  // namespace gregor::broker

// Goal: the dashboard's cluster view tells an operator which partitions need attention:
// offline (no live leader) and under-replicated ones come first, the totals count all of
// them even when the answer is cut at `limit`, and the controller history keeps one entry
// per (controller, epoch), bounded.
// Method: fill a metadata cache directly, read cluster_json's JSON back.
#include "broker/dashboard_api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gregor::broker {
namespace {

using model::node_id;
using model::partition_id;

cached_partition state(int leader, std::vector<int> replicas, std::vector<int> isr) {
    cached_partition p;
    p.leader = node_id(leader);
    for (int r : replicas) {
        p.replicas.push_back(node_id(r));
    }
    for (int r : isr) {
        p.isr.push_back(node_id(r));
    }
    return p;
}

metadata_cache three_brokers_one_down() {
    metadata_cache c;
    c.set_brokers({{node_id(1), {{"PLAINTEXT", "h1", 9092, 0}}, std::string("rack-a")},
                   {node_id(2), {{"PLAINTEXT", "h2", 9093, 0}}, std::nullopt}});
    c.set_controller(node_id(2), model::controller_epoch(7), model::timestamp_ms(1000));
    c.update_partition("a", partition_id(0), state(1, {1, 2, 3}, {1, 2, 3}));
    c.update_partition("a", partition_id(1), state(2, {2, 3, 1}, {2, 1}));  // 3 left the ISR
    c.update_partition("b", partition_id(0), state(3, {3}, {3}));           // 3 is down
    c.update_partition("b", partition_id(1), state(-1, {3}, {3}));
    return c;
}

TEST(dashboard_api, problems_come_first_and_totals_count_every_partition) {
    auto j = nlohmann::json::parse(cluster_json(three_brokers_one_down(), node_id(1), 100));
    EXPECT_EQ(j["broker"], 1);
    EXPECT_EQ(j["controller"], 2);
    EXPECT_EQ(j["controller_epoch"], 7);
    EXPECT_EQ(j["partitions_total"], 4);
    EXPECT_EQ(j["topics_total"], 2);
    EXPECT_EQ(j["offline"], 2);
    EXPECT_EQ(j["under_replicated"], 1);
    const auto& p = j["partitions"];
    ASSERT_EQ(p.size(), 4U);
    EXPECT_EQ(p[0]["state"], "offline");
    EXPECT_EQ(p[0]["topic"], "b");
    EXPECT_EQ(p[0]["partition"], 0);  // leader 3 is not among the live brokers
    EXPECT_EQ(p[1]["state"], "offline");
    EXPECT_EQ(p[1]["leader"], -1);
    EXPECT_EQ(p[2]["state"], "under-replicated");
    EXPECT_EQ(p[2]["isr"], nlohmann::json({2, 1}));
    EXPECT_EQ(p[3]["state"], "ok");
    EXPECT_EQ(j["brokers"][0]["rack"], "rack-a");
    EXPECT_TRUE(j["brokers"][1]["rack"].is_null());
    EXPECT_EQ(j["brokers"][1]["port"], 9093);
}

TEST(dashboard_api, limit_cuts_the_healthy_partitions_not_the_totals) {
    auto j = nlohmann::json::parse(cluster_json(three_brokers_one_down(), node_id(1), 3));
    ASSERT_EQ(j["partitions"].size(), 3U);
    EXPECT_EQ(j["partitions"][2]["state"], "under-replicated");
    EXPECT_EQ(j["partitions_total"], 4);
    auto none = nlohmann::json::parse(cluster_json(three_brokers_one_down(), node_id(1), 0));
    EXPECT_TRUE(none["partitions"].empty());
    EXPECT_EQ(none["offline"], 2);
}

TEST(dashboard_api, controller_history_has_one_entry_per_election_and_is_bounded) {
    metadata_cache c;
    c.set_controller(node_id(1), model::controller_epoch(1), model::timestamp_ms(10));
    c.set_controller(node_id(1), model::controller_epoch(1), model::timestamp_ms(20));  // again
    c.set_controller(node_id(2), model::controller_epoch(2), model::timestamp_ms(30));
    auto j = nlohmann::json::parse(cluster_json(c, node_id(1), 10));
    ASSERT_EQ(j["controllers"].size(), 2U);
    EXPECT_EQ(j["controllers"][0]["seen_ms"], 10);
    EXPECT_EQ(j["controllers"][1]["id"], 2);
    for (int e = 3; e < 3 + static_cast<int>(metadata_cache::history_max) + 5; ++e) {
        c.set_controller(node_id(e % 3), model::controller_epoch(e), model::timestamp_ms(e));
    }
    EXPECT_EQ(c.controller_history().size(), metadata_cache::history_max);
    EXPECT_EQ(c.controller_history().back().epoch,
              model::controller_epoch(2 + static_cast<int>(metadata_cache::history_max) + 5));
}

}  // namespace
}  // namespace gregor::broker

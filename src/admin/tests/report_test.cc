// Goal: `cluster health` and `topics describe` draw the right conclusions from Metadata:
// the verdict is healthy only when every expected broker is up, a controller is known,
// every partition is led and none is under-replicated; the filters pick exactly the
// partitions they name; text and JSON carry the same facts. Method: hand-built Metadata
// responses through the pure functions.
#include "admin/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gregor::admin {
namespace {

using md_t = protocol::metadata_response;

std::vector<model::node_id> ids(std::initializer_list<int> v) {
    std::vector<model::node_id> out;
    for (int i : v) {
        out.push_back(model::node_id{i});
    }
    return out;
}

metadata_partition partition(int index, int leader, std::initializer_list<int> replicas,
                             std::initializer_list<int> isr) {
    metadata_partition p;
    p.partition_index = model::partition_id{index};
    p.leader_id = model::node_id{leader};
    p.leader_epoch = model::leader_epoch{4};
    p.replica_nodes = ids(replicas);
    p.isr_nodes = ids(isr);
    return p;
}

md_t cluster(std::initializer_list<int> brokers, int controller) {
    md_t md;
    for (int b : brokers) {
        md_t::metadata_response_broker mb;
        mb.node_id = model::node_id{b};
        mb.host = "127.0.0.1";
        mb.port = 9091 + b;
        md.brokers.push_back(mb);
    }
    md.controller_id = model::node_id{controller};
    md.cluster_id = "abc";
    return md;
}

void add_topic(md_t& md, const std::string& name, std::vector<metadata_partition> parts) {
    md_t::metadata_response_topic t;
    t.name = name;
    t.partitions = std::move(parts);
    md.topics.push_back(std::move(t));
}

TEST(admin_health, healthy_cluster) {
    auto md = cluster({1, 2, 3}, 1);
    add_topic(md, "t",
              {partition(0, 1, {1, 2, 3}, {1, 2, 3}), partition(1, 2, {2, 3, 1}, {2, 3, 1})});
    auto r = assess_health(md, {{1, 2, 3}, std::nullopt});
    EXPECT_TRUE(r.healthy);
    EXPECT_EQ(r.partitions, 2u);
    auto line = render_health(r, output_format::text);
    EXPECT_TRUE(line.starts_with("healthy: 3 broker(s) up, controller 1, 2 partition(s)")) << line;
}

TEST(admin_health, a_missing_broker_is_unhealthy_and_named) {
    auto md = cluster({1, 3}, 1);
    auto r = assess_health(md, {{1, 2, 3}, std::nullopt});
    EXPECT_FALSE(r.healthy);
    EXPECT_EQ(r.brokers_down, std::vector<std::int32_t>{2});
    EXPECT_NE(render_health(r, output_format::text).find("broker(s) 2 down"), std::string::npos);
    auto by_count = assess_health(md, {{}, 3});
    EXPECT_FALSE(by_count.healthy);
    EXPECT_NE(render_health(by_count, output_format::text).find("2/3 brokers up"),
              std::string::npos);
    EXPECT_TRUE(assess_health(md, {{}, 2}).healthy);
}

TEST(admin_health, leaderless_and_under_replicated_partitions_are_unhealthy) {
    auto md = cluster({1, 2, 3}, 2);
    add_topic(md, "a", {partition(0, -1, {1, 2}, {}), partition(1, 3, {3, 1, 2}, {3, 1})});
    auto r = assess_health(md, {});
    EXPECT_FALSE(r.healthy);
    EXPECT_EQ(r.leaderless, std::vector<std::string>{"a-0"});
    EXPECT_EQ(r.under_replicated, (std::vector<std::string>{"a-0", "a-1"}));
    auto j = nlohmann::json::parse(render_health(r, output_format::json));
    EXPECT_EQ(j["healthy"], false);
    EXPECT_EQ(j["leaderless_partitions"][0], "a-0");
    EXPECT_EQ(j["under_replicated_partitions"].size(), 2u);
    EXPECT_EQ(j["controller_id"], 2);
}

TEST(admin_health, no_controller_is_unhealthy) {
    auto md = cluster({1}, -1);
    auto r = assess_health(md, {});
    EXPECT_FALSE(r.healthy);
    EXPECT_NE(render_health(r, output_format::text).find("no controller"), std::string::npos);
}

TEST(admin_describe, filters_pick_the_named_partitions) {
    std::vector<std::int32_t> live{1, 2};
    auto led = partition(0, 1, {1, 2, 3}, {1, 2});
    auto dead_leader = partition(1, 3, {3, 1}, {3, 1});
    auto none = partition(2, -1, {3}, {});
    EXPECT_TRUE(partition_matches(led, partition_filter::under_replicated, live, std::nullopt));
    EXPECT_FALSE(partition_matches(dead_leader, partition_filter::under_replicated, live, 2));
    EXPECT_TRUE(partition_matches(dead_leader, partition_filter::unavailable, live, std::nullopt));
    EXPECT_TRUE(partition_matches(none, partition_filter::unavailable, live, std::nullopt));
    EXPECT_FALSE(partition_matches(led, partition_filter::unavailable, live, std::nullopt));
    EXPECT_TRUE(partition_matches(led, partition_filter::under_min_isr, live, 3));
    EXPECT_FALSE(partition_matches(led, partition_filter::under_min_isr, live, 2));
    EXPECT_FALSE(partition_matches(led, partition_filter::under_min_isr, live, std::nullopt));
}

TEST(admin_describe, text_and_json_show_leader_epoch_replicas_and_isr) {
    auto md = cluster({1, 2}, 1);
    add_topic(md, "t", {partition(0, 1, {1, 2}, {1, 2}), partition(1, 2, {2, 1}, {2})});
    auto text = render_topic_describe(md, partition_filter::all, {}, output_format::text, "");
    EXPECT_NE(text.find("Topic: t\tPartitionCount: 2\tReplicationFactor: 2"), std::string::npos)
        << text;
    EXPECT_NE(text.find("Partition: 1\tLeader: 2\tLeaderEpoch: 4\tReplicas: 2,1\tIsr: 2"),
              std::string::npos)
        << text;
    auto only =
        render_topic_describe(md, partition_filter::under_replicated, {}, output_format::json, "");
    auto j = nlohmann::json::parse(only);
    ASSERT_EQ(j["topics"].size(), 1u);
    ASSERT_EQ(j["topics"][0]["partition_details"].size(), 1u);
    EXPECT_EQ(j["topics"][0]["partition_details"][0]["partition"], 1);
    EXPECT_EQ(j["topics"][0]["partition_details"][0]["isr"], nlohmann::json::array({2}));
}

TEST(admin_describe, a_filter_with_no_match_hides_the_topic_and_keeps_the_note) {
    auto md = cluster({1, 2}, 1);
    add_topic(md, "t", {partition(0, 1, {1, 2}, {1, 2})});
    auto text = render_topic_describe(md, partition_filter::under_min_isr, {}, output_format::text,
                                      "note: min.insync.replicas unknown");
    EXPECT_EQ(text, "note: min.insync.replicas unknown\n");
}

TEST(admin_describe, overrides_end_the_header_and_configs_list_every_source) {
    auto md = cluster({1, 2}, 1);
    add_topic(md, "t", {partition(0, 1, {1, 2}, {1, 2})});
    topic_configs_map configs;
    configs["t"] = {{"min.insync.replicas", "2", 1, false},
                    {"retention.ms", "604800000", 5, false},
                    {"secret", std::nullopt, 1, true}};
    auto text = render_topic_describe(md, partition_filter::all, {}, output_format::text, "",
                                      configs, false);
    EXPECT_NE(text.find("ReplicationFactor: 2\tConfigs: min.insync.replicas=2,secret=(sensitive)\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("Config: retention.ms"), std::string::npos) << text;
    auto all = render_topic_describe(md, partition_filter::all, {}, output_format::text, "",
                                     configs, true);
    EXPECT_NE(all.find("\tConfig: retention.ms=604800000\tsource: DEFAULT_CONFIG\n"),
              std::string::npos)
        << all;
    auto j = nlohmann::json::parse(
        render_topic_describe(md, partition_filter::all, {}, output_format::json, "", configs, true));
    EXPECT_EQ(j["topics"][0]["configs"]["min.insync.replicas"], "2");
    EXPECT_TRUE(j["topics"][0]["configs"]["secret"].is_null());
    EXPECT_EQ(j["topics"][0]["all_configs"].size(), 3u);
    EXPECT_EQ(j["topics"][0]["all_configs"][1]["source"], "DEFAULT_CONFIG");
}

TEST(admin_describe, cleanup_policy_shows_as_an_override_and_in_every_config) {
    auto md = cluster({1}, 1);
    add_topic(md, "compacted", {partition(0, 1, {1}, {1})});
    add_topic(md, "plain", {partition(0, 1, {1}, {1})});
    topic_configs_map configs;
    configs["compacted"] = {{"cleanup.policy", "compact", 1, false},
                            {"min.compaction.lag.ms", "0", 5, false}};
    // The broker's log.cleanup.policy in server.properties: not an override of the topic.
    configs["plain"] = {{"cleanup.policy", "compact,delete", 4, false}};
    auto text = render_topic_describe(md, partition_filter::all, {}, output_format::text, "",
                                      configs, false);
    EXPECT_NE(text.find("ReplicationFactor: 1\tConfigs: cleanup.policy=compact\n"),
              std::string::npos)
        << text;
    auto all = render_topic_describe(md, partition_filter::all, {}, output_format::text, "",
                                     configs, true);
    EXPECT_NE(all.find("\tConfig: cleanup.policy=compact\tsource: DYNAMIC_TOPIC_CONFIG\n"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("\tConfig: cleanup.policy=compact,delete\tsource: STATIC_BROKER_CONFIG\n"),
              std::string::npos)
        << all;
    auto j = nlohmann::json::parse(render_topic_describe(md, partition_filter::all, {},
                                                         output_format::json, "", configs, true));
    EXPECT_EQ(j["topics"][0]["configs"]["cleanup.policy"], "compact");
    EXPECT_EQ(j["topics"][1]["all_configs"][0]["value"], "compact,delete");
}

TEST(admin_list, names_sorted_and_json_has_counts) {
    auto md = cluster({1}, 1);
    add_topic(md, "b", {partition(0, 1, {1}, {1})});
    add_topic(md, "a", {partition(0, 1, {1}, {1}), partition(1, 1, {1}, {1})});
    EXPECT_EQ(render_topic_list(md, output_format::text), "a\nb\n");
    auto j = nlohmann::json::parse(render_topic_list(md, output_format::json));
    EXPECT_EQ(j[0]["name"], "a");
    EXPECT_EQ(j[0]["partitions"], 2);
    EXPECT_EQ(j[0]["replication_factor"], 1);
}

}  // namespace
}  // namespace gregor::admin

// Goal: `topics describe --producers` shows each partition's producers as its leader
// reported them, says which partitions have none or could not be asked, and text and JSON
// carry the same facts; a partition without a leader is never asked. Method: hand-built
// answers through render_producers, and fetch_producers on Metadata naming no leader.
#include "admin/producer_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gregor::admin {
namespace {

std::vector<partition_producers> sample() {
    partition_producers active{"orders", 0, 0, "", {}};
    active.producers.push_back({1000, 2, 41, 1'700'000'000'000, -1, -1});
    active.producers.push_back({1001, 0, 7, 1'700'000'000'500, 3, 120});
    partition_producers idle{"orders", 1, 0, "", {}};
    partition_producers moved{"orders", 2, 6, "", {}};  // NOT_LEADER_OR_FOLLOWER
    partition_producers unreachable{"orders", 3, 0, "connection refused", {}};
    return {active, idle, moved, unreachable};
}

TEST(producer_report, text_has_a_line_per_producer_and_per_silent_partition) {
    std::string text = render_producers(sample(), output_format::text);
    EXPECT_NE(text.find("Topic: orders\tPartition: 0\tProducerId: 1000\tProducerEpoch: 2\t"
                        "LastSequence: 41\tLastTimestamp: 1700000000000\tCoordinatorEpoch: -1\t"
                        "CurrentTransactionStartOffset: None\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("ProducerId: 1001\tProducerEpoch: 0\tLastSequence: 7"), std::string::npos);
    EXPECT_NE(text.find("CurrentTransactionStartOffset: 120\n"), std::string::npos);
    EXPECT_NE(text.find("Topic: orders\tPartition: 1\tno active producers\n"), std::string::npos);
    EXPECT_NE(text.find("Topic: orders\tPartition: 2\tError: NOT_LEADER_OR_FOLLOWER"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Topic: orders\tPartition: 3\tError: connection refused\n"),
              std::string::npos);
}

TEST(producer_report, json_carries_the_same_facts) {
    auto j = nlohmann::json::parse(render_producers(sample(), output_format::json));
    ASSERT_EQ(j["producers"].size(), 4U);
    const auto& first = j["producers"][0];
    EXPECT_EQ(first["topic"], "orders");
    EXPECT_EQ(first["partition"], 0);
    ASSERT_EQ(first["producers"].size(), 2U);
    EXPECT_EQ(first["producers"][0]["producer_id"], 1000);
    EXPECT_EQ(first["producers"][0]["last_sequence"], 41);
    EXPECT_EQ(first["producers"][1]["current_txn_start_offset"], 120);
    EXPECT_FALSE(first.contains("error"));
    EXPECT_TRUE(j["producers"][1]["producers"].empty());
    EXPECT_NE(j["producers"][2]["error"].get<std::string>().find("NOT_LEADER_OR_FOLLOWER"),
              std::string::npos);
    EXPECT_EQ(j["producers"][3]["error"], "connection refused");
}

TEST(producer_report, a_partition_without_a_leader_is_reported_not_asked) {
    protocol::metadata_response md;
    auto& t = md.topics.emplace_back();
    t.name = "orders";
    auto& p = t.partitions.emplace_back();
    p.partition_index = model::partition_id{0};
    p.leader_id = model::node_id{-1};
    auto parts = fetch_producers(md, std::chrono::milliseconds(100));
    ASSERT_EQ(parts.size(), 1U);
    EXPECT_EQ(parts[0].error_code, 5);  // LEADER_NOT_AVAILABLE
    EXPECT_TRUE(parts[0].producers.empty());
}

}  // namespace
}  // namespace gregor::admin

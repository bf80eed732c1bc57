// Goal: `gregor bench group` measures a real coordinator: the members of one group read
// every record of the topic exactly once from disjoint partitions that cover it, and an
// assign() consumer reads the same records in the same run; members joining at once all get
// an assignment; pipelined and synchronous commits are all answered; bad arguments exit 2.
// Method: a real ZooKeeper and a one-broker cluster (offsets.topic.replication.factor=1,
// a small __consumer_offsets, group.initial.rebalance.delay.ms lowered so that a run takes
// seconds); `gregor bench group` runs as a child process and prints JSON.
#include "support/broker_process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr int initial_delay_ms = 300;

struct group_run {
    int status = -1;
    nlohmann::json report;
    std::string out;
};

struct bench_group_against_broker : ::testing::Test {
    zookeeper_server zk;
    std::unique_ptr<broker_process> broker;
    std::string bootstrap;

    void SetUp() override {
        broker = std::make_unique<broker_process>(std::map<std::string, std::string>{
            {"zookeeper.connect", zk.connect_string()},
            {"auto.create.topics.enable", "false"},
            {"offsets.topic.replication.factor", "1"},
            {"offsets.topic.num.partitions", "3"},
            {"group.initial.rebalance.delay.ms", std::to_string(initial_delay_ms)}});
        ASSERT_TRUE(broker->wait_listening(60s)) << broker->log();
        bootstrap = "127.0.0.1:" + std::to_string(broker->port());
    }

    group_run run(const std::string& args) {
        group_run r;
        auto c = run_command(fmt::format("{} bench group -b {} --format json --timeout 30 {}",
                                         GREGOR_BINARY, bootstrap, args));
        r.status = c.status;
        r.out = c.out;
        r.report = nlohmann::json::parse(c.out, nullptr, false);
        return r;
    }
};

TEST_F(bench_group_against_broker, members_read_every_record_once_from_disjoint_partitions) {
    auto g = run("-t grp --partitions 5 --members 2 --records 3000");
    ASSERT_EQ(g.status, 0) << g.out << broker->log();
    ASSERT_FALSE(g.report.is_discarded()) << g.out;
    const auto& res = g.report["results"];
    EXPECT_EQ(g.report["ok"], true);
    EXPECT_EQ(g.report["parameters"]["partitions"], 5);
    EXPECT_EQ(res["records"], 3000);
    EXPECT_EQ(res["duplicates"], 0);
    EXPECT_EQ(res["records_read_by_a_second_member"], 0);
    EXPECT_EQ(res["errors"], 0);
    // Disjoint (no partition read by two) and covering (every record read): 5 between two.
    int p0 = res["member_0_partitions"];
    int p1 = res["member_1_partitions"];
    EXPECT_EQ(p0 + p1, 5) << g.out;
    EXPECT_GE(p0, 1);
    EXPECT_GE(p1, 1);
    EXPECT_EQ(res["member_0_records"].get<int>() + res["member_1_records"].get<int>(), 3000);
    EXPECT_EQ(res["assign_records"], 3000);
    EXPECT_GT(g.report["ratios"]["group_to_assign_records_per_s"].get<double>(), 0);
}

TEST_F(bench_group_against_broker, members_joining_at_once_all_get_partitions) {
    auto g = run(fmt::format("-t join --partitions 6 --join-members 4 --initial-delay-ms {}",
                             initial_delay_ms));
    ASSERT_EQ(g.status, 0) << g.out << broker->log();
    ASSERT_FALSE(g.report.is_discarded()) << g.out;
    const auto& res = g.report["results"];
    EXPECT_EQ(res["partitions_assigned"], 6);
    EXPECT_EQ(res["partitions_shared"], 0);
    EXPECT_GE(res["rebalance_ms"].get<double>(), initial_delay_ms);
    EXPECT_TRUE(res.contains("rebalance_minus_delay_ms"));
}

TEST_F(bench_group_against_broker, every_commit_is_answered) {
    auto g = run("-t commits --commits 3000 --sync-commits 200 --commit-window 32");
    ASSERT_EQ(g.status, 0) << g.out << broker->log();
    ASSERT_FALSE(g.report.is_discarded()) << g.out;
    const auto& res = g.report["results"];
    EXPECT_EQ(res["commits"], 3000);
    EXPECT_EQ(res["errors"], 0);
    EXPECT_EQ(res["sync_commits"], 200);
    EXPECT_EQ(res["sync_errors"], 0);
    EXPECT_GT(res["commits_per_s"].get<double>(), 0);
    EXPECT_EQ(g.report["latency"]["count"], 3000);
}

TEST(bench_group_without_broker, bad_arguments_exit_2) {
    auto r = run_command(
        fmt::format("{} bench group -b 127.0.0.1:1 --members 0 2>&1", GREGOR_BINARY));
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("--members"), std::string::npos) << r.out;
    r = run_command(fmt::format("{} bench group -b 127.0.0.1:1 --join-members 3 --commits 5 2>&1",
                                GREGOR_BINARY));
    EXPECT_EQ(r.status, 2) << r.out;
}

}  // namespace
}  // namespace gregor::test

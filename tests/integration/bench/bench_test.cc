// Goal: `gregor bench` measures a real broker: produce acknowledges every record it was
// asked to send, consume reads exactly those back, e2e receives every record it sent, the
// JSON reports parse with the figures in them, and an unreachable broker is a clear error
// with exit code 1.
// Method: a real ZooKeeper and a one-broker gregor cluster (the broker is its own
// controller); `gregor bench` creates its topics through CreateTopics and runs as a child
// process.
#include "support/broker_process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr int record_count = 20'000;

zookeeper_server& zk_server() {
    static zookeeper_server server;
    return server;
}

struct bench_run {
    int status = -1;
    nlohmann::json report;
    std::string out;
};

bench_run run_bench(const std::string& args) {
    bench_run r;
    auto c = run_command(fmt::format("{} bench {}", GREGOR_BINARY, args));
    r.status = c.status;
    r.out = c.out;
    r.report = nlohmann::json::parse(c.out, nullptr, false);
    return r;
}

struct bench_against_broker : ::testing::Test {
    std::unique_ptr<broker_process> broker;
    std::string bootstrap;
    std::string limits_file;

    void SetUp() override {
        broker = std::make_unique<broker_process>(
            std::map<std::string, std::string>{{"zookeeper.connect", zk_server().connect_string()},
                                               {"auto.create.topics.enable", "false"}});
        ASSERT_TRUE(broker->wait_listening(60s)) << broker->log();
        bootstrap = "127.0.0.1:" + std::to_string(broker->port());
        limits_file = fmt::format("/tmp/gregor-bench-limits-{}.json", ::getpid());
    }
    void TearDown() override { std::filesystem::remove(limits_file); }

    // A small limits pass in /tmp, saved for --limits-from.
    void measure_limits() {
        auto l = run_bench("limits --bytes 4194304 --dir /tmp --format json");
        ASSERT_EQ(l.status, 0) << l.out;
        ASSERT_FALSE(l.report.is_discarded()) << l.out;
        EXPECT_GT(l.report["limits"]["disk_write_mb_per_s"].get<double>(), 0);
        EXPECT_GT(l.report["limits"]["loopback_mb_per_s"].get<double>(), 0);
        std::ofstream(limits_file) << l.out;
    }
};

TEST_F(bench_against_broker, produce_then_consume_counts_every_record) {
    measure_limits();
    auto p =
        run_bench(fmt::format("produce -b {} -t bench --partitions 2 --records {} --acks 1 "
                              "--format json --limits-from {}",
                              bootstrap, record_count, limits_file));
    ASSERT_EQ(p.status, 0) << p.out << broker->log();
    ASSERT_FALSE(p.report.is_discarded()) << p.out;
    EXPECT_EQ(p.report["ok"], true);
    EXPECT_EQ(p.report["results"]["records"], record_count);
    EXPECT_EQ(p.report["results"]["errors"], 0);
    EXPECT_EQ(p.report["latency"]["count"], record_count);
    EXPECT_GT(p.report["results"]["records_per_s"].get<double>(), 0);
    EXPECT_GT(p.report["ratios"]["mb_per_s_to_disk_write"].get<double>(), 0);

    auto c = run_bench(fmt::format("consume -b {} -t bench --format json --limits-from {}",
                                   bootstrap, limits_file));
    ASSERT_EQ(c.status, 0) << c.out << broker->log();
    ASSERT_FALSE(c.report.is_discarded()) << c.out;
    EXPECT_EQ(c.report["results"]["records"], record_count);
    EXPECT_EQ(c.report["results"]["mb_per_s"].get<double>() > 0, true);
    EXPECT_EQ(c.report["parameters"]["partitions"], 2);

    auto some =
        run_bench(fmt::format("consume -b {} -t bench --records 500 --format json "
                              "--no-limits",
                              bootstrap));
    ASSERT_EQ(some.status, 0) << some.out;
    EXPECT_EQ(some.report["results"]["records"], 500);
}

TEST_F(bench_against_broker, e2e_receives_every_record_it_sends) {
    auto e =
        run_bench(fmt::format("e2e -b {} -t e2e --partitions 1 --rate 2000 --records 1000 "
                              "--acks 1 "
                              "--format json --no-limits",
                              bootstrap));
    ASSERT_EQ(e.status, 0) << e.out << broker->log();
    ASSERT_FALSE(e.report.is_discarded()) << e.out;
    EXPECT_EQ(e.report["results"]["records"], 1000);
    EXPECT_EQ(e.report["latency"]["count"], 1000);
    EXPECT_GT(e.report["latency"]["max"].get<double>(), 0);
}

TEST_F(bench_against_broker, a_compacted_topic_takes_keyed_records_only) {
    auto created = run_command(fmt::format(
        "{} topics create compacted --partitions 1 --config cleanup.policy=compact -b {} 2>&1",
        GREGOR_BINARY, bootstrap));
    ASSERT_EQ(created.status, 0) << created.out;
    auto keyed = run_bench(fmt::format(
        "produce -b {} -t compacted --records 2000 --keys 100 --format json --no-limits",
        bootstrap));
    ASSERT_EQ(keyed.status, 0) << keyed.out << broker->log();
    EXPECT_EQ(keyed.report["results"]["records"], 2000);
    EXPECT_EQ(keyed.report["results"]["errors"], 0);
    EXPECT_EQ(keyed.report["parameters"]["keys"], 100);
    auto keyless = run_bench(fmt::format(
        "produce -b {} -t compacted --records 10 --timeout 10 --format json --no-limits",
        bootstrap));
    EXPECT_EQ(keyless.status, 1) << keyless.out;
    EXPECT_GT(keyless.report["results"]["errors"].get<double>(), 0) << keyless.out;

    // After a restart the log, loaded before the topic's overrides are read, gets them too.
    broker->signal(SIGTERM);
    ASSERT_TRUE(broker->wait_exit(60s)) << broker->log();
    broker->restart();
    ASSERT_TRUE(broker->wait_listening(60s)) << broker->log();
    auto after = run_bench(fmt::format(
        "produce -b {} -t compacted --records 10 --timeout 10 --format json --no-limits",
        bootstrap));
    EXPECT_EQ(after.status, 1) << after.out << broker->log();
}

TEST_F(bench_against_broker, a_topic_that_cannot_be_created_fails_naming_it) {
    // Three replicas on a one-broker cluster: CreateTopics refuses.
    auto r =
        run_command(fmt::format("{} bench produce -b {} -t nowhere --records 10 "
                                "--replication-factor 3 --timeout 10 --no-limits 2>&1",
                                GREGOR_BINARY, bootstrap));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("nowhere"), std::string::npos) << r.out;
}

TEST(bench_without_broker, an_unreachable_bootstrap_fails_naming_it) {
    std::uint16_t port = free_loopback_port();
    auto r =
        run_command(fmt::format("{} bench produce -b 127.0.0.1:{} --records 10 --timeout 2 "
                                "--no-limits 2>&1",
                                GREGOR_BINARY, port));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find(fmt::format("127.0.0.1:{}", port)), std::string::npos) << r.out;
}

TEST(bench_without_broker, a_bad_argument_exits_2) {
    auto r =
        run_command(fmt::format("{} bench produce -b 127.0.0.1:1 --acks 7 2>&1", GREGOR_BINARY));
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("--acks"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gregor::test

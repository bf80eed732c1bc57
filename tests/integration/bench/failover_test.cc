// Goal: `gregor bench failover` times a real controller failover: it kills the controller
// through --kill-cmd, sees every phase on the surviving brokers, and with --produce finds
// every partition writable again.
// Method: a real ZooKeeper and three real brokers with a short ZooKeeper session timeout;
// the kill command maps the broker id the bench names to the test's child process.
#include "support/broker_process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr int broker_count = 3;

TEST(bench_failover, kills_the_controller_and_sees_every_phase) {
    zookeeper_server zk;
    std::vector<std::unique_ptr<broker_process>> brokers;
    std::string bootstrap;
    std::string pid_of = "case {id} in";
    for (int id = 1; id <= broker_count; ++id) {
        brokers.push_back(std::make_unique<broker_process>(
            std::map<std::string, std::string>{{"broker.id", std::to_string(id)},
                                               {"zookeeper.connect", zk.connect_string()},
                                               {"zookeeper.session.timeout.ms", "3000"},
                                               {"auto.create.topics.enable", "false"}}));
        bootstrap += fmt::format("{}127.0.0.1:{}", id > 1 ? "," : "", brokers.back()->port());
        pid_of += fmt::format(" {}) echo {};;", id, brokers.back()->pid());
    }
    for (auto& b : brokers) {
        ASSERT_TRUE(b->wait_listening(60s)) << b->log();
    }
    std::string kill_cmd = fmt::format("kill -9 $({} esac)", pid_of);
    auto r =
        run_command(fmt::format("{} bench failover -b {} -t fo --partitions 12 --produce "
                                "--rate 600 --acks 1 --timeout 60 --format json "
                                "--kill-cmd '{}'",
                                GREGOR_BINARY, bootstrap, kill_cmd));
    ASSERT_EQ(r.status, 0) << r.out;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    int victim = j["parameters"]["killed_controller"].get<int>();
    ASSERT_GE(victim, 1);
    ASSERT_LE(victim, broker_count);
    auto exit = brokers[static_cast<std::size_t>(victim - 1)]->wait_exit(10s);
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(*exit, 128 + SIGKILL);
    ASSERT_EQ(j["phases"].size(), 4u) << r.out;
    for (const auto& p : j["phases"]) {
        EXPECT_GT(p["at_ms"].get<double>(), 0) << p;
    }
    EXPECT_EQ(j["results"]["partitions_measured"], 12);
    EXPECT_EQ(j["results"]["partitions_not_recovered"], 0);
    EXPECT_EQ(j["latency"]["count"], 12);
}

}  // namespace
}  // namespace gregor::test

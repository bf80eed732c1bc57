// Goal: `gregor bench failover` times a real failover: it kills the controller (or, with
// --victim leader, the non-controller leading the most partitions) through --kill-cmd, sees
// every phase on the surviving brokers, and with --produce finds every partition writable
// again.
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

// Three brokers on one ZooKeeper, and a --kill-cmd that maps a broker id to its pid.
struct three_brokers {
    zookeeper_server zk;
    std::vector<std::unique_ptr<broker_process>> brokers;
    std::string bootstrap;
    std::string kill_cmd;

    three_brokers() {
        std::string pid_of = "case {id} in";
        for (int id = 1; id <= broker_count; ++id) {
            brokers.push_back(std::make_unique<broker_process>(
                std::map<std::string, std::string>{{"broker.id", std::to_string(id)},
                                                   {"zookeeper.connect", zk.connect_string()},
                                                   {"zookeeper.session.timeout.ms", "3000"},
                                                   {"auto.create.topics.enable", "false"}}));
            bootstrap +=
                fmt::format("{}127.0.0.1:{}", id > 1 ? "," : "", brokers.back()->port());
            pid_of += fmt::format(" {}) echo {};;", id, brokers.back()->pid());
        }
        kill_cmd = fmt::format("kill -9 $({} esac)", pid_of);
    }

    // Runs `gregor bench failover` with `extra` options; its JSON report, or a failure.
    void run(const std::string& extra, nlohmann::json& out) {
        for (auto& b : brokers) {
            ASSERT_TRUE(b->wait_listening(60s)) << b->log();
        }
        auto r = run_command(fmt::format(
            "{} bench failover -b {} -t fo --partitions 12 --produce --rate 600 --acks 1 "
            "--timeout 60 --format json --kill-cmd '{}' {}",
            GREGOR_BINARY, bootstrap, kill_cmd, extra));
        ASSERT_EQ(r.status, 0) << r.out;
        out = nlohmann::json::parse(r.out, nullptr, false);
        ASSERT_FALSE(out.is_discarded()) << r.out;
    }

    void expect_killed(int id) {
        ASSERT_GE(id, 1);
        ASSERT_LE(id, broker_count);
        auto exit = brokers[static_cast<std::size_t>(id - 1)]->wait_exit(10s);
        ASSERT_TRUE(exit.has_value());
        EXPECT_EQ(*exit, 128 + SIGKILL);
    }
};

void expect_every_partition_writable(const nlohmann::json& j) {
    for (const auto& p : j["phases"]) {
        EXPECT_GT(p["at_ms"].get<double>(), 0) << p;
    }
    EXPECT_EQ(j["results"]["partitions_measured"], 12);
    EXPECT_EQ(j["results"]["partitions_not_recovered"], 0);
    EXPECT_EQ(j["latency"]["count"], 12);
    // A partition the victim led takes no write until its ZooKeeper session has expired and
    // another leader is elected: seconds, so every one of them shows an outage (records in
    // flight at the kill must not hide it).
    EXPECT_GE(j["results"]["partitions_unavailable"].get<int>(),
              j["parameters"]["partitions_led_by_killed"].get<int>())
        << j;
}

TEST(bench_failover, kills_the_controller_and_sees_every_phase) {
    three_brokers c;
    nlohmann::json j;
    ASSERT_NO_FATAL_FAILURE(c.run("", j));
    int victim = j["parameters"]["killed_controller"].get<int>();
    EXPECT_EQ(j["parameters"]["victim"], victim);
    EXPECT_EQ(j["parameters"]["victim_role"], "controller");
    ASSERT_NO_FATAL_FAILURE(c.expect_killed(victim));
    ASSERT_EQ(j["phases"].size(), 4u) << j;
    expect_every_partition_writable(j);
}

TEST(bench_failover, kills_a_leader_that_is_not_the_controller) {
    three_brokers c;
    nlohmann::json j;
    ASSERT_NO_FATAL_FAILURE(c.run("--victim leader", j));
    int victim = j["parameters"]["victim"].get<int>();
    EXPECT_NE(victim, j["parameters"]["controller_before"].get<int>());
    EXPECT_EQ(j["parameters"]["victim_role"], "broker");
    EXPECT_FALSE(j["parameters"].contains("killed_controller"));
    EXPECT_GE(j["parameters"]["partitions_led_by_killed"].get<int>(), 1) << j;
    ASSERT_NO_FATAL_FAILURE(c.expect_killed(victim));
    std::vector<std::string> names;
    for (const auto& p : j["phases"]) {
        names.push_back(p["name"].get<std::string>());
    }
    EXPECT_EQ(names, (std::vector<std::string>{"victim's partitions led elsewhere",
                                               "every partition led by a live broker",
                                               "every broker's metadata consistent"}))
        << j;
    expect_every_partition_writable(j);
}

}  // namespace
}  // namespace gregor::test

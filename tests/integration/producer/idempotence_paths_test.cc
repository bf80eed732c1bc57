// Goal: librdkafka's idempotence paths behave against gregor as against Kafka, as a user of
// confluent_kafka (librdkafka 2.0) hits them:
//   - purge(in_queue, in_flight) while produce requests are in flight (the broker is frozen
//     with SIGSTOP, so they stay unanswered): the same producer goes on after the broker
//     runs again (the purged batches' sequences are lost: librdkafka drains and bumps its
//     epoch by itself, KIP-360, then starts again at sequence 0); no fatal error, every
//     later record acknowledged;
//   - a producer flushed and destroyed, and a new one with the same settings: a new
//     producer id, no OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_PRODUCER_ID, no fatal error.
// Both check the final log: every acknowledged record exactly once, at the offset its
// acknowledgement named, in send order per partition; a purged record may be there (its
// request reached the broker) but never twice.
// (max.in.flight=5 with retries across a leader change, kill -9 and SIGSTOP, is
// tests/integration/replication/idempotence_test.cc: its producer runs five in flight.)
// Method: a real ZooKeeper and one `gregor broker`; the Python script
// (tests/integration/producer/idempotence_paths.py, Debian's /usr/bin/python3) runs as a
// child; it prints a marker line when it wants the broker paused or resumed and waits for
// a file the test creates once it has sent the signal. The verdict is its last line.
#include "support/broker_process.h"
#include "support/process.h"
#include "support/zookeeper_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int per_phase = 300;  // idempotence_paths.py's PER_PHASE

struct idempotence_paths : ::testing::Test {
    zookeeper_server zk_server;
    std::unique_ptr<broker_process> broker;
    std::filesystem::path dir;

    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "gregor-idem-paths-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir = pattern;
        broker = std::make_unique<broker_process>(
            std::map<std::string, std::string>{{"broker.id", "1"},
                                               {"zookeeper.connect", zk_server.connect_string()},
                                               {"zookeeper.session.timeout.ms", "6000"}});
        ASSERT_TRUE(broker->wait_listening(60s)) << broker->log();
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    std::string bootstrap() const { return "127.0.0.1:" + std::to_string(broker->port()); }
    std::string output() const { return slurp(dir / "script.out"); }

    pid_t start_script(const std::vector<std::string>& args) {
        std::vector<std::string> argv{"/usr/bin/python3", GREGOR_IDEMPOTENCE_PATHS};
        argv.insert(argv.end(), args.begin(), args.end());
        return spawn_child(argv, dir / "script.out", false);
    }
    // Waits for the script's line `marker`, then signals the broker and tells the script.
    bool on_marker(const std::string& marker, int sig, const std::string& done) {
        if (!eventually([&] { return output().find(marker + "\n") != std::string::npos; }, 60s)) {
            return false;
        }
        broker->signal(sig);
        std::ofstream(dir / done) << "1";
        return true;
    }
    // Waits for the script to exit 0 and parses its last line.
    json verdict(pid_t script) {
        auto status = wait_child(script, 120s);
        EXPECT_EQ(status, std::optional<int>(0)) << output();
        std::string out = output();
        out = out.substr(0, out.find_last_not_of('\n') + 1);
        auto j = json::parse(out.substr(out.rfind('\n') + 1), nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << out;
        return j.is_discarded() ? json::object() : j;
    }
};

int count(const json& j, const char* phase) {
    return j.value(phase, 0);
}

// What both paths must leave: nothing lost, doubled, reordered or misreported.
void expect_exactly_once(const json& v, const std::string& out) {
    EXPECT_TRUE(v["fatal"].is_null()) << out;
    EXPECT_TRUE(v["failed"].empty()) << out;
    EXPECT_TRUE(v["duplicates"].empty()) << out;
    EXPECT_TRUE(v["lost"].empty()) << out;
    EXPECT_EQ(v["disorder"], 0) << out;
    EXPECT_EQ(v["offsets_wrong"], 0) << out;
}

TEST_F(idempotence_paths, purge_of_in_flight_batches_then_the_same_producer_goes_on) {
    pid_t script = start_script({"purge", bootstrap(), "purged", dir.string()});
    ASSERT_TRUE(on_marker("PAUSE", SIGSTOP, "paused")) << output() << broker->log();
    bool resumed = on_marker("RESUME", SIGCONT, "resumed");
    if (!resumed) {
        broker->signal(SIGCONT);
    }
    ASSERT_TRUE(resumed) << output();
    json v = verdict(script);
    std::string out = output();
    RecordProperty("purge", v.dump());
    expect_exactly_once(v, out);
    EXPECT_EQ(count(v["acked"], "a"), per_phase) << out;
    // Phase b was sent to a frozen broker and purged: no acknowledgement, every record
    // reported as purged; those whose request reached the broker may be in the log.
    EXPECT_EQ(count(v["acked"], "b"), 0) << out;
    EXPECT_EQ(count(v["purged"], "b"), per_phase) << out;
    EXPECT_EQ(count(v["acked"], "c"), per_phase) << out << broker->log();
    EXPECT_EQ(count(v["log"], "a"), per_phase) << out;
    EXPECT_EQ(count(v["log"], "c"), per_phase) << out;
    // The purge lost the in-flight sequences: librdkafka drained, raised the epoch of its
    // producer id by itself (no InitProducerId) and restarted at sequence 0, which the
    // broker takes from a known producer with a newer epoch, as Kafka does.
    ASSERT_EQ(v["pids"].size(), 1u) << out;
    ASSERT_EQ(v["bumps"].size(), 1u) << out;
    std::smatch acquired;
    std::string pid = v["pids"][0].get<std::string>();
    ASSERT_TRUE(std::regex_match(pid, acquired, std::regex(R"(PID\{Id:(\d+),Epoch:0\})"))) << out;
    EXPECT_EQ(v["bumps"][0], "PID{Id:" + acquired[1].str() + ",Epoch:1}") << out;
}

TEST_F(idempotence_paths, a_producer_restarted_with_the_same_settings_writes_exactly_once) {
    pid_t script = start_script({"restart", bootstrap(), "restarted"});
    json v = verdict(script);
    std::string out = output();
    RecordProperty("restart", v.dump());
    expect_exactly_once(v, out);
    EXPECT_TRUE(v["errors"].empty()) << out;
    EXPECT_EQ(count(v["acked"], "a"), per_phase) << out;
    EXPECT_EQ(count(v["acked"], "b"), per_phase) << out;
    EXPECT_EQ(count(v["log"], "a"), per_phase) << out;
    EXPECT_EQ(count(v["log"], "b"), per_phase) << out;
    EXPECT_TRUE(v["purged"].empty()) << out;
    // Each producer acquired its own id at epoch 0.
    ASSERT_EQ(v["pids"].size(), 2u) << out;
    EXPECT_NE(v["pids"][0], v["pids"][1]) << out;
    for (const auto& pid : v["pids"]) {
        EXPECT_TRUE(
            std::regex_match(pid.get<std::string>(), std::regex(R"(PID\{Id:\d+,Epoch:0\})")))
            << out;
    }
}

}  // namespace
}  // namespace gregor::test

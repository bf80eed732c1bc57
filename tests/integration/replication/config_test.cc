// Goal: topic config overrides changed through the Kafka protocol take effect on a running
// cluster, as users of kafka-configs.sh expect: `gregor topics alter --config
// min.insync.replicas=3` makes acks=all produces fail with NOT_ENOUGH_REPLICAS once a
// replica is gone, `--delete-config` makes them succeed again, ZooKeeper holds Kafka's JSON,
// kafka-python and confluent_kafka see the override as DYNAMIC_TOPIC_CONFIG, an invalid key
// is INVALID_CONFIG with nothing written, the legacy AlterConfigs replaces the set, and a
// retention change deletes old segments without a restart.
// Method: a real ZooKeeper and three `gregor broker` processes (replication_cluster); the
// gregor CLI, zkCli.sh and Python clients (config_clients.py) run as commands; outcomes are
// polled with deadlines, never timed.
#include "integration/replication/replication_cluster.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "support/process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr auto limit = 60s;

std::string chomp(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

command_result gregor_cli(const std::string& args) {
    return run_command(fmt::format("{} {} 2>&1", GREGOR_BINARY, args));
}

// The last line of a Python client's output that is not one of librdkafka's own log lines
// ("%6|...|BGQUEUE|..."), which it may print before and after the client's answer.
std::string client(const std::string& args) {
    auto r = run_command(fmt::format("/usr/bin/python3 {} {} 2>&1", GREGOR_CONFIG_CLIENTS, args));
    std::string out = chomp(r.out);
    while (true) {
        auto nl = out.rfind('\n');
        std::string last = nl == std::string::npos ? out : out.substr(nl + 1);
        if (!last.starts_with('%') || nl == std::string::npos) {
            return last;
        }
        out = chomp(out.substr(0, nl));
    }
}

// A fresh session per read: zk_reader only talks to ZooKeeper inside its calls, so a
// session left idle through a broker kill could expire on the way.
std::optional<std::string> topic_config_json(const std::string& connect, const std::string& topic) {
    zk_reader zk(connect);
    auto node = zk.get("/config/topics/" + topic);
    return node ? std::optional(node->data) : std::nullopt;
}

TEST(topic_config_changes, min_insync_replicas_override_takes_effect_and_can_be_removed) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("cfg", {}), "");
    const std::string b = " --bootstrap " + c.bootstrap();
    auto altered = gregor_cli("topics alter cfg --config min.insync.replicas=3" + b);
    ASSERT_EQ(altered.status, 0) << altered.out;
    EXPECT_NE(altered.out.find("topic cfg: configs updated"), std::string::npos) << altered.out;

    const std::string zk = c.zookeeper_connect();
    const std::string kafka_json = R"({"version":1,"config":{"min.insync.replicas":"3"}})";
    EXPECT_EQ(topic_config_json(zk, "cfg"), kafka_json);
    auto zkcli = run_command("/usr/share/zookeeper/bin/zkCli.sh -server " + c.zookeeper_connect() +
                             " get /config/topics/cfg 2>&1");
    EXPECT_NE(zkcli.out.find(kafka_json), std::string::npos) << zkcli.out;

    EXPECT_EQ(client("confluent-describe " + c.bootstrap() + " cfg min.insync.replicas"),
              "3 DYNAMIC_TOPIC_CONFIG");
    EXPECT_EQ(client("kafka-python-describe " + c.bootstrap() + " cfg min.insync.replicas"),
              "3 1");
    auto described = gregor_cli("topics describe cfg" + b);
    EXPECT_NE(described.out.find("Configs: min.insync.replicas=3"), std::string::npos)
        << described.out;
    auto all = gregor_cli("topics describe cfg --configs" + b);
    EXPECT_NE(all.out.find("Config: retention.ms=604800000\tsource: DEFAULT_CONFIG"),
              std::string::npos)
        << all.out;

    // Three in sync: acks=all works. One replica gone: NOT_ENOUGH_REPLICAS.
    EXPECT_TRUE(eventually([&] { return client("produce " + c.bootstrap() + " cfg") == "ok"; },
                           limit));
    int leader = c.leader("cfg");
    ASSERT_GT(leader, 0);
    int victim = leader % 3 + 1;
    c.broker(victim).kill_now();
    std::set<int> rest{1, 2, 3};
    rest.erase(victim);
    ASSERT_TRUE(c.wait_isr("cfg", rest, limit)) << c.logs();
    EXPECT_EQ(client("produce " + c.bootstrap() + " cfg"), "NOT_ENOUGH_REPLICAS");

    auto removed = gregor_cli("topics alter cfg --delete-config min.insync.replicas" + b);
    ASSERT_EQ(removed.status, 0) << removed.out;
    EXPECT_EQ(topic_config_json(zk, "cfg"), R"({"version":1,"config":{}})");
    EXPECT_TRUE(eventually([&] { return client("produce " + c.bootstrap() + " cfg") == "ok"; },
                           limit))
        << c.log_lines("configs now");
}

TEST(topic_config_changes, invalid_changes_write_nothing_and_alter_configs_replaces) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("cfg", {{"retention.ms", "86400000"}}), "");
    const std::string b = " --bootstrap " + c.bootstrap();
    const std::string zk = c.zookeeper_connect();
    auto before = topic_config_json(zk, "cfg");
    auto bad_key = gregor_cli("topics alter cfg --config no.such.key=1" + b);
    EXPECT_EQ(bad_key.status, 1) << bad_key.out;
    EXPECT_NE(bad_key.out.find("INVALID_CONFIG"), std::string::npos) << bad_key.out;
    auto bad_value = gregor_cli("topics alter cfg --config min.insync.replicas=zero" + b);
    EXPECT_EQ(bad_value.status, 1) << bad_value.out;
    auto missing = gregor_cli("topics alter nosuchtopic --config retention.ms=1" + b);
    EXPECT_EQ(missing.status, 1) << missing.out;
    EXPECT_NE(missing.out.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos) << missing.out;
    EXPECT_EQ(topic_config_json(zk, "cfg"), before);

    EXPECT_EQ(client("confluent-alter " + c.bootstrap() + " cfg segment.ms 3600000"), "ok");
    EXPECT_EQ(topic_config_json(zk, "cfg"), R"({"version":1,"config":{"segment.ms":"3600000"}})");

    // Any broker takes IncrementalAlterConfigs: non-controllers forward it to the controller.
    int n = 0;
    for (std::uint16_t port : c.ports()) {
        protocol::incremental_alter_configs_request req;
        std::string value = std::to_string(1000 + n++);
        req.resources.push_back({2, "cfg", {{"retention.ms", 0, value, {}}}, {}});
        kafka_socket socket(port);
        bytes reply = socket.call(protocol::incremental_alter_configs_api::key, 1, req);
        protocol::reader rd(reply);
        auto resp = protocol::incremental_alter_configs_response::decode(rd, 1);
        ASSERT_TRUE(resp);
        ASSERT_EQ(resp->responses.size(), 1u);
        EXPECT_EQ(resp->responses[0].error_code, 0)
            << "broker on port " << port << ": " << resp->responses[0].error_message.value_or("");
        EXPECT_EQ(topic_config_json(zk, "cfg"),
                  R"({"version":1,"config":{"retention.ms":")" + value + R"(","segment.ms":"3600000"}})");
    }
}

TEST(topic_config_changes, retention_change_deletes_old_segments_without_restart) {
    replication_cluster c(std::map<std::string, std::string>{{"log.retention.check.interval.ms", "1000"}});
    ASSERT_EQ(c.create_topic("ret", {{"segment.bytes", "1024"}}), "");
    ASSERT_EQ(client("produce-many " + c.bootstrap() + " ret 40"), "ok");
    int leader = c.leader("ret");
    ASSERT_GT(leader, 0);
    auto segments = [&] {
        int n = 0;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(c.partition_dir(leader, "ret"), ec)) {
            n += e.path().extension() == ".log" ? 1 : 0;
        }
        return n;
    };
    ASSERT_GT(segments(), 3);
    auto altered = gregor_cli("topics alter ret --config retention.ms=1 --bootstrap " +
                              c.bootstrap());
    ASSERT_EQ(altered.status, 0) << altered.out;
    EXPECT_TRUE(eventually([&] { return segments() == 1; }, limit))
        << segments() << " segments\n" << c.log_lines("ret");
}

}  // namespace
}  // namespace gregor::test

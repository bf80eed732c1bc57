// Goal: a real `gregor broker` process joins the cluster the way a Kafka broker does:
// /brokers/ids/<id> holds the v5 registration JSON with the advertised listener, owned by an
// ephemeral session; it registers again after its session expires; a clean stop removes the
// registration at once (the session is closed, not left to time out); configuration errors
// and an unreachable ZooKeeper make it exit non-zero with a message naming the cause. A
// broker restarted right after kill -9 waits for its old registration to expire; a second
// live broker with the same id still makes the newcomer exit, after that bounded wait.
// Metadata for an unknown topic auto-creates it in ZooKeeper as Kafka does.
// Method: a real ZooKeeper (tests/support) and the real gregor binary as a child process;
// the session is expired by freezing the process (SIGSTOP) past the session timeout.
#include "coord/znode_json.h"
#include "support/broker_process.h"
#include "model/kafka_error.h"
#include "protocol/messages/all.h"
#include "support/zookeeper_server.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

zookeeper_server& zk_server() {
    static zookeeper_server server;
    return server;
}

std::map<std::string, std::string> zk_settings(std::string session_ms = "6000") {
    return {{"zookeeper.connect", zk_server().connect_string()},
            {"zookeeper.session.timeout.ms", std::move(session_ms)}};
}

TEST(broker_registration, registers_v5_json_with_the_listener_under_an_ephemeral_node) {
    broker_process broker(zk_settings());
    zk_reader zk(zk_server().connect_string());
    std::optional<coord::node_data> node;
    ASSERT_TRUE(zk.wait_for([&] { return (node = zk.get("/brokers/ids/1")).has_value(); }, 60s))
        << broker.log();
    auto info = coord::decode_broker(node->data);
    ASSERT_TRUE(info) << node->data;
    ASSERT_EQ(info->endpoints.size(), 1u);
    EXPECT_EQ(info->endpoints[0].listener, "PLAINTEXT");
    EXPECT_EQ(info->endpoints[0].host, "127.0.0.1");
    EXPECT_EQ(info->endpoints[0].port, broker.port());
    EXPECT_NE(node->stat.ephemeral_owner, coord::no_session);
    EXPECT_NE(node->data.find("\"version\":5"), std::string::npos) << node->data;
    auto cluster = zk.get("/cluster/id");
    ASSERT_TRUE(cluster.has_value());
    EXPECT_NE(cluster->data.find("\"id\""), std::string::npos);
}

TEST(broker_registration, clean_stop_removes_the_registration_before_the_session_times_out) {
    // A session timeout far longer than the wait below: only a closed session explains the
    // node vanishing in time.
    broker_process broker(zk_settings("120000"));
    zk_reader zk(zk_server().connect_string());
    ASSERT_TRUE(zk.wait_for([&] { return zk.get("/brokers/ids/1").has_value(); }, 60s))
        << broker.log();
    broker.signal(SIGTERM);
    EXPECT_EQ(broker.wait_exit(30s), 0) << broker.log();
    EXPECT_TRUE(zk.wait_for([&] { return !zk.get("/brokers/ids/1").has_value(); }, 60s));
}

TEST(broker_registration, registers_again_with_a_new_epoch_after_session_expiry) {
    broker_process broker(zk_settings("6000"));
    zk_reader zk(zk_server().connect_string());
    std::optional<coord::node_data> first;
    ASSERT_TRUE(zk.wait_for([&] { return (first = zk.get("/brokers/ids/1")).has_value(); }, 60s))
        << broker.log();
    broker.signal(SIGSTOP);
    // The server expires the frozen broker's session and deletes its ephemeral node.
    EXPECT_TRUE(zk.wait_for([&] { return !zk.get("/brokers/ids/1").has_value(); }, 60s));
    broker.signal(SIGCONT);
    std::optional<coord::node_data> second;
    ASSERT_TRUE(zk.wait_for([&] { return (second = zk.get("/brokers/ids/1")).has_value(); }, 60s))
        << broker.log();
    EXPECT_NE(second->stat.czxid, first->stat.czxid);  // a new broker epoch
    EXPECT_NE(second->stat.ephemeral_owner, first->stat.ephemeral_owner);
}

// A supervisor (systemd's Restart=on-failure) restarts a crashed broker at once, while
// ZooKeeper still holds the dead run's registration: the new run waits for that session to
// expire, says so, and registers, instead of exiting because the id looks taken.
TEST(broker_registration, a_broker_restarted_right_after_kill_9_waits_for_its_old_session) {
    broker_process broker(zk_settings("6000"));
    zk_reader zk(zk_server().connect_string());
    std::optional<coord::node_data> first;
    ASSERT_TRUE(zk.wait_for([&] { return (first = zk.get("/brokers/ids/1")).has_value(); }, 60s))
        << broker.log();
    broker.kill_now();
    ASSERT_TRUE(zk.get("/brokers/ids/1").has_value()) << "the dead run's node went at once";
    broker.restart();
    std::optional<coord::node_data> second;
    ASSERT_TRUE(zk.wait_for(
        [&] {
            second = zk.get("/brokers/ids/1");
            return second && second->stat.ephemeral_owner != first->stat.ephemeral_owner;
        },
        60s))
        << broker.log();
    EXPECT_TRUE(broker.running()) << broker.log();
    EXPECT_FALSE(broker.wait_exit(1s).has_value()) << broker.log();
    EXPECT_NE(broker.log().find("waiting up to 10000 ms for that session to expire"),
              std::string::npos)
        << broker.log();
    EXPECT_NE(second->stat.czxid, first->stat.czxid);
}

// The wait is bounded: a node that another live broker holds with the same broker.id
// outlives it, and the newcomer exits naming the id.
TEST(broker_registration, a_live_broker_with_the_same_id_makes_the_newcomer_exit) {
    broker_process first(zk_settings("2000"));
    zk_reader zk(zk_server().connect_string());
    ASSERT_TRUE(zk.wait_for([&] { return zk.get("/brokers/ids/1").has_value(); }, 60s))
        << first.log();
    broker_process second(zk_settings("2000"));
    auto code = second.wait_exit(60s);
    ASSERT_TRUE(code.has_value()) << second.log();
    EXPECT_NE(*code, 0);
    EXPECT_NE(second.log().find("is still registered by ZooKeeper session"), std::string::npos)
        << second.log();
    EXPECT_NE(second.log().find("broker.id=1?"), std::string::npos) << second.log();
    EXPECT_TRUE(first.running());
}

TEST(broker_registration, a_config_error_exits_2_naming_the_key) {
    broker_process broker(zk_settings(), {"--set", "num.partitions=many"});
    EXPECT_EQ(broker.wait_exit(30s), 2);
    EXPECT_NE(broker.log().find("num.partitions"), std::string::npos) << broker.log();
}

TEST(broker_registration, unreachable_zookeeper_exits_non_zero_after_the_connection_timeout) {
    auto settings = zk_settings();
    settings["zookeeper.connect"] = "127.0.0.1:" + std::to_string(free_loopback_port());
    settings["zookeeper.connection.timeout.ms"] = "1000";
    broker_process broker(settings);
    auto code = broker.wait_exit(60s);
    ASSERT_TRUE(code.has_value());
    EXPECT_NE(*code, 0);
    EXPECT_NE(broker.log().find("cannot connect to ZooKeeper"), std::string::npos) << broker.log();
}

TEST(broker_registration, without_broker_id_an_id_is_generated_and_kept_across_restarts) {
    char tmpl[] = "/tmp/gregor-generated-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string dir = tmpl;
    auto settings = zk_settings();
    settings["broker.id"] = "-1";  // Kafka's default: ask ZooKeeper for one
    settings["log.dirs"] = dir;
    zk_reader zk(zk_server().connect_string());
    auto seq_before = zk.get("/brokers/seqid");
    int expected = 1001 + (seq_before ? seq_before->stat.version() : 0);
    std::string path = "/brokers/ids/" + std::to_string(expected);
    {
        broker_process broker(settings);
        ASSERT_TRUE(zk.wait_for([&] { return zk.get(path).has_value(); }, 60s)) << broker.log();
        broker.signal(SIGTERM);
        ASSERT_TRUE(broker.wait_exit(60s).has_value());
    }
    std::ifstream meta(dir + "/meta.properties");
    std::stringstream text;
    text << meta.rdbuf();
    EXPECT_NE(text.str().find("broker.id=" + std::to_string(expected)), std::string::npos)
        << text.str();
    EXPECT_NE(text.str().find("cluster.id="), std::string::npos) << text.str();
    {
        broker_process again(settings);
        ASSERT_TRUE(zk.wait_for([&] { return zk.get(path).has_value(); }, 60s)) << again.log();
        EXPECT_NE(again.log().find("broker.id " + std::to_string(expected) + " from meta.properties"),
                  std::string::npos);
    }
    // A configured id that contradicts the stored one is refused, naming both.
    settings["broker.id"] = "7";
    broker_process wrong(settings);
    auto code = wrong.wait_exit(60s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 2);
    EXPECT_NE(wrong.log().find("doesn't match stored broker.id " + std::to_string(expected)),
              std::string::npos)
        << wrong.log();
    std::filesystem::remove_all(dir);
}

TEST(broker_registration, a_missing_chroot_is_created_as_kafka_does) {
    auto settings = zk_settings();
    settings["zookeeper.connect"] = zk_server().connect_string() + "/gregor/chroot-test";
    broker_process broker(settings);
    zk_reader zk(zk_server().connect_string());
    ASSERT_TRUE(zk.wait_for([&] { return zk.get("/gregor/chroot-test/brokers/ids/1").has_value(); },
                            60s))
        << broker.log();
    EXPECT_TRUE(zk.get("/gregor/chroot-test/cluster/id").has_value());
}

TEST(broker_metadata, unknown_topic_is_auto_created_in_zookeeper_and_leader_not_available) {
    auto settings = zk_settings();
    settings["num.partitions"] = "2";
    broker_process broker(settings);
    zk_reader zk(zk_server().connect_string());
    ASSERT_TRUE(zk.wait_for([&] { return zk.get("/brokers/ids/1").has_value(); }, 60s))
        << broker.log();
    kafka_socket s(broker.port());
    // As a controller would: the broker learns that it is alive (assignment needs brokers).
    protocol::update_metadata_request um;
    um.controller_id = model::node_id(1);
    um.controller_epoch = model::controller_epoch(1);
    um.live_brokers.push_back({model::node_id(1),
                               "",
                               0,
                               {{broker.port(), "127.0.0.1", "PLAINTEXT", 0, {}}},
                               std::nullopt,
                               {}});
    s.call(protocol::update_metadata_api::key, 7, um);

    protocol::metadata_request req;
    req.topics =
        std::vector<protocol::metadata_request::metadata_request_topic>{{{}, "auto-topic", {}}};
    bytes raw = s.call(protocol::metadata_api::key, 4, req);
    protocol::reader r(raw);
    auto resp = protocol::metadata_response::decode(r, 4);
    ASSERT_TRUE(resp);
    ASSERT_EQ(resp->topics.size(), 1u);
    EXPECT_EQ(resp->topics[0].error_code,
              static_cast<std::int16_t>(model::kafka_error::leader_not_available));
    std::optional<coord::node_data> node;
    ASSERT_TRUE(zk.wait_for(
        [&] { return (node = zk.get("/brokers/topics/auto-topic")).has_value(); }, 30s));
    auto assignment = coord::decode_topic(node->data);
    ASSERT_TRUE(assignment) << node->data;
    ASSERT_EQ(assignment->partitions.size(), 2u);
    EXPECT_EQ(assignment->partitions.at(model::partition_id(0)),
              std::vector<model::node_id>{model::node_id(1)});
}

}  // namespace
}  // namespace gregor::test

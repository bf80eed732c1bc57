// Goal: a broker registers itself exactly as Kafka does (top-level paths, /cluster/id,
// checked ephemeral /brokers/ids/<id> whose czxid is the broker epoch), re-registers after
// session expiry, replaces a stale node of its own previous session, and refuses to steal
// another session's registration. Method: broker_registration on fake_client, draining
// the fake ensemble by hand.
#include "coord/broker_registration.h"

#include "coord/fake_client.h"
#include "coord/znode_paths.h"

#include <gtest/gtest.h>

namespace gregor::coord {
namespace {

broker_info sample_info() {
    broker_info b;
    b.timestamp = model::timestamp_ms{1700000000000};
    b.endpoints.push_back({"PLAINTEXT", "h1", 9092, "PLAINTEXT"});
    return b;
}

std::array<std::uint8_t, 16> fixed_bytes() {
    std::array<std::uint8_t, 16> b{};
    b.fill(0xff);
    return b;
}

struct registration_fixture : ::testing::Test {
    fake_ensemble ensemble;
    fake_client broker{ensemble};
    std::vector<model::broker_epoch> epochs;
    int lost = 0;
    std::optional<error> fatal;
    broker_registration reg{
        broker, model::node_id{1}, sample_info(), fixed_bytes,
        registration_handlers{[this](model::broker_epoch e) { epochs.push_back(e); },
                              [this] { ++lost; }, [this](const error& e) { fatal = e; }}};

    void drain() { ensemble.run_pending(); }
};

TEST_F(registration_fixture, registers_kafka_json_with_czxid_as_epoch) {
    reg.start();
    drain();
    ASSERT_TRUE(reg.registered());
    ASSERT_EQ(epochs.size(), 1U);
    auto node = ensemble.peek("/brokers/ids/1");
    ASSERT_TRUE(node.has_value());
    EXPECT_EQ(node->data, encode_broker(sample_info()));
    EXPECT_EQ(node->stat.ephemeral_owner, broker.session());
    EXPECT_EQ(node->stat.version, model::zk_version{1});
    EXPECT_EQ(epochs[0], model::broker_epoch{node->stat.czxid()});
    EXPECT_EQ(reg.cluster_id(), "_____________________w");
    EXPECT_EQ(ensemble.peek("/cluster/id")->data, encode_cluster_id("_____________________w"));
    for (auto p : paths::top_level_paths()) {
        EXPECT_TRUE(ensemble.peek(std::string(p)).has_value()) << p;
    }
}

TEST_F(registration_fixture, keeps_an_existing_cluster_id) {
    fake_client admin{ensemble};
    admin.create("/cluster", "", create_mode::persistent, [](auto) {});
    admin.create("/cluster/id", encode_cluster_id("existing-id"), create_mode::persistent,
                 [](auto) {});
    reg.start();
    drain();
    ASSERT_TRUE(reg.registered());
    EXPECT_EQ(reg.cluster_id(), "existing-id");
}

TEST_F(registration_fixture, registers_again_with_a_new_epoch_after_session_expiry) {
    reg.start();
    drain();
    ASSERT_EQ(epochs.size(), 1U);
    broker.expire_session();
    drain();
    EXPECT_EQ(lost, 1);
    ASSERT_EQ(epochs.size(), 2U);
    EXPECT_GT(epochs[1], epochs[0]);
    EXPECT_EQ(ensemble.peek("/brokers/ids/1")->stat.ephemeral_owner, broker.session());
}

TEST_F(registration_fixture, replaces_a_stale_node_left_by_its_previous_session) {
    reg.start();
    drain();
    session_id old = broker.session();
    broker.expire_session(/*linger_ephemerals=*/true);
    ASSERT_EQ(ensemble.peek("/brokers/ids/1")->stat.ephemeral_owner, old);
    drain();
    ASSERT_TRUE(reg.registered());
    ASSERT_EQ(epochs.size(), 2U);
    auto node = ensemble.peek("/brokers/ids/1");
    EXPECT_EQ(node->stat.ephemeral_owner, broker.session());
    EXPECT_EQ(epochs[1], model::broker_epoch{node->stat.czxid()});
    EXPECT_FALSE(fatal);
}

TEST_F(registration_fixture, another_sessions_registration_is_fatal) {
    fake_client other{ensemble};
    other.create("/brokers", "", create_mode::persistent, [](auto) {});
    other.create("/brokers/ids", "", create_mode::persistent, [](auto) {});
    other.create("/brokers/ids/1", "{}", create_mode::ephemeral, [](auto) {});
    reg.start();
    drain();
    ASSERT_TRUE(fatal.has_value());
    EXPECT_EQ(fatal->code, errc::fatal_registration);
    EXPECT_NE(fatal->detail.find(fmt::format("{:#x}", other.session()())), std::string::npos)
        << fatal->detail;
    EXPECT_TRUE(reg.failed());
    EXPECT_TRUE(epochs.empty());
    EXPECT_EQ(ensemble.peek("/brokers/ids/1")->stat.ephemeral_owner, other.session());
}

TEST_F(registration_fixture, a_connection_loss_mid_way_is_retried_on_reconnect) {
    reg.start();
    broker.disconnect();  // every queued completion now fails with connection_loss
    drain();
    EXPECT_FALSE(reg.registered());
    broker.reconnect();
    drain();
    // Same session: the lost multi may have applied; the node is ours either way.
    ASSERT_TRUE(reg.registered());
    ASSERT_EQ(epochs.size(), 1U);
    EXPECT_EQ(epochs[0], model::broker_epoch{ensemble.peek("/brokers/ids/1")->stat.czxid()});
    EXPECT_FALSE(fatal);
}

}  // namespace
}  // namespace gregor::coord

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
                              [this](bool) { ++lost; },
                              [this](const error& e) { fatal = e; },
                              {}}};

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

// The controller deletes the registration of a broker whose process it found gone. A broker
// that is alive after all must not stay out of the cluster while its session lives.
TEST_F(registration_fixture, registers_again_when_another_client_deletes_its_node) {
    reg.start();
    drain();
    ASSERT_EQ(epochs.size(), 1U);
    fake_client controller{ensemble};
    controller.remove("/brokers/ids/1", model::zk_version{1}, [](auto) {});
    drain();
    EXPECT_EQ(lost, 1);
    ASSERT_EQ(epochs.size(), 2U);
    EXPECT_GT(epochs[1], epochs[0]);
    auto node = ensemble.peek("/brokers/ids/1");
    ASSERT_TRUE(node.has_value());
    EXPECT_EQ(node->stat.ephemeral_owner, broker.session());
    EXPECT_EQ(epochs[1], model::broker_epoch{node->stat.czxid()});
    EXPECT_EQ(reg.epoch(), epochs[1]);

    // The new node is watched too; a data change alone does not re-register.
    controller.set("/brokers/ids/1", node->data, node->stat.version, [](auto) {});
    drain();
    EXPECT_EQ(epochs.size(), 2U);
    controller.remove("/brokers/ids/1", any_version, [](auto) {});
    drain();
    EXPECT_EQ(lost, 2);
    EXPECT_EQ(epochs.size(), 3U);
    EXPECT_FALSE(fatal);
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

// A broker restarted soon after a crash finds /brokers/ids/<id> still held by the session of
// its dead run. It waits (watching the node) rather than exiting, and registers as soon as
// that session expires; the id is taken only if the node outlives the wait.
struct waiting_registration_fixture : ::testing::Test {
    fake_ensemble ensemble;
    fake_client broker{ensemble};
    fake_client dead_run{ensemble};  // the crashed run's session, not yet expired
    std::vector<model::broker_epoch> epochs;
    std::optional<error> fatal;
    std::vector<std::pair<std::chrono::milliseconds, std::function<void()>>> timers;
    std::optional<broker_registration> reg;

    waiting_registration_fixture() {
        registration_handlers h{[this](model::broker_epoch e) { epochs.push_back(e); },
                                [](bool) {},
                                [this](const error& e) { fatal = e; },
                                {}};
        h.after = [this](std::chrono::milliseconds d, std::function<void()> fn) {
            timers.emplace_back(d, std::move(fn));
        };
        reg.emplace(broker, model::node_id{1}, sample_info(), fixed_bytes, std::move(h),
                    std::chrono::milliseconds(20000));
        dead_run.create("/brokers", "", create_mode::persistent, [](auto) {});
        dead_run.create("/brokers/ids", "", create_mode::persistent, [](auto) {});
        dead_run.create("/brokers/ids/1", "{}", create_mode::ephemeral, [](auto) {});
    }
    void drain() { ensemble.run_pending(); }
};

TEST_F(waiting_registration_fixture, registers_once_the_dead_runs_session_expires) {
    reg->start();
    drain();
    EXPECT_FALSE(fatal);
    EXPECT_FALSE(reg->registered());
    ASSERT_EQ(timers.size(), 1U);
    EXPECT_EQ(timers[0].first, std::chrono::milliseconds(20000));
    dead_run.expire_session();  // ZooKeeper deletes the ephemeral: the watch fires
    drain();
    ASSERT_TRUE(reg->registered());
    ASSERT_EQ(epochs.size(), 1U);
    EXPECT_EQ(ensemble.peek("/brokers/ids/1")->stat.ephemeral_owner, broker.session());
    timers[0].second();  // the wait's end, after registering: nothing happens
    drain();
    EXPECT_FALSE(fatal);
    EXPECT_TRUE(reg->registered());
}

TEST_F(waiting_registration_fixture, a_node_that_outlives_the_wait_means_the_id_is_taken) {
    reg->start();
    drain();
    ASSERT_EQ(timers.size(), 1U);
    EXPECT_FALSE(fatal);
    timers[0].second();
    drain();
    ASSERT_TRUE(fatal.has_value());
    EXPECT_EQ(fatal->code, errc::fatal_registration);
    EXPECT_NE(fatal->detail.find("after waiting 20000 ms"), std::string::npos) << fatal->detail;
    EXPECT_NE(fatal->detail.find(fmt::format("{:#x}", dead_run.session()())), std::string::npos)
        << fatal->detail;
    EXPECT_TRUE(reg->failed());
    EXPECT_EQ(ensemble.peek("/brokers/ids/1")->stat.ephemeral_owner, dead_run.session());
}

TEST_F(waiting_registration_fixture, another_session_taking_the_id_meanwhile_is_fatal_at_once) {
    reg->start();
    drain();
    dead_run.expire_session();
    fake_client rival{ensemble};
    rival.create("/brokers/ids/1", "{}", create_mode::ephemeral, [](auto) {});
    drain();
    ASSERT_TRUE(fatal.has_value());
    EXPECT_NE(fatal->detail.find(fmt::format("{:#x}", rival.session()())), std::string::npos)
        << fatal->detail;
    EXPECT_EQ(ensemble.peek("/brokers/ids/1")->stat.ephemeral_owner, rival.session());
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

// Goal: on a real ZooKeeper, a broker's registration carries Kafka's JSON and is owned by
// its session, and a forced session expiry leads to a new registration with a new czxid
// (broker epoch). Method: broker_registration over zk_client against a server from
// tests/support; the expiry is forced with a second handle on the same session.
#include "coord/broker_registration.h"
#include "zk_env.h"

namespace gregor::coord::contract {
namespace {

broker_info info() {
    broker_info b;
    b.timestamp = model::timestamp_ms{1700000000000};
    b.endpoints.push_back({"PLAINTEXT", "127.0.0.1", 9092, "PLAINTEXT"});
    return b;
}

TEST(zk_registration, registration_json_owner_and_reregistration_after_expiry) {
    zk_env env;
    auto broker = env.connect_raw(env.base);
    std::vector<model::broker_epoch> epochs;
    std::optional<error> fatal;
    broker_registration reg{
        *broker, model::node_id{7}, info(), [] { return std::array<std::uint8_t, 16>{}; },
        registration_handlers{[&](model::broker_epoch e) { epochs.push_back(e); },
                              {},
                              [&](const error& e) { fatal = e; },
                              {}}};
    reg.start();
    ASSERT_TRUE(env.run_until([&] { return !epochs.empty() || fatal; }));
    ASSERT_FALSE(fatal) << fatal->to_string();

    auto reader = env.connect_raw(env.base);
    std::optional<result<node_data>> node;
    reader->get("/brokers/ids/7", {}, [&](auto r) { node.emplace(std::move(r)); });
    ASSERT_TRUE(env.run_until([&] { return node.has_value(); }));
    ASSERT_TRUE(node->has_value());
    EXPECT_EQ((*node)->data, encode_broker(info()));
    EXPECT_EQ((*node)->stat.ephemeral_owner, broker->session());
    EXPECT_EQ(epochs[0], model::broker_epoch{(*node)->stat.czxid()});
    EXPECT_TRUE(is_valid_uuid_string(reg.cluster_id()));

    session_id first = broker->session();
    env.expire(*broker);
    ASSERT_TRUE(env.run_until([&] { return epochs.size() == 2 || fatal; }));
    ASSERT_FALSE(fatal) << fatal->to_string();
    EXPECT_GT(epochs[1], epochs[0]);
    EXPECT_NE(broker->session(), first);
    node.reset();
    reader->get("/brokers/ids/7", {}, [&](auto r) { node.emplace(std::move(r)); });
    ASSERT_TRUE(env.run_until([&] { return node.has_value(); }));
    ASSERT_TRUE(node->has_value());
    EXPECT_EQ((*node)->stat.ephemeral_owner, broker->session());
    EXPECT_EQ(epochs[1], model::broker_epoch{(*node)->stat.czxid()});
}

}  // namespace
}  // namespace gregor::coord::contract

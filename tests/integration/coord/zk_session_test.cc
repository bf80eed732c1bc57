// Goal: zk_client reports ZooKeeper outages the way the broker needs: a server that is not
// there at start gives a clear error after the connection timeout, and a server restart
// while connected gives `disconnected` then `connected`. Method: real ZooKeeper processes
// from tests/support, stopped and started under a live client.
#include "zk_env.h"

namespace gregor::coord::contract {
namespace {

TEST(zk_session, server_down_at_start_fails_after_the_connection_timeout) {
    boost::asio::io_context ioc;
    zk_config cfg;
    cfg.connect = "127.0.0.1:" + std::to_string(test::free_loopback_port());
    cfg.connection_timeout = std::chrono::milliseconds(1500);
    zk_client c{ioc, cfg};
    std::optional<result<void>> started;
    c.start([&](result<void> r) { started.emplace(std::move(r)); });
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!started && std::chrono::steady_clock::now() < end) {
        ioc.run_one_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(started.has_value());
    EXPECT_EQ(started->code(), errc::connect_timeout);
    EXPECT_NE(started->err().detail.find(cfg.connect), std::string::npos);
    std::optional<result<node_data>> got;
    c.get("/", {}, [&](auto r) { got.emplace(std::move(r)); });
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->code(), errc::closed);
}

TEST(zk_session, server_restart_gives_disconnected_then_connected) {
    test::zookeeper_server server;
    boost::asio::io_context ioc;
    zk_config cfg;
    cfg.connect = server.connect_string();
    cfg.session_timeout = std::chrono::milliseconds(10000);
    zk_client c{ioc, cfg};
    std::vector<session_state> events;
    c.add_session_listener([&](const session_event& e) { events.push_back(e.state); });
    bool started = false;
    c.start([&](result<void> r) { started = r.has_value(); });
    auto run_until = [&](auto pred) {
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!pred() && std::chrono::steady_clock::now() < end) {
            ioc.restart();
            ioc.run_one_for(std::chrono::milliseconds(50));
        }
        return pred();
    };
    ASSERT_TRUE(run_until([&] { return started; }));
    server.stop();
    ASSERT_TRUE(
        run_until([&] { return !events.empty() && events.back() != session_state::connected; }));
    EXPECT_EQ(events.back(), session_state::disconnected);
    server.start();
    ASSERT_TRUE(run_until([&] { return events.back() == session_state::connected; }));
    EXPECT_EQ(events.front(), session_state::connected);
    EXPECT_TRUE(c.is_connected());
    std::optional<result<std::string>> made;
    c.create("/after", "", create_mode::persistent, [&](auto r) { made.emplace(std::move(r)); });
    ASSERT_TRUE(run_until([&] { return made.has_value(); }));
    EXPECT_TRUE(made->has_value());
}

}  // namespace
}  // namespace gregor::coord::contract

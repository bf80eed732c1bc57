// zk_env: a coord::client test backend on a real ZooKeeper server (integration tests).
//
// One zookeeper_server per test process (ctest runs each test in its own process), and a
// fresh base znode per Env, used as every client's chroot so tests never see each other's
// nodes. Callbacks are delivered by running the Env's io_context on the test thread.
#pragma once

#include "coord/zk_client.h"
#include "support/session_killer.h"
#include "support/zookeeper_server.h"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>

namespace gregor::coord::contract {

inline test::zookeeper_server& shared_server() {
    static test::zookeeper_server server;
    return server;
}

struct zk_env {
    boost::asio::io_context ioc;
    std::string base;

    static constexpr auto deadline = std::chrono::seconds(30);

    zk_env() {
        static std::atomic<int> counter{0};
        base = fmt::format("/t{}_{}", ::getpid(), counter++);
        auto root = connect_raw("");
        std::optional<result<std::string>> made;
        root->create(base, "", create_mode::persistent,
                     [&](result<std::string> r) { made.emplace(std::move(r)); });
        EXPECT_TRUE(run_until([&] { return made.has_value(); }));
        EXPECT_TRUE(made && made->has_value());
    }

    zk_config config(const std::string& chroot) {
        zk_config cfg;
        cfg.connect = shared_server().connect_string() + chroot;
        cfg.session_timeout = std::chrono::milliseconds(6000);
        cfg.connection_timeout = std::chrono::milliseconds(20000);
        return cfg;
    }

    std::unique_ptr<zk_client> connect_raw(const std::string& chroot) {
        auto c = std::make_unique<zk_client>(ioc, config(chroot));
        std::optional<result<void>> started;
        c->start([&](result<void> r) { started.emplace(std::move(r)); });
        EXPECT_TRUE(run_until([&] { return started.has_value(); }));
        EXPECT_TRUE(started && started->has_value());
        return c;
    }

    std::unique_ptr<client> make_client(const std::string& chroot) {
        return connect_raw(base + chroot);
    }

    bool run_until(const std::function<bool()>& pred,
                   std::chrono::steady_clock::duration limit = deadline) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > end) {
                return false;
            }
            ioc.restart();
            ioc.run_one_for(std::chrono::milliseconds(50));
        }
        return true;
    }

    void expire(client& c) {
        auto creds = dynamic_cast<zk_client&>(c).credentials();
        ASSERT_TRUE(creds.has_value());
        ASSERT_TRUE(
            test::expire_session(shared_server().connect_string(), creds->id(), creds->password));
    }
};

}  // namespace gregor::coord::contract

// Goal: the fake's test controls behave like the real failures they stand for: a dropped
// link fails pending calls with connection_loss although the write applied, an expired
// session's late callbacks are never delivered as current, held deliveries wait, and a
// poster drains deliveries through the executor it is given. Method: fake_client driven by
// hand, asserting on what callbacks see and on the ensemble's tree.
#include "coord/fake_client.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace gregor::coord {
namespace {

TEST(fake_client, disconnect_fails_pending_calls_but_the_write_applied) {
    fake_ensemble ensemble;
    fake_client c{ensemble};
    std::vector<session_state> events;
    c.add_session_listener([&](const session_event& e) { events.push_back(e.state); });
    std::optional<result<std::string>> created;
    c.create("/a", "x", create_mode::persistent, [&](auto r) { created.emplace(r); });
    c.disconnect();
    ensemble.run_pending();
    ASSERT_TRUE(created.has_value());
    EXPECT_EQ(created->code(), errc::connection_loss);
    EXPECT_TRUE(ensemble.peek("/a").has_value());
    EXPECT_EQ(events, (std::vector{session_state::connected, session_state::disconnected}));
    std::optional<result<node_data>> got;
    c.get("/a", {}, [&](auto r) { got.emplace(r); });
    ensemble.run_pending();
    EXPECT_EQ(got->code(), errc::connection_loss);
    c.reconnect();
    ensemble.run_pending();
    EXPECT_EQ(events.back(), session_state::connected);
    EXPECT_TRUE(c.is_connected());
}

TEST(fake_client, an_expired_sessions_callbacks_are_never_delivered_as_current) {
    fake_ensemble ensemble;
    fake_client c{ensemble};
    fake_client writer{ensemble};
    writer.create("/w", "", create_mode::persistent, [](auto) {});
    ensemble.run_pending();
    int watch_fired = 0;
    std::optional<result<node_data>> got;
    c.get(
        "/w", [&](const watch_event&) { ++watch_fired; }, [&](auto r) { got.emplace(r); });
    session_id old = c.session();
    c.expire_session();
    writer.set("/w", "changed", any_version, [](auto) {});
    ensemble.run_pending();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->code(), errc::session_expired);
    EXPECT_EQ(watch_fired, 0);
    EXPECT_NE(c.session(), old);
}

TEST(fake_client, expiry_while_disconnected_is_reported_on_reconnect) {
    fake_ensemble ensemble;
    fake_client c{ensemble};
    fake_client other{ensemble};
    c.create("/e", "", create_mode::ephemeral, [](auto) {});
    ensemble.run_pending();
    std::vector<session_state> events;
    c.add_session_listener([&](const session_event& e) { events.push_back(e.state); });
    c.disconnect();
    c.expire_session();
    ensemble.run_pending();
    EXPECT_FALSE(ensemble.peek("/e").has_value());
    EXPECT_EQ(events, std::vector{session_state::disconnected});
    c.reconnect();
    ensemble.run_pending();
    EXPECT_EQ(events, (std::vector{session_state::disconnected, session_state::expired,
                                   session_state::connected}));
}

TEST(fake_client, held_deliveries_wait_for_release_in_order) {
    fake_ensemble ensemble;
    fake_client a{ensemble};
    fake_client b{ensemble};
    ensemble.run_pending();
    std::vector<std::string> order;
    a.hold();
    a.create("/1", "", create_mode::persistent, [&](auto) { order.push_back("a1"); });
    a.create("/2", "", create_mode::persistent, [&](auto) { order.push_back("a2"); });
    b.create("/3", "", create_mode::persistent, [&](auto) { order.push_back("b"); });
    ensemble.run_pending();
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    a.release();
    ensemble.run_pending();
    EXPECT_EQ(order, (std::vector<std::string>{"b", "a1", "a2"}));
}

TEST(fake_client, poster_drains_through_the_given_executor_never_inline) {
    std::vector<std::function<void()>> executor;
    fake_ensemble ensemble{[&](std::function<void()> f) { executor.push_back(std::move(f)); }};
    fake_client c{ensemble};
    bool done = false;
    c.create("/p", "", create_mode::persistent, [&](auto r) { done = r.has_value(); });
    EXPECT_FALSE(done);
    ASSERT_EQ(executor.size(), 1U);  // one drain scheduled for everything queued
    auto task = std::move(executor.front());
    executor.clear();
    task();
    EXPECT_TRUE(done);
}

TEST(fake_client, close_removes_ephemerals_and_refuses_later_calls) {
    fake_ensemble ensemble;
    fake_client c{ensemble};
    c.create("/e", "", create_mode::ephemeral_sequential, [](auto) {});
    ensemble.run_pending();
    EXPECT_TRUE(ensemble.peek("/e0000000000").has_value());
    c.close();
    EXPECT_FALSE(ensemble.peek("/e0000000000").has_value());
    std::optional<result<node_data>> got;
    c.get("/", {}, [&](auto r) { got.emplace(r); });
    ensemble.run_pending();
    EXPECT_EQ(got->code(), errc::closed);
}

}  // namespace
}  // namespace gregor::coord

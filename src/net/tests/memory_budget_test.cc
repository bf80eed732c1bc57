// Goal: the request memory budget never hands out more than its capacity, returns bytes
// when leases die (including moved-from and reassigned ones), and wakes waiting readers on
// release. Method: drive it on an io_context without sockets; a waiting coroutine records
// when it obtains its lease.
#include "net/memory_budget.h"

#include <gtest/gtest.h>

namespace gregor::net {
namespace {

TEST(memory_budget, grants_until_capacity_then_refuses) {
    asio::io_context ioc{1};
    memory_budget b(ioc.get_executor(), 100);
    auto a = b.try_acquire(60);
    ASSERT_TRUE(a);
    EXPECT_FALSE(b.try_acquire(41));
    auto c = b.try_acquire(40);
    ASSERT_TRUE(c);
    EXPECT_EQ(b.available_bytes(), 0u);
}

TEST(memory_budget, leases_return_bytes_once_even_when_moved) {
    asio::io_context ioc{1};
    memory_budget b(ioc.get_executor(), 100);
    {
        auto a = b.try_acquire(30);
        memory_budget::lease moved = std::move(*a);
        EXPECT_EQ(b.available_bytes(), 70u);
        auto c = b.try_acquire(20);
        moved = std::move(*c);  // releases the 30, takes over the 20
        EXPECT_EQ(b.available_bytes(), 80u);
    }
    EXPECT_EQ(b.available_bytes(), 100u);
}

TEST(memory_budget, waiter_obtains_its_lease_after_a_release) {
    asio::io_context ioc{1};
    memory_budget b(ioc.get_executor(), 100);
    auto held = b.try_acquire(100);
    bool granted = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto lease = b.try_acquire(50);
            while (!lease) {
                co_await b.wait_for_release();
                lease = b.try_acquire(50);
            }
            granted = true;
        },
        asio::detached);
    ioc.poll();
    EXPECT_FALSE(granted);
    held.reset();
    ioc.run();
    EXPECT_TRUE(granted);
    EXPECT_EQ(b.available_bytes(), 100u);
}

}  // namespace
}  // namespace gregor::net

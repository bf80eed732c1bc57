// await(): runs one controller call (a coroutine) to completion on a simulated cluster, for
// the controller's gtest suites. The call must finish once the cluster is quiet.
#pragma once

#include "controller/tests/sim_cluster.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <optional>

namespace gregor::controller::sim {

template <class Response>
Response await(sim_cluster& c, const std::function<asio::awaitable<Response>()>& call) {
    std::optional<Response> out;
    asio::co_spawn(
        c.ioc, [&]() -> asio::awaitable<void> { out = co_await call(); }, asio::detached);
    c.run();
    EXPECT_TRUE(out.has_value()) << "the call did not finish on a quiet cluster";
    return out ? std::move(*out) : Response{};
}

}  // namespace gregor::controller::sim

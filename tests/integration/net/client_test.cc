// Goal: the inter-broker client matches responses to requests by correlation id, bounds its
// queue, times requests out, fails pending requests on disconnect and close, and reconnects
// after the peer restarts. Method: client and peer share the test thread's loop; the peer is
// a net::server or, where the test needs responses out of order, a raw Asio acceptor.
// Each test ends by closing everything so the loop runs out of work.
#include "net/client.h"

#include "net/errc.h"
#include "net/server.h"
#include "net_test_util.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace gregor::net {
namespace {

using namespace testing;

class client_test : public ::testing::Test {
protected:
    // A net::server peer on a free port (or `port`).
    std::unique_ptr<server> make_server(handler h, std::uint16_t port = 0) {
        server_config config;
        config.listeners.push_back(listener_config{"PLAINTEXT", "127.0.0.1", port});
        auto s = std::make_unique<server>(ioc_, config, std::move(h));
        EXPECT_TRUE(s->start());
        return s;
    }

    client_config config_for(std::uint16_t port) {
        client_config c;
        c.port = port;
        c.reconnect_backoff = std::chrono::milliseconds(10);
        c.reconnect_backoff_max = std::chrono::milliseconds(100);
        return c;
    }

    void run() {
        ioc_.run_for(hang_guard);
        EXPECT_TRUE(ioc_.stopped()) << "the loop still had work at the hang guard";
    }

    asio::io_context ioc_{1};
};

// Reads one frame on a raw socket (test peer).
asio::awaitable<bytes> read_raw_frame(tcp::socket& s) {
    std::array<std::uint8_t, 4> prefix{};
    co_await asio::async_read(s, asio::buffer(prefix), asio::use_awaitable);
    auto size = decode_frame_size(prefix, 8, 1 << 20);
    bytes m(static_cast<std::size_t>(*size));
    co_await asio::async_read(s, asio::buffer(m), asio::use_awaitable);
    co_return m;
}

TEST_F(client_test, matches_responses_by_correlation_id_when_they_arrive_out_of_order) {
    tcp::acceptor acceptor(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    constexpr int n = 4;
    asio::co_spawn(
        ioc_,
        [&]() -> asio::awaitable<void> {
            auto s = co_await acceptor.async_accept(asio::use_awaitable);
            std::vector<bytes> requests;
            for (int i = 0; i < n; ++i) {
                requests.push_back(co_await read_raw_frame(s));
            }
            for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
                bytes reply(it->begin() + 4, it->end());  // correlation id + body
                auto f = framed(reply);
                co_await asio::async_write(s, asio::buffer(f), asio::use_awaitable);
            }
            std::array<std::uint8_t, 1> eof{};
            error_code ec;
            co_await s.async_read_some(asio::buffer(eof),
                                       asio::redirect_error(asio::use_awaitable, ec));
        },
        asio::detached);
    auto config = config_for(acceptor.local_endpoint().port());
    config.in_flight_requests_max = n;
    client c(ioc_, config);
    std::map<int, bytes> got;
    for (int i = 0; i < n; ++i) {
        c.send(make_request(-1, {static_cast<std::uint8_t>(i), 42}), [&, i](result<bytes> r) {
            ASSERT_TRUE(r) << r.err().to_string();
            got[i] = bytes(r->begin() + 4, r->end());
            if (got.size() == n) {
                c.close();
            }
        });
    }
    run();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(got[i], (bytes{static_cast<std::uint8_t>(i), 42})) << "request " << i;
    }
}

TEST_F(client_test, coroutine_request_round_trips_through_a_server) {
    auto s = make_server(echo_handler());
    client c(ioc_, config_for(s->port()));
    std::optional<result<bytes>> got;
    asio::co_spawn(
        ioc_,
        [&]() -> asio::awaitable<void> {
            bytes body{1, 2, 3};  // g++ 12 rejects a braced list inside co_await
            got.emplace(co_await c.request(make_request(0, body)));
            c.close();
            s->stop();
        },
        asio::detached);
    run();
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(bytes((*got)->begin() + 4, (*got)->end()), (bytes{1, 2, 3}));
}

TEST_F(client_test, request_without_a_response_times_out) {
    int cancelled = 0;
    auto s = make_server([&](request r) -> asio::awaitable<reply> {
        asio::steady_timer never(ioc_, asio::steady_timer::time_point::max());
        r.cancel_state().on_cancel([&] { never.cancel(); });
        error_code ec;
        co_await never.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        ++cancelled;  // the client dropped the connection after its timeout
        co_return reply::none();
    });
    auto config = config_for(s->port());
    config.request_timeout = std::chrono::milliseconds(100);
    client c(ioc_, config);
    std::optional<result<bytes>> got;
    c.send(make_request(0), [&](result<bytes> r) {
        got.emplace(std::move(r));
        c.close();
        asio::post(ioc_, [&] { s->stop(); });
    });
    run();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->code(), errc::request_timed_out);
    EXPECT_EQ(cancelled, 1);
}

TEST_F(client_test, queue_overflow_is_an_error_not_growth) {
    auto s = make_server(echo_handler());
    auto config = config_for(s->port());
    config.queued_requests_max = 2;
    client c(ioc_, config);
    std::vector<std::error_code> codes(3);
    int done = 0;
    for (int i = 0; i < 3; ++i) {
        c.send(make_request(0), [&, i](result<bytes> r) {
            codes[static_cast<std::size_t>(i)] = r.code();
            if (++done == 3) {
                c.close();
                s->stop();
            }
        });
    }
    EXPECT_EQ(c.queued(), 2u);  // the third was refused, not queued
    run();
    EXPECT_FALSE(codes[0]);
    EXPECT_FALSE(codes[1]);
    EXPECT_EQ(codes[2], errc::queue_full);
}

TEST_F(client_test, pending_requests_fail_when_the_connection_drops) {
    std::unique_ptr<server> s;
    int arrived = 0;
    s = make_server([&](request r) -> asio::awaitable<reply> {
        asio::steady_timer never(ioc_, asio::steady_timer::time_point::max());
        r.cancel_state().on_cancel([&] { never.cancel(); });
        if (++arrived == 1) {
            asio::post(ioc_, [&] { s->stop(); });  // the peer dies with requests pending
        }
        error_code ec;
        co_await never.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return reply::none();
    });
    client c(ioc_, config_for(s->port()));
    std::vector<std::error_code> codes;
    for (int i = 0; i < 3; ++i) {
        c.send(make_request(0), [&](result<bytes> r) {
            codes.push_back(r.code());
            if (codes.size() == 3) {
                c.close();
            }
        });
    }
    run();
    ASSERT_EQ(codes.size(), 3u);
    for (auto code : codes) {
        EXPECT_EQ(code, errc::disconnected);  // one in flight, two queued: all fail
    }
}

TEST_F(client_test, close_fails_pending_requests_with_client_closed) {
    auto s = make_server(echo_handler());
    client c(ioc_, config_for(s->port()));
    std::vector<std::error_code> codes;
    for (int i = 0; i < 2; ++i) {
        c.send(make_request(0), [&](result<bytes> r) { codes.push_back(r.code()); });
    }
    c.close();
    c.send(make_request(0), [&](result<bytes> r) { codes.push_back(r.code()); });
    s->stop();
    run();
    ASSERT_EQ(codes.size(), 3u);
    for (auto code : codes) {
        EXPECT_EQ(code, errc::client_closed);
    }
}

TEST_F(client_test, connect_failure_fails_the_request) {
    std::uint16_t dead_port = 0;
    {
        tcp::acceptor probe(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        dead_port = probe.local_endpoint().port();
    }  // closed: nothing listens there now
    client c(ioc_, config_for(dead_port));
    std::optional<result<bytes>> got;
    c.send(make_request(0), [&](result<bytes> r) {
        got.emplace(std::move(r));
        c.close();
    });
    run();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->code(), errc::connect_failed);
}

TEST_F(client_test, reconnects_after_the_server_restarts) {
    auto s = make_server(echo_handler());
    std::uint16_t port = s->port();
    client c(ioc_, config_for(port));
    std::vector<std::error_code> codes;
    bool succeeded_after_restart = false;
    asio::co_spawn(
        ioc_,
        [&]() -> asio::awaitable<void> {
            auto first = co_await c.request(make_request(0));
            codes.push_back(first.code());
            s->stop();
            s = make_server(echo_handler(), port);  // same port, new process-equivalent
            // The first attempt may hit the dead connection before the client notices the
            // close; it fails cleanly and a later one reconnects.
            for (int attempt = 0; attempt < 5 && !succeeded_after_restart; ++attempt) {
                auto r = co_await c.request(make_request(0));
                codes.push_back(r.code());
                succeeded_after_restart = r.has_value();
            }
            c.close();
            s->stop();
        },
        asio::detached);
    run();
    ASSERT_FALSE(codes.empty());
    EXPECT_FALSE(codes.front());
    EXPECT_TRUE(succeeded_after_restart);
    for (std::size_t i = 1; i + 1 < codes.size(); ++i) {
        EXPECT_EQ(codes[i], errc::disconnected);
    }
}

}  // namespace
}  // namespace gregor::net

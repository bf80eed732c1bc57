// Goal: what a broker relies on around the request path: file-slice replies arrive
// byte-exact through sendfile, "no response" and "close" replies behave like Kafka's
// acks=0 and disconnect, idle connections close, max.connections holds, a client that goes
// away cancels its pending work, and a graceful shutdown still delivers pending replies.
// Method: a real net::server on loopback with blocking clients on another thread; waits are
// on events (end of stream, loop callbacks), never on elapsed time.
#include "net/server.h"
#include "net_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

namespace gregor::net {
namespace {

using namespace testing;

class server_lifecycle : public server_fixture {};

// A temporary file holding `size` pattern bytes; removed with the object.
class temp_file {
public:
    explicit temp_file(std::size_t size) : data_(size) {
        char name[] = "/tmp/gregor-net-test-XXXXXX";
        fd_ = ::mkstemp(name);
        ::unlink(name);
        for (std::size_t i = 0; i < size; ++i) {
            data_[i] = static_cast<std::uint8_t>((i * 7919) >> 3);
        }
        EXPECT_EQ(::write(fd_, data_.data(), data_.size()), static_cast<ssize_t>(size));
    }
    ~temp_file() { ::close(fd_); }
    int fd() const { return fd_; }
    const bytes& data() const { return data_; }

private:
    int fd_ = -1;
    bytes data_;
};

TEST_F(server_lifecycle, mixed_buffer_file_slice_buffer_reply_arrives_intact) {
    temp_file file(2 * 1024 * 1024);
    static const bytes trailer{0xee, 0xff};
    constexpr std::int64_t offset = 12345;
    constexpr std::size_t length = 1'500'000;
    server_config config;
    config.socket_send_buffer_bytes = 4096;  // forces many partial sendfile calls and EAGAIN
    start(
        [&](request r) -> asio::awaitable<reply> {
            auto resp = echo_response(r);
            resp.append(bytes{'h', 'd', 'r'});
            resp.append_file(file.fd(), offset, length, nullptr);
            resp.append(bytes_view(trailer), nullptr);
            co_return reply::send(std::move(resp));
        },
        config);
    run_client([&] {
        raw_client c(port_);
        for (std::int32_t i = 0; i < 2; ++i) {
            ASSERT_TRUE(c.write_all(framed(make_request(i, {7}))));
        }
        for (std::int32_t i = 0; i < 2; ++i) {
            auto r = c.read_frame();
            ASSERT_TRUE(r);
            bytes expect{0, 0, 0, static_cast<std::uint8_t>(i), 7, 'h', 'd', 'r'};
            auto from = file.data().begin() + offset;
            expect.insert(expect.end(), from, from + static_cast<std::ptrdiff_t>(length));
            expect.insert(expect.end(), trailer.begin(), trailer.end());
            EXPECT_TRUE(*r == expect) << "response " << i << " differs";
        }
    });
}

TEST_F(server_lifecycle, handlers_see_which_listener_and_connection_a_request_came_from) {
    std::vector<connection_info> seen;
    server_config config;
    config.listeners.push_back({"CLIENTS", "127.0.0.1", 0});
    config.listeners.push_back({"REPLICATION", "127.0.0.1", 0});
    start(
        [&](request r) -> asio::awaitable<reply> {
            seen.push_back(r.connection());
            co_return reply::send(echo_response(r));
        },
        config);
    std::uint16_t second = server_->port("REPLICATION");
    EXPECT_NE(port_, second);
    run_client([&] {
        raw_client a(port_);
        raw_client b(second);
        ASSERT_TRUE(a.write_all(framed(make_request(1))) && a.read_frame());
        ASSERT_TRUE(b.write_all(framed(make_request(2))) && b.read_frame());
    });
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].listener, "CLIENTS");
    EXPECT_EQ(seen[1].listener, "REPLICATION");
    EXPECT_NE(seen[0].id, seen[1].id);
    EXPECT_TRUE(seen[0].peer.address().is_loopback());
    EXPECT_EQ(seen[1].local.port(), second);
}

TEST_F(server_lifecycle, file_slice_beyond_the_end_of_file_closes_the_connection) {
    temp_file file(1000);
    start([&](request r) -> asio::awaitable<reply> {
        auto resp = echo_response(r);
        resp.append_file(file.fd(), 500, 1000, nullptr);  // promises 500 bytes too many
        co_return reply::send(std::move(resp));
    });
    run_client([&] {
        raw_client c(port_);
        ASSERT_TRUE(c.write_all(framed(make_request(1))));
        EXPECT_TRUE(c.wait_closed());
    });
}

TEST_F(server_lifecycle, no_response_reply_sends_nothing_and_later_replies_still_flow) {
    start([](request r) -> asio::awaitable<reply> {
        if (r.header().correlation_id == 0) {
            co_return reply::none();  // like acks=0 produce
        }
        co_return reply::send(echo_response(r));
    });
    run_client([&] {
        raw_client c(port_);
        ASSERT_TRUE(c.write_all(framed(make_request(0))));
        ASSERT_TRUE(c.write_all(framed(make_request(1))));
        auto r = c.read_frame();
        ASSERT_TRUE(r);
        EXPECT_EQ(correlation_of(*r), 1);
    });
}

TEST_F(server_lifecycle, close_reply_closes_after_the_earlier_replies) {
    start([](request r) -> asio::awaitable<reply> {
        if (r.header().correlation_id == 1) {
            co_return reply::close();
        }
        co_return reply::send(echo_response(r));
    });
    run_client([&] {
        raw_client c(port_);
        ASSERT_TRUE(c.write_all(framed(make_request(0))));
        ASSERT_TRUE(c.write_all(framed(make_request(1))));
        auto r = c.read_frame();
        ASSERT_TRUE(r);
        EXPECT_EQ(correlation_of(*r), 0);
        EXPECT_TRUE(c.wait_closed());
    });
}

TEST_F(server_lifecycle, a_throwing_handler_closes_only_its_connection) {
    start([](request r) -> asio::awaitable<reply> {
        if (r.header().correlation_id == 666) {
            throw std::runtime_error("handler bug");
        }
        co_return reply::send(echo_response(r));
    });
    run_client([&] {
        raw_client bad(port_);
        ASSERT_TRUE(bad.write_all(framed(make_request(666))));
        EXPECT_TRUE(bad.wait_closed());
        raw_client good(port_);
        ASSERT_TRUE(good.write_all(framed(make_request(1))));
        EXPECT_TRUE(good.read_frame());
    });
}

TEST_F(server_lifecycle, idle_connection_is_closed_after_the_idle_timeout) {
    server_config config;
    config.idle_timeout = std::chrono::milliseconds(100);
    start(echo_handler(), config);
    run_client([&] {
        raw_client c(port_);
        ASSERT_TRUE(c.write_all(framed(make_request(1))));
        ASSERT_TRUE(c.read_frame());
        EXPECT_TRUE(c.wait_closed());  // no more traffic: the watchdog closes it
    });
}

TEST_F(server_lifecycle, connections_beyond_max_connections_are_closed_at_once) {
    server_config config;
    config.connections_max = 2;
    start(echo_handler(), config);
    run_client([&] {
        raw_client a(port_);
        raw_client b(port_);
        // Round trips make sure both are registered before the third arrives.
        ASSERT_TRUE(a.write_all(framed(make_request(1))) && a.read_frame());
        ASSERT_TRUE(b.write_all(framed(make_request(2))) && b.read_frame());
        raw_client refused(port_);
        EXPECT_TRUE(refused.wait_closed());
        ASSERT_TRUE(a.write_all(framed(make_request(3))));
        EXPECT_TRUE(a.read_frame());
    });
    EXPECT_EQ(server_->connections_refused(), 1u);
}

TEST_F(server_lifecycle, client_disconnect_cancels_pending_work) {
    bool cancelled = false;
    bool finished = false;
    start([&](request r) -> asio::awaitable<reply> {
        asio::steady_timer wait(ioc_, asio::steady_timer::time_point::max());  // a long poll
        r.cancel_state().on_cancel([&] { wait.cancel(); });
        error_code ec;
        co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        cancelled = r.cancelled();
        finished = true;
        asio::post(ioc_, [&] { server_->stop(); });
        co_return reply::send(echo_response(r));
    });
    std::thread client([&] {
        raw_client c(port_);
        ASSERT_TRUE(c.write_all(framed(make_request(1, bytes(1000, 1)))));
        c.close();  // goes away with the request pending
    });
    ioc_.run_for(hang_guard);  // ends once the handler has seen the cancellation
    client.join();
    EXPECT_TRUE(finished);
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(server_->request_memory_in_use(), 0u);
}

TEST_F(server_lifecycle, graceful_shutdown_delivers_pending_replies_then_closes) {
    std::vector<std::shared_ptr<asio::steady_timer>> held;
    bool shutdown_done = false;
    start([&](request r) -> asio::awaitable<reply> {
        auto gate =
            std::make_shared<asio::steady_timer>(ioc_, asio::steady_timer::time_point::max());
        held.push_back(gate);
        if (held.size() == 3) {
            // All three are in progress: shut down, then let the handlers finish.
            asio::co_spawn(
                ioc_,
                [&]() -> asio::awaitable<void> {
                    co_await server_->shutdown(std::chrono::seconds(30));
                    shutdown_done = true;
                },
                asio::detached);
            asio::post(ioc_, [&] {
                for (auto& g : held) {
                    g->cancel();
                }
            });
        }
        error_code ec;
        co_await gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return reply::send(echo_response(r));
    });
    std::thread client([&] {
        raw_client c(port_);
        for (std::int32_t i = 0; i < 3; ++i) {
            ASSERT_TRUE(c.write_all(framed(make_request(i))));
        }
        for (std::int32_t i = 0; i < 3; ++i) {
            auto r = c.read_frame();
            ASSERT_TRUE(r) << "reply " << i << " lost in shutdown";
            EXPECT_EQ(correlation_of(*r), i);
        }
        EXPECT_TRUE(c.wait_closed());
    });
    ioc_.run_for(hang_guard);  // ends when shutdown has closed everything
    client.join();
    EXPECT_TRUE(shutdown_done);
    EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(server_lifecycle, shutdown_deadline_closes_connections_whose_handlers_never_finish) {
    bool shutdown_done = false;
    bool cancelled = false;
    start([&](request r) -> asio::awaitable<reply> {
        asio::steady_timer stuck(ioc_, asio::steady_timer::time_point::max());
        r.cancel_state().on_cancel([&] { stuck.cancel(); });
        asio::co_spawn(
            ioc_,
            [&]() -> asio::awaitable<void> {
                co_await server_->shutdown(std::chrono::milliseconds(50));
                shutdown_done = true;
            },
            asio::detached);
        error_code ec;
        co_await stuck.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        cancelled = r.cancelled();
        co_return reply::send(echo_response(r));
    });
    std::thread client([&] {
        raw_client c(port_);
        ASSERT_TRUE(c.write_all(framed(make_request(1))));
        EXPECT_TRUE(c.wait_closed());  // closed by the deadline, without a reply
    });
    ioc_.run_for(hang_guard);
    client.join();
    EXPECT_TRUE(shutdown_done);
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(server_->connection_count(), 0u);
}

}  // namespace
}  // namespace gregor::net

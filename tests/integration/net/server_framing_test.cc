// Goal: the server parses Kafka frames however TCP splits or merges them, rejects bad size
// prefixes before allocating, survives truncated frames and garbage, and writes replies in
// request order within the in-flight bound. Method: a real net::server on loopback driven by
// the test thread's loop, and a blocking client on another thread writing exact byte
// sequences; handlers record what they saw, checked after the run.
#include "net/server.h"
#include "net_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace gregor::net {
namespace {

using namespace testing;

class server_framing : public server_fixture {};

bytes body_of(std::int32_t i) {
    return bytes(static_cast<std::size_t>(i % 7) * 3, static_cast<std::uint8_t>(i));
}

// Expects responses 0..n-1 in order, each echoing body_of(i).
void expect_echoes(raw_client& c, std::int32_t n) {
    for (std::int32_t i = 0; i < n; ++i) {
        auto r = c.read_frame();
        ASSERT_TRUE(r) << "response " << i;
        EXPECT_EQ(correlation_of(*r), i);
        auto expect = body_of(i);
        EXPECT_EQ(bytes(r->begin() + 4, r->end()), expect) << "response " << i;
    }
}

TEST_F(server_framing, frames_split_into_one_byte_writes_are_parsed) {
    start(echo_handler());
    run_client([&] {
        raw_client c(port_);
        ASSERT_TRUE(c.connected());
        for (std::int32_t i = 0; i < 5; ++i) {
            for (auto b : framed(make_request(i, body_of(i)))) {
                ASSERT_TRUE(c.write_all(bytes{b}));
            }
        }
        expect_echoes(c, 5);
    });
}

TEST_F(server_framing, many_frames_in_one_write_are_parsed) {
    start(echo_handler());
    run_client([&] {
        raw_client c(port_);
        bytes all;
        for (std::int32_t i = 0; i < 200; ++i) {
            auto f = framed(make_request(i, body_of(i)));
            all.insert(all.end(), f.begin(), f.end());
        }
        ASSERT_TRUE(c.write_all(all));
        expect_echoes(c, 200);
    });
}

TEST_F(server_framing, frames_larger_than_the_read_buffer_arrive_intact) {
    start(echo_handler());
    run_client([&] {
        raw_client c(port_);
        bytes big(3 * limits::connection_read_buffer_bytes + 17);
        for (std::size_t i = 0; i < big.size(); ++i) {
            big[i] = static_cast<std::uint8_t>(i * 31);
        }
        ASSERT_TRUE(c.write_all(framed(make_request(1, big))));
        ASSERT_TRUE(c.write_all(framed(make_request(2, {9}))));
        auto r1 = c.read_frame();
        auto r2 = c.read_frame();
        ASSERT_TRUE(r1 && r2);
        EXPECT_EQ(bytes(r1->begin() + 4, r1->end()), big);
        EXPECT_EQ(correlation_of(*r2), 2);
    });
}

TEST_F(server_framing, replies_leave_in_request_order_when_handlers_finish_in_reverse) {
    constexpr std::int32_t n = 8;
    std::vector<std::shared_ptr<asio::steady_timer>> gates;
    std::vector<std::int32_t> finished;
    start([&](request r) -> asio::awaitable<reply> {
        if (gates.size() + 1 < static_cast<std::size_t>(n)) {
            auto gate =
                std::make_shared<asio::steady_timer>(ioc_, asio::steady_timer::time_point::max());
            gates.push_back(gate);
            error_code ec;
            co_await gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        } else {
            for (auto it = gates.rbegin(); it != gates.rend(); ++it) {
                (*it)->cancel();  // resumes the waiters newest first
            }
        }
        finished.push_back(r.header().correlation_id);
        co_return reply::send(echo_response(r));
    });
    run_client([&] {
        raw_client c(port_);
        for (std::int32_t i = 0; i < n; ++i) {
            ASSERT_TRUE(c.write_all(framed(make_request(i, body_of(i)))));
        }
        expect_echoes(c, n);
    });
    std::vector<std::int32_t> reversed{7, 6, 5, 4, 3, 2, 1, 0};
    EXPECT_EQ(finished, reversed);
}

TEST_F(server_framing, in_flight_bound_stops_reading_and_every_request_is_answered) {
    constexpr std::size_t bound = 4;
    constexpr std::int32_t n = 20;
    std::vector<std::shared_ptr<asio::steady_timer>> held;
    std::size_t in_progress = 0;
    std::size_t max_in_progress = 0;
    server_config config;
    config.in_flight_requests_max = bound;
    start(
        [&](request r) -> asio::awaitable<reply> {
            max_in_progress = std::max(max_in_progress, ++in_progress);
            auto gate =
                std::make_shared<asio::steady_timer>(ioc_, asio::steady_timer::time_point::max());
            held.push_back(gate);
            if (held.size() == bound) {
                // Released later, so an unbounded reader would deliver more requests first.
                asio::post(ioc_, [&] {
                    for (auto& g : held) {
                        g->cancel();
                    }
                    held.clear();
                });
            }
            error_code ec;
            co_await gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            --in_progress;
            co_return reply::send(echo_response(r));
        },
        config);
    run_client([&] {
        raw_client c(port_);
        bytes all;
        for (std::int32_t i = 0; i < n; ++i) {
            auto f = framed(make_request(i, body_of(i)));
            all.insert(all.end(), f.begin(), f.end());
        }
        ASSERT_TRUE(c.write_all(all));
        expect_echoes(c, n);
    });
    EXPECT_EQ(max_in_progress, bound);
}

TEST_F(server_framing, request_memory_budget_holds_back_reading_until_bytes_are_released) {
    constexpr std::size_t capacity = 2048;
    std::vector<std::shared_ptr<asio::steady_timer>> held;
    std::vector<std::size_t> memory_at_arrival;
    server_config config;
    config.request_bytes_max = 1024;
    config.request_memory_bytes = capacity;  // room for two 1000-byte requests, not three
    start(
        [&](request r) -> asio::awaitable<reply> {
            memory_at_arrival.push_back(server_->request_memory_in_use());
            if (held.size() == 2) {  // the last request: let everything finish
                for (auto& g : held) {
                    g->cancel();
                }
                co_return reply::send(echo_response(r));
            }
            auto gate =
                std::make_shared<asio::steady_timer>(ioc_, asio::steady_timer::time_point::max());
            held.push_back(gate);
            if (held.size() == 2) {
                asio::post(ioc_, [&] { held.front()->cancel(); });  // frees the oldest request
            }
            error_code ec;
            co_await gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_return reply::send(echo_response(r));
        },
        config);
    run_client([&] {
        raw_client c(port_);
        bytes all;
        for (std::int32_t i = 0; i < 3; ++i) {
            auto f = framed(make_request(i, bytes(992, static_cast<std::uint8_t>(i))));
            all.insert(all.end(), f.begin(), f.end());
        }
        ASSERT_TRUE(c.write_all(all));  // all three arrive together
        for (std::int32_t i = 0; i < 3; ++i) {
            auto r = c.read_frame();
            ASSERT_TRUE(r);
            EXPECT_EQ(correlation_of(*r), i);
        }
    });
    ASSERT_EQ(memory_at_arrival.size(), 3u);
    for (auto m : memory_at_arrival) {
        EXPECT_LE(m, capacity);  // the third request was read only after the first let go
    }
    EXPECT_EQ(server_->request_memory_in_use(), 0u);
}

TEST_F(server_framing, bad_size_prefixes_close_the_connection_before_allocating) {
    int calls = 0;
    server_config config;
    config.request_bytes_max = 1024;
    start(
        [&](request r) -> asio::awaitable<reply> {
            ++calls;
            co_return reply::send(echo_response(r));
        },
        config);
    run_client([&] {
        for (std::uint32_t size : {1025u, 0u, 0xffffffffu, 0x80000000u, 0x7fffffffu, 7u}) {
            raw_client c(port_);
            bytes frame(68, 0xab);
            for (int k = 0; k < 4; ++k) {
                frame[static_cast<std::size_t>(k)] =
                    static_cast<std::uint8_t>(size >> (24 - 8 * k));
            }
            c.write_all(frame);  // may race with the server's close; only the close matters
            EXPECT_TRUE(c.wait_closed()) << "size " << size;
        }
        raw_client ok(port_);  // the server still serves
        ASSERT_TRUE(ok.write_all(framed(make_request(3))));
        ASSERT_TRUE(ok.read_frame());
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(server_->request_memory_in_use(), 0u);
}

TEST_F(server_framing, truncated_frame_then_end_of_stream_is_dropped_cleanly) {
    int calls = 0;
    start([&](request r) -> asio::awaitable<reply> {
        ++calls;
        co_return reply::send(echo_response(r));
    });
    run_client([&] {
        raw_client c(port_);
        auto f = framed(make_request(1, bytes(100, 1)));
        ASSERT_TRUE(c.write_all(bytes_view(f).first(60)));
        c.shutdown_write();
        EXPECT_TRUE(c.wait_closed());
        raw_client half_prefix(port_);
        ASSERT_TRUE(half_prefix.write_all(bytes{0, 0}));
        half_prefix.shutdown_write();
        EXPECT_TRUE(half_prefix.wait_closed());
    });
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(server_->request_memory_in_use(), 0u);
    EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(server_framing, garbage_does_not_crash_the_server) {
    server_config config;
    config.request_bytes_max = 4096;
    start(echo_handler(), config);
    run_client([&] {
        std::mt19937 rng(20240601);  // fixed seed: reproducible
        for (int round = 0; round < 30; ++round) {
            raw_client c(port_);
            bytes junk(1 + rng() % 3000);
            for (auto& b : junk) {
                b = static_cast<std::uint8_t>(rng());
            }
            if (round % 3 == 0) {
                junk[0] = 0;  // small plausible sizes reach the body-reading path
                junk[1] = 0;
            }
            c.write_all(junk);  // the server may close mid-write
            c.close();
        }
        raw_client ok(port_);
        ASSERT_TRUE(ok.write_all(framed(make_request(5, {1, 2, 3}))));
        auto r = ok.read_frame();
        ASSERT_TRUE(r);
        EXPECT_EQ(correlation_of(*r), 5);
    });
}

}  // namespace
}  // namespace gregor::net

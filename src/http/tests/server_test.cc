// http::server over real sockets on 127.0.0.1: routes, Kafka-operator-facing errors (404,
// 405, 413, 431), keep-alive, the connection cap, and the target and listener parsers.
#include "http/server.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

namespace gregor::http {
namespace {

namespace asio = net::asio;
using net::tcp;

struct http_fixture : ::testing::Test {
    asio::io_context ioc;
    std::unique_ptr<server> srv;
    std::thread loop;
    int hits = 0;  // of /metrics, counted on the loop
    std::function<void(server&)> more_routes;

    void start(server_config c = {}) {
        srv = std::make_unique<server>(ioc, c);
        srv->add_route("/metrics", [this](const request& r) {
            ++hits;
            response out;
            out.content_type = "text/plain; version=0.0.4";
            out.body = "up 1\n# path " + r.path + "\n";
            return out;
        });
        srv->add_route("/echo", [](const request& r) {
            std::string body;
            for (const auto& [k, v] : r.query) {
                body += k + "=" + v + ";";
            }
            return response{200, "text/plain", body};
        });
        if (more_routes) {
            more_routes(*srv);
        }
        ASSERT_TRUE(srv->start());
        loop = std::thread([this] {
            auto guard = asio::make_work_guard(ioc);
            ioc.run();
        });
    }
    void TearDown() override {
        if (srv) {
            std::promise<void> done;
            asio::post(ioc, [&] {
                srv->stop();
                done.set_value();
            });
            done.get_future().wait();
        }
        ioc.stop();
        if (loop.joinable()) {
            loop.join();
        }
    }
    tcp::socket connect() {
        tcp::socket s(client_ioc);
        s.connect({asio::ip::make_address("127.0.0.1"), srv->port()});
        return s;
    }
    // Sends `raw` and reads until the peer closes (or one response, with keep-alive off).
    static std::string exchange(tcp::socket& s, const std::string& raw) {
        asio::write(s, asio::buffer(raw));
        std::string out;
        std::array<char, 4096> buf{};
        for (;;) {
            net::error_code ec;
            auto n = s.read_some(asio::buffer(buf), ec);
            out.append(buf.data(), n);
            if (ec) {
                return out;
            }
        }
    }
    std::string get(const std::string& target, const std::string& method = "GET") {
        auto s = connect();
        return exchange(
            s, method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    asio::io_context client_ioc;
};

TEST_F(http_fixture, a_route_answers_and_unknown_paths_get_404) {
    start();
    auto r = get("/metrics");
    EXPECT_NE(r.find("HTTP/1.1 200 OK"), std::string::npos) << r;
    EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r;
    EXPECT_NE(r.find("\r\n\r\nup 1\n# path /metrics\n"), std::string::npos) << r;
    auto missing = get("/nothing-here");
    EXPECT_NE(missing.find("HTTP/1.1 404 Not Found"), std::string::npos) << missing;
    EXPECT_NE(missing.find("no such page: /nothing-here"), std::string::npos) << missing;
}

// /metrics renders its text on a thread of its own: the connection waits for it, the loop
// does not.
TEST_F(http_fixture, an_async_route_answers_when_its_work_is_done_and_the_loop_serves_meanwhile) {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    asio::thread_pool worker(1);
    more_routes = [&](server& s) {
        s.add_route("/slow", [&](request) -> asio::awaitable<response> {
            std::string body = co_await asio::co_spawn(
                worker,
                [&]() -> asio::awaitable<std::string> {
                    released.wait();
                    co_return std::string("rendered elsewhere\n");
                },
                asio::use_awaitable);
            co_return response{200, "text/plain", body};
        });
        s.add_route("/boom", [](request) -> asio::awaitable<response> {
            throw std::runtime_error("boom");
            co_return response{};
        });
    };
    start();
    auto slow = std::async(std::launch::async, [&] { return get("/slow"); });
    auto fast = get("/metrics");  // while /slow waits for its worker
    EXPECT_NE(fast.find("HTTP/1.1 200 OK"), std::string::npos) << fast;
    EXPECT_EQ(slow.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
        << "/slow cannot answer before its work is released";
    release.set_value();
    auto answer = slow.get();
    EXPECT_NE(answer.find("HTTP/1.1 200 OK"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\r\n\r\nrendered elsewhere\n"), std::string::npos) << answer;
    auto boom = get("/boom");
    EXPECT_NE(boom.find("HTTP/1.1 500"), std::string::npos) << boom;
}

TEST_F(http_fixture, only_get_and_head_and_no_bodies) {
    start();
    auto post = get("/metrics", "POST");
    EXPECT_NE(post.find("HTTP/1.1 405"), std::string::npos) << post;
    auto head = get("/metrics", "HEAD");
    EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
    EXPECT_NE(head.find("Content-Length: 21"), std::string::npos) << head;
    EXPECT_EQ(head.find("up 1"), std::string::npos) << "HEAD has no body: " << head;
    auto s = connect();
    auto with_body = exchange(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    EXPECT_NE(with_body.find("HTTP/1.1 413"), std::string::npos) << with_body;
}

TEST_F(http_fixture, an_oversized_head_gets_431_and_the_server_goes_on) {
    server_config c;
    c.head_bytes_max = 1024;
    start(c);
    auto s = connect();
    auto r = exchange(
        s, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
    EXPECT_NE(r.find("HTTP/1.1 431"), std::string::npos) << r;
    EXPECT_NE(get("/metrics").find("200 OK"), std::string::npos);
}

TEST_F(http_fixture, keep_alive_serves_several_requests_on_one_connection) {
    start();
    auto s = connect();
    const std::string one = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    auto r =
        exchange(s, one + one + "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::size_t count = 0;
    for (auto at = r.find("HTTP/1.1 200"); at != std::string::npos;
         at = r.find("HTTP/1.1 200", at + 1)) {
        ++count;
    }
    EXPECT_EQ(count, 3U) << r;
}

TEST_F(http_fixture, connections_beyond_the_cap_are_closed_at_once) {
    server_config c;
    c.connections_max = 2;
    start(c);
    auto a = connect();
    auto b = connect();
    // Make sure both were accepted before the third arrives.
    asio::write(a, asio::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
    asio::write(b, asio::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::array<char, 512> buf{};
    a.read_some(asio::buffer(buf));
    b.read_some(asio::buffer(buf));
    auto third = connect();
    auto r = exchange(third, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r, "") << "the third connection is closed unanswered";
    a.close();
    b.close();
    // Once the first two are gone, connections are served again.
    for (int i = 0; i < 50; ++i) {
        auto again = get("/metrics");
        if (again.find("200 OK") != std::string::npos) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no connection served after the others closed";
}

TEST(http_target, path_and_decoded_query) {
    auto r = parse_target("GET", "/api/journal?topic=a%20b&partition=3&since=&flag&x=1+2&bad=%zz");
    EXPECT_EQ(r.path, "/api/journal");
    EXPECT_EQ(r.query.at("topic"), "a b");
    EXPECT_EQ(r.query.at("partition"), "3");
    EXPECT_EQ(r.query.at("since"), "");
    EXPECT_EQ(r.query.at("flag"), "");
    EXPECT_EQ(r.query.at("x"), "1 2");
    EXPECT_EQ(r.query.at("bad"), "%zz");
    EXPECT_TRUE(parse_target("GET", "/metrics").query.empty());
}

TEST(http_listener, host_port_and_clear_errors) {
    auto a = parse_listener("127.0.0.1:9644");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 9644);
    auto v6 = parse_listener("[::1]:0");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    for (const char* bad : {"9644", "host:", ":9644", "h:70000", "h:12x"}) {
        auto r = parse_listener(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.err().to_string().find(bad), std::string::npos) << r.err().to_string();
    }
}

}  // namespace
}  // namespace gregor::http

#include "http/server.h"

#include "http/logger.h"
#include "net/errc.h"
#include "net/server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <charconv>
#include <list>

namespace gregor::http {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using net::error_code;
using net::tcp;

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Percent-decoding with '+' as space; a malformed escape is kept as it is.
std::string decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

bhttp::response<bhttp::string_body> to_beast(const response& r, unsigned version, bool head) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(r.status), version};
    out.set(bhttp::field::server, "gregor");
    out.set(bhttp::field::content_type, r.content_type);
    out.set(bhttp::field::cache_control, "no-store");
    out.body() = r.body;
    out.prepare_payload();
    if (head) {
        out.body().clear();  // HEAD: the length of the GET, no body
    }
    return out;
}

response plain(int status, std::string body) {
    return response{status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

result<server_config> parse_listener(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        return error(net::errc::invalid_config,
                     fmt::format("'{}': expected host:port (for example 127.0.0.1:9644)", text));
    }
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::string_view port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
        return error(net::errc::invalid_config,
                     fmt::format("'{}': the port must be a number from 0 to 65535", text));
    }
    server_config c;
    c.host = std::string(host);
    c.port = static_cast<std::uint16_t>(port);
    return c;
}

request parse_target(std::string_view method, std::string_view target) {
    request r;
    r.method = std::string(method);
    auto q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q == std::string_view::npos) {
        return r;
    }
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        std::string key = decode(pair.substr(0, eq));
        std::string value = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
        r.query[std::move(key)] = std::move(value);
    }
    return r;
}

struct server::impl : std::enable_shared_from_this<impl> {
    impl(asio::io_context& ioc, server_config c)
        : ex(ioc.get_executor()), config(std::move(c)), acceptor(ioc) {}

    asio::any_io_executor ex;
    server_config config;
    tcp::acceptor acceptor;
    std::map<std::string, route> routes;
    std::map<std::string, async_route> async_routes;
    std::list<std::shared_ptr<beast::tcp_stream>> streams;  // open connections
    bool stopped = false;

    response answer(const request& req) const {
        auto it = routes.find(req.path);
        if (it == routes.end()) {
            return plain(404, fmt::format("no such page: {}\n", req.path));
        }
        try {
            return it->second(req);
        } catch (const std::exception& e) {
            GREGOR_LOG(http_log, err, "GET {} failed: {}", req.path, e.what());
            return plain(500, "internal error\n");
        }
    }

    static asio::awaitable<response> answer_async(async_route handler, request req) {
        try {
            co_return co_await handler(std::move(req));
        } catch (const std::exception& e) {
            GREGOR_LOG(http_log, err, "GET failed: {}", e.what());
            co_return plain(500, "internal error\n");
        }
    }

    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self);
    static asio::awaitable<void> session(
        std::shared_ptr<impl> self, std::list<std::shared_ptr<beast::tcp_stream>>::iterator it);
    // Reads one request and answers it; false when the connection should close.
    asio::awaitable<bool> serve_one(beast::tcp_stream& stream, beast::flat_buffer& buffer);
};

asio::awaitable<bool> server::impl::serve_one(beast::tcp_stream& stream,
                                              beast::flat_buffer& buffer) {
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.head_bytes_max));
    stream.expires_after(config.idle_timeout);
    error_code ec;
    co_await bhttp::async_read(stream, buffer, parser,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || stopped) {
        co_return false;
    }
    response r;
    unsigned version = 11;
    bool keep_alive = false;
    bool head = false;
    if (ec == bhttp::error::header_limit) {
        r = plain(431, "request head too large\n");
    } else if (ec == bhttp::error::unexpected_body || ec == bhttp::error::body_limit) {
        r = plain(413, "request bodies are not accepted\n");
    } else if (ec) {
        r = plain(400, fmt::format("bad request: {}\n", ec.message()));
    } else {
        const auto& req = parser.get();
        version = req.version();
        keep_alive = req.keep_alive();
        head = req.method() == bhttp::verb::head;
        if (req.method() != bhttp::verb::get && !head) {
            r = plain(405, "only GET and HEAD\n");
        } else {
            auto method = req.method_string();
            auto target = req.target();
            auto parsed = parse_target(std::string_view(method.data(), method.size()),
                                       std::string_view(target.data(), target.size()));
            auto async = async_routes.find(parsed.path);
            if (async == async_routes.end()) {
                r = answer(parsed);
            } else {
                r = co_await answer_async(async->second, std::move(parsed));
            }
        }
    }
    auto out = to_beast(r, version, head);
    out.keep_alive(keep_alive);
    stream.expires_after(config.idle_timeout);
    co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec && keep_alive && !stopped;
}

asio::awaitable<void> server::impl::session(
    std::shared_ptr<impl> self, std::list<std::shared_ptr<beast::tcp_stream>>::iterator it) {
    auto stream = *it;
    beast::flat_buffer buffer(self->config.head_bytes_max);
    while (co_await self->serve_one(*stream, buffer)) {
    }
    error_code ec;
    stream->socket().shutdown(tcp::socket::shutdown_send, ec);
    stream->close();
    if (!self->stopped) {
        self->streams.erase(it);
    }
}

asio::awaitable<void> server::impl::accept_loop(std::shared_ptr<impl> self) {
    while (!self->stopped) {
        error_code ec;
        tcp::socket socket(self->ex);
        co_await self->acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (self->stopped || ec == asio::error::operation_aborted) {
            break;
        }
        if (ec) {
            continue;  // a connection reset before accept: nothing to do
        }
        if (self->streams.size() >= self->config.connections_max) {
            GREGOR_LOG_RATE_LIMITED(http_log, warn, std::chrono::seconds(10),
                                    "refusing an HTTP connection: {} open", self->streams.size());
            socket.close(ec);
            continue;
        }
        self->streams.push_front(std::make_shared<beast::tcp_stream>(std::move(socket)));
        asio::co_spawn(self->ex, session(self, self->streams.begin()), asio::detached);
    }
}

server::server(asio::io_context& ioc, server_config config)
    : impl_(std::make_shared<impl>(ioc, std::move(config))) {}

server::~server() {
    stop();
}

void server::add_route(std::string path, async_route r) {
    impl_->async_routes[std::move(path)] = std::move(r);
}

void server::add_route(std::string path, route r) {
    impl_->routes[std::move(path)] = std::move(r);
}

result<void> server::start() {
    error_code ec;
    auto address = asio::ip::make_address(impl_->config.host, ec);
    if (ec) {
        return error(net::errc::invalid_config,
                     fmt::format("gregor.http.listener: '{}' is not an IP address: {}",
                                 impl_->config.host, ec.message()));
    }
    if (ec = net::bind_and_listen(impl_->acceptor, tcp::endpoint(address, impl_->config.port));
        ec) {
        return error(net::errc::socket_error,
                     fmt::format("gregor.http.listener {}:{}: {}", impl_->config.host,
                                 impl_->config.port, ec.message()));
    }
    GREGOR_LOG(http_log, info, "http: listening on {}:{}", impl_->config.host, port());
    asio::co_spawn(impl_->ex, impl::accept_loop(impl_), asio::detached);
    return ok();
}

std::uint16_t server::port() const {
    error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

void server::stop() {
    if (impl_->stopped) {
        return;
    }
    impl_->stopped = true;
    error_code ec;
    impl_->acceptor.close(ec);
    for (auto& s : impl_->streams) {
        s->socket().close(ec);
    }
    impl_->streams.clear();
}

}  // namespace gregor::http

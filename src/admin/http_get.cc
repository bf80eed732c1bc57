#include "admin/http_get.h"

#include "admin/errc.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <charconv>

namespace gregor::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {
constexpr std::uint64_t body_bytes_max = 64ULL << 20;
}  // namespace

result<http_reply> http_get(const std::string& host_port, const std::string& target,
                            std::chrono::milliseconds timeout) {
    auto colon = host_port.rfind(':');
    unsigned port = 0;
    if (colon == std::string::npos || colon == 0) {
        return error(errc::bad_usage, fmt::format("'{}': expected host:port", host_port));
    }
    auto ptext = std::string_view(host_port).substr(colon + 1);
    auto [end, ec] = std::from_chars(ptext.data(), ptext.data() + ptext.size(), port);
    if (ec != std::errc{} || end != ptext.data() + ptext.size() || port == 0 || port > 65535) {
        return error(errc::bad_usage, fmt::format("'{}': expected host:port", host_port));
    }
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    boost::system::error_code rec;
    auto found = resolver.resolve(host_port.substr(0, colon), std::to_string(port), rec);
    if (rec || found.empty()) {
        return error(errc::connect_failed,
                     fmt::format("{}: cannot resolve: {}", host_port, rec.message()));
    }
    beast::tcp_stream stream(ioc);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(body_bytes_max);
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, host_port);
    req.set(bhttp::field::user_agent, "gregor");
    boost::system::error_code done;
    stream.expires_after(timeout);
    stream.async_connect(*found.begin(), [&](boost::system::error_code e) {
        if (e) {
            done = e;
            return;
        }
        bhttp::async_write(stream, req, [&](boost::system::error_code w, std::size_t) {
            if (w) {
                done = w;
                return;
            }
            bhttp::async_read(stream, buffer, parser,
                              [&](boost::system::error_code r, std::size_t) { done = r; });
        });
    });
    ioc.run();
    if (done) {
        return error(errc::connect_failed,
                     fmt::format("GET http://{}{}: {}", host_port, target, done.message()));
    }
    auto res = parser.release();
    return http_reply{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace gregor::admin

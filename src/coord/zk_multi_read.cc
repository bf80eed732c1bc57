#include "coord/zk_multi_read.h"

#include "coord/limits.h"
#include "coord/logger.h"
#include "coord/path.h"
#include "coord/zk_convert.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <charconv>
#include <deque>

namespace gregor::coord::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// ZooKeeper's op codes and the xids it reserves for its own messages.
constexpr std::int32_t op_get_data = 4;
constexpr std::int32_t op_sync = 9;
constexpr std::int32_t op_multi_read = 22;
constexpr std::int32_t op_close_session = -11;
constexpr std::int32_t op_error = -1;
constexpr std::int32_t xid_notification = -1;
constexpr std::int32_t xid_ping = -2;
constexpr std::int32_t unimplemented = -6;  // ZooKeeper's code for an op it does not know
constexpr std::size_t password_bytes = 16;
// A multiRead request's paths stay well below the server's jute.maxbuffer (1 MiB).
constexpr std::size_t request_path_bytes_max = 256 * 1024;

// A frame: a 4-byte size prefix, then what `fill` writes. Jute's primitives are Kafka's
// non-compact ones (big-endian ints, one-byte booleans, buffers and strings with an int32
// length), so protocol::writer and protocol::reader do the byte work.
template <class Fill>
bytes framed(Fill fill) {
    protocol::writer w;
    std::size_t at = w.reserve_int32();
    fill(w);
    w.patch_int32(at, static_cast<std::int32_t>(w.size_bytes() - 4));
    return std::move(w).finish().flatten();
}

void write_text(protocol::writer& w, std::string_view s) {
    w.write_bytes(bytes_view(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()),  // NOLINT
                  false);
}

znode_stat read_stat(protocol::reader& r) {
    znode_stat s;
    s.czxid = zxid{r.read_int64()};
    s.mzxid = zxid{r.read_int64()};
    (void)r.read_int64();  // ctime
    (void)r.read_int64();  // mtime
    s.version = model::zk_version{r.read_int32()};
    s.cversion = r.read_int32();
    (void)r.read_int32();  // aversion
    s.ephemeral_owner = session_id{r.read_int64()};
    s.data_length = r.read_int32();
    s.num_children = r.read_int32();
    s.pzxid = zxid{r.read_int64()};
    return s;
}

error malformed(std::string what) {
    return error(errc::malformed_data, "multiRead reply: " + std::move(what));
}

std::string full_path(const std::string& chroot, const std::string& path) {
    if (chroot.empty()) {
        return path;
    }
    return path == "/" ? chroot : chroot + path;
}

class reader final : public multi_read_handle, public std::enable_shared_from_this<reader> {
public:
    reader(asio::io_context& ioc, multi_read_config cfg, std::vector<std::string> paths,
           multi_read_fn done)
        : ioc_(ioc),
          cfg_(std::move(cfg)),
          paths_(std::move(paths)),
          done_(std::move(done)),
          socket_(ioc),
          watchdog_(ioc) {}

    void start() {
        asio::co_spawn(
            ioc_, [self = shared_from_this()] { return self->run(); }, asio::detached);
    }

    void cancel() override {
        if (finished_) {
            return;
        }
        cancelled_ = true;
        finish(error(errc::closed, "multiRead cancelled"));
        stop();
    }

private:
    struct batch {
        std::int32_t xid = 0;
        std::vector<std::size_t> index;  // positions in paths_
    };

    asio::awaitable<void> run() {
        auto self = shared_from_this();
        auto r = co_await read_all();
        if (!r) {
            finish(r.err());
        } else {
            finish(std::move(results_));
            if (session_open_) {
                co_await close_session();
            }
        }
        stop();
    }

    asio::awaitable<result<void>> read_all() {
        results_.reserve(paths_.size());
        std::vector<batch> batches = plan();
        if (batches.empty()) {
            co_return result<void>();
        }
        arm();
        boost::system::error_code ec;
        auto address = asio::ip::make_address(cfg_.host, ec);
        if (ec) {
            co_return error(errc::bad_arguments, "ZooKeeper server address " + cfg_.host);
        }
        tcp::endpoint ep(address, cfg_.port);
        co_await socket_.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return wire_error(ec);
        }
        socket_.set_option(tcp::no_delay(true), ec);
        const bytes hello = encode_connect(cfg_.session_timeout);
        auto sent = co_await send(hello);
        if (!sent) {
            co_return sent;
        }
        auto answer = co_await read_frame();
        if (!answer) {
            co_return answer.err();
        }
        auto negotiated = decode_connect_reply(*answer);
        if (!negotiated) {
            co_return negotiated.err();
        }
        session_open_ = true;
        const bytes sync = encode_sync(next_xid_, full_path(cfg_.chroot, "/"));
        auto synced = co_await call(sync);
        if (!synced) {
            co_return synced.err();
        }
        auto piped = co_await pipeline(batches);
        co_return piped;
    }

    // Groups the valid paths into requests; an invalid path gets its own error at once.
    std::vector<batch> plan() {
        std::vector<batch> out;
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < paths_.size(); ++i) {
            if (auto v = validate_path(paths_[i]); v.has_error()) {
                results_.emplace_back(error(v.code(), paths_[i]));
                continue;
            }
            results_.emplace_back(error(errc::system_error, "not read"));
            std::size_t len = cfg_.chroot.size() + paths_[i].size();
            if (out.empty() || out.back().index.size() >= cfg_.ops_per_request ||
                bytes + len > request_path_bytes_max) {
                out.push_back(batch{0, {}});
                bytes = 0;
            }
            out.back().index.push_back(i);
            bytes += len;
        }
        return out;
    }

    asio::awaitable<result<void>> pipeline(std::vector<batch>& batches) {
        std::deque<const batch*> outstanding;
        std::size_t next = 0;
        std::size_t answered = 0;
        while (answered < batches.size()) {
            while (next < batches.size() && outstanding.size() < cfg_.window) {
                batch& b = batches[next++];
                b.xid = next_xid_++;
                std::vector<std::string> full;
                full.reserve(b.index.size());
                for (std::size_t i : b.index) {
                    full.push_back(full_path(cfg_.chroot, paths_[i]));
                }
                const bytes request = encode_multi_read(b.xid, full);
                auto sent = co_await send(request);
                if (!sent) {
                    co_return sent;
                }
                outstanding.push_back(&b);
            }
            const batch& b = *outstanding.front();
            auto reply = co_await read_reply(b.xid);
            if (!reply) {
                co_return reply.err();
            }
            auto items = decode_multi_read(reply->body(), b.index.size());
            if (!items) {
                co_return items.err();
            }
            for (std::size_t k = 0; k < b.index.size(); ++k) {
                std::size_t i = b.index[k];
                auto& item = (*items)[k];
                if (item.has_error()) {
                    results_[i] = error(item.err().code, paths_[i]);
                } else {
                    results_[i] = std::move(item);
                }
            }
            outstanding.pop_front();
            ++answered;
        }
        co_return result<void>();
    }

    // Sends `request` and waits for its reply, which must carry no error.
    asio::awaitable<result<void>> call(const bytes& request) {
        std::int32_t xid = next_xid_++;
        auto sent = co_await send(request);
        if (!sent) {
            co_return sent;
        }
        auto reply = co_await read_reply(xid);
        if (!reply) {
            co_return reply.err();
        }
        co_return result<void>();
    }

    // A reply frame and where its body starts (after the header).
    struct reply_frame {
        bytes frame;
        std::size_t body_at = 0;
        bytes_view body() const { return bytes_view(frame).subspan(body_at); }
    };

    // The next reply, which must be for `xid` and carry no error. The server's own messages
    // (watch notifications, pings) are skipped.
    asio::awaitable<result<reply_frame>> read_reply(std::int32_t xid) {
        for (;;) {
            auto frame = co_await read_frame();
            if (!frame) {
                co_return frame.err();
            }
            bytes_view rest;
            auto header = decode_reply_header(*frame, rest);
            if (!header) {
                co_return header.err();
            }
            if (header->xid == xid_notification || header->xid == xid_ping) {
                continue;
            }
            if (header->xid != xid) {
                co_return malformed("reply xid " + std::to_string(header->xid) + ", expected " +
                                    std::to_string(xid));
            }
            if (header->err != 0) {
                co_return request_error(header->err);
            }
            std::size_t body_at = frame->size() - rest.size();
            co_return reply_frame{std::move(*frame), body_at};
        }
    }

    // Ends the session at once (instead of leaving it to time out on the server).
    asio::awaitable<void> close_session() {
        const bytes bye = encode_close(next_xid_);
        auto closed = co_await call(bye);
        if (!closed) {
            GREGOR_LOG(coord_log, debug, "multiRead session close: {}", closed.err().to_string());
        }
    }

    asio::awaitable<result<void>> send(const bytes& frame) {
        boost::system::error_code ec;
        co_await asio::async_write(socket_, asio::buffer(frame),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return wire_error(ec);
        }
        co_return result<void>();
    }

    asio::awaitable<result<bytes>> read_frame() {
        boost::system::error_code ec;
        std::array<unsigned char, 4> prefix{};
        co_await asio::async_read(socket_, asio::buffer(prefix),
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return wire_error(ec);
        }
        std::uint32_t n = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                          (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
        if (n > cfg_.reply_bytes_max) {
            co_return malformed("frame of " + std::to_string(n) + " bytes");
        }
        bytes body(n);
        co_await asio::async_read(socket_, asio::buffer(body),
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return wire_error(ec);
        }
        arm();  // progress: the watchdog starts over
        co_return body;
    }

    error wire_error(const boost::system::error_code& ec) const {
        if (cancelled_) {
            return error(errc::closed, "multiRead cancelled");
        }
        if (timed_out_) {
            return error(errc::operation_timeout, "multiRead: no progress from ZooKeeper");
        }
        return error(errc::connection_loss, "multiRead: " + ec.message());
    }

    static error request_error(std::int32_t err) {
        if (err == unimplemented) {
            return error(errc::unsupported, "ZooKeeper server has no multiRead");
        }
        return error(from_zk(err), "multiRead request failed with " + std::to_string(err));
    }

    void arm() {
        watchdog_.expires_after(cfg_.session_timeout);
        watchdog_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!ec && self) {
                self->timed_out_ = true;
                boost::system::error_code ignored;
                self->socket_.close(ignored);
            }
        });
    }

    void stop() {
        watchdog_.cancel();
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    void finish(result<std::vector<result<node_data>>> r) {
        if (finished_) {
            return;
        }
        finished_ = true;
        asio::post(ioc_,
                   [done = std::move(done_), r = std::move(r)]() mutable { done(std::move(r)); });
    }

    asio::io_context& ioc_;
    multi_read_config cfg_;
    std::vector<std::string> paths_;
    multi_read_fn done_;
    tcp::socket socket_;
    asio::steady_timer watchdog_;
    std::vector<result<node_data>> results_;
    std::int32_t next_xid_ = 1;
    bool finished_ = false;
    bool cancelled_ = false;
    bool timed_out_ = false;
    bool session_open_ = false;
};

}  // namespace

std::shared_ptr<multi_read_handle> start_multi_read(boost::asio::io_context& ioc,
                                                    multi_read_config cfg,
                                                    std::vector<std::string> paths,
                                                    multi_read_fn done) {
    GREGOR_ASSERT(cfg.ops_per_request > 0 && cfg.window > 0, "empty multiRead batches");
    auto r = std::make_shared<reader>(ioc, std::move(cfg), std::move(paths), std::move(done));
    r->start();
    return r;
}

result<std::pair<std::string, std::uint16_t>> parse_server(std::string_view server) {
    auto colon = server.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return error(errc::bad_arguments, "ZooKeeper server '" + std::string(server) + "'");
    }
    std::string_view host = server.substr(0, colon);
    std::string_view port_text = server.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::uint16_t port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        host.empty()) {
        return error(errc::bad_arguments, "ZooKeeper server '" + std::string(server) + "'");
    }
    return std::pair(std::string(host), port);
}

bytes encode_connect(std::chrono::milliseconds session_timeout) {
    return framed([&](protocol::writer& w) {
        w.write_int32(0);  // protocol version
        w.write_int64(0);  // last zxid seen: a new session
        w.write_int32(static_cast<std::int32_t>(session_timeout.count()));
        w.write_int64(0);  // session id: a new session
        write_text(w, std::string(password_bytes, '\0'));
        w.write_bool(false);  // read-only not allowed
    });
}

result<std::chrono::milliseconds> decode_connect_reply(bytes_view body) {
    protocol::reader r(body);
    (void)r.read_int32();  // protocol version
    std::int32_t timeout = r.read_int32();
    std::int64_t session = r.read_int64();
    auto password = r.read_records(false, true);
    if (!r.ok() || (password && password->data().size() > password_bytes)) {
        return malformed("connect reply of " + std::to_string(body.size()) + " bytes");
    }
    if (timeout <= 0 || session == 0) {
        return error(errc::connection_loss, "ZooKeeper refused the multiRead session");
    }
    return std::chrono::milliseconds(timeout);
}

bytes encode_sync(std::int32_t xid, std::string_view path) {
    return framed([&](protocol::writer& w) {
        w.write_int32(xid);
        w.write_int32(op_sync);
        write_text(w, path);
    });
}

bytes encode_close(std::int32_t xid) {
    return framed([&](protocol::writer& w) {
        w.write_int32(xid);
        w.write_int32(op_close_session);
    });
}

bytes encode_multi_read(std::int32_t xid, std::span<const std::string> paths) {
    return framed([&](protocol::writer& w) {
        w.write_int32(xid);
        w.write_int32(op_multi_read);
        for (const auto& p : paths) {
            w.write_int32(op_get_data);  // each op: a header (type, done, err), then GetDataRequest
            w.write_bool(false);
            w.write_int32(-1);
            write_text(w, p);
            w.write_bool(false);  // no watch
        }
        w.write_int32(-1);  // the closing header
        w.write_bool(true);
        w.write_int32(-1);
    });
}

result<reply_header> decode_reply_header(bytes_view body, bytes_view& rest) {
    protocol::reader r(body);
    reply_header h;
    h.xid = r.read_int32();
    h.zxid = r.read_int64();
    h.err = r.read_int32();
    if (!r.ok()) {
        return malformed("reply header of " + std::to_string(body.size()) + " bytes");
    }
    rest = r.rest();
    return h;
}

result<std::vector<result<node_data>>> decode_multi_read(bytes_view rest, std::size_t count) {
    protocol::reader r(rest);
    std::vector<result<node_data>> out;
    out.reserve(count);
    for (;;) {
        std::int32_t type = r.read_int32();
        bool done = r.read_bool();
        std::int32_t err = r.read_int32();
        if (!r.ok()) {
            return malformed("truncated after " + std::to_string(out.size()) + " results");
        }
        if (done) {
            break;
        }
        if (out.size() == count) {
            return malformed("more than " + std::to_string(count) + " results");
        }
        if (type == op_get_data) {
            auto data = r.read_records(false, true);  // a view; null is an empty znode
            node_data n;
            if (data) {
                if (data->data().size() > limits::znode_bytes_max) {
                    return malformed("a znode of " + std::to_string(data->data().size()) +
                                     " bytes");
                }
                n.data.assign(data->data().begin(), data->data().end());
            }
            n.stat = read_stat(r);
            out.emplace_back(std::move(n));
        } else if (type == op_error) {
            std::int32_t code = r.read_int32();
            if (code == 0) {
                return malformed("an error result without an error");
            }
            out.emplace_back(error(from_zk(code)));
        } else {
            return malformed("result of type " + std::to_string(type) + " (err " +
                             std::to_string(err) + ")");
        }
        if (!r.ok()) {
            return malformed("truncated result " + std::to_string(out.size()));
        }
    }
    if (out.size() != count) {
        return malformed(std::to_string(out.size()) + " results for " + std::to_string(count) +
                         " reads");
    }
    if (r.remaining() != 0) {
        return malformed(std::to_string(r.remaining()) + " bytes after the results");
    }
    return out;
}

}  // namespace gregor::coord::detail

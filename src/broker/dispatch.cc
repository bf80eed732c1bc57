#include "broker/dispatch.h"

#include "broker/handlers/handlers.h"
#include "broker/logger.h"
#include "broker/observability.h"
#include "model/kafka_error.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

#include <algorithm>
#include <array>
#include <chrono>

namespace gregor::broker {
namespace {

using namespace std::chrono_literals;
using process_fn = asio::awaitable<net::reply> (*)(services&, net::request&,
                                                   const protocol::request_header&,
                                                   protocol::reader&);

struct table_entry {
    std::int16_t key;
    std::int16_t version_min;
    std::int16_t version_max;
    process_fn process;
};

// The response without copying: owned header bytes and in-memory record sets are referenced
// from the shared wire buffer; record sets that lie in files go out with sendfile(2).
net::response to_response(protocol::wire_buffer&& wire, const std::vector<file_records>& files) {
    auto buf = std::make_shared<const protocol::wire_buffer>(std::move(wire));
    net::response out;
    buf->for_each_piece([&](bytes_view piece) {
        auto f = std::find_if(files.begin(), files.end(), [&](const file_records& fr) {
            return fr.data == piece.data() && fr.size == piece.size();
        });
        if (f != files.end()) {
            out.append_file(f->fd, f->offset, f->size, f->owner);
        } else {
            out.append(piece, buf);
        }
    });
    return out;
}

template <class Message>
net::reply encode_reply(const protocol::request_header& h, const Message& m,
                        std::int16_t body_version, const std::vector<file_records>& files = {}) {
    protocol::writer w;
    protocol::encode_response_header(w, protocol::response_header{h.correlation_id, {}},
                                     protocol::response_header_version(h.api_key, h.api_version));
    m.encode(w, body_version);
    if (!w.ok()) {
        GREGOR_LOG_RATE_LIMITED(broker_log, err, 1s, "cannot encode the response to api {} v{}: {}",
                                h.api_key, h.api_version, w.error().to_string());
        return net::reply::close();
    }
    return net::reply::send(to_response(std::move(w).finish(), files));
}

template <class Api>
asio::awaitable<net::reply> process(services& s, net::request& req,
                                    const protocol::request_header& h, protocol::reader& r) {
    auto decoded = Api::request_type::decode(r, h.api_version);
    if (!decoded) {
        GREGOR_LOG_RATE_LIMITED(
            broker_log, warn, 1s, "malformed {} v{} request from {}: {}; closing", Api::name,
            h.api_version, req.connection().peer.address().to_string(), decoded.err().to_string());
        co_return net::reply::close();
    }
    request_context ctx{req, h};
    const auto started = std::chrono::steady_clock::now();
    std::optional<typename Api::response_type> response =
        co_await handle(s, ctx, std::move(*decoded));
    if (s.metrics != nullptr) {
        const auto done = std::chrono::steady_clock::now();
        std::chrono::duration<double, std::milli> took = done - started;
        std::int16_t key = Api::key;
        std::string_view name = Api::name;
        if constexpr (Api::key == protocol::fetch_api::key) {
            key = ctx.follower_fetch ? metrics::request_metrics::fetch_follower_key : Api::key;
            name = ctx.follower_fetch ? "FetchFollower" : "FetchConsumer";
        }
        s.metrics->requests().record(key, name, h.api_version, took.count(), done);
    }
    if (ctx.close_connection) {
        co_return net::reply::close();
    }
    if (!response) {
        co_return net::reply::none();
    }
    co_return encode_reply(h, *response, h.api_version, ctx.file_slices);
}

template <class... Apis>
constexpr auto make_table(api_list<Apis...>) {
    return std::array<table_entry, sizeof...(Apis)>{
        table_entry{Apis::key, Apis::version_min, served_version_max<Apis>, &process<Apis>}...};
}

constexpr auto table = make_table(handled_apis{});

const table_entry* find_entry(std::int16_t key) {
    auto it = std::find_if(table.begin(), table.end(),
                           [&](const table_entry& e) { return e.key == key; });
    return it == table.end() ? nullptr : &*it;
}

// KIP-511: a client newer than the broker learns the supported versions from a v0 body.
net::reply unsupported_api_versions(const protocol::request_header& h) {
    protocol::api_versions_response out;
    out.error_code = static_cast<std::int16_t>(model::kafka_error::unsupported_version);
    out.api_keys = advertised_apis();
    return encode_reply(h, out, 0);
}

}  // namespace

const std::vector<protocol::api_versions_response::api_version>& advertised_apis() {
    static const auto apis = [] {
        std::vector<protocol::api_versions_response::api_version> out;
        for (const table_entry& e : table) {
            out.push_back({e.key, e.version_min, e.version_max, {}});
        }
        std::sort(out.begin(), out.end(),
                  [](const auto& a, const auto& b) { return a.api_key < b.api_key; });
        return out;
    }();
    return apis;
}

asio::awaitable<net::reply> dispatch(services& s, net::request req) {
    protocol::reader r(req.message());
    auto header = protocol::decode_request_header(r);
    if (!header) {
        GREGOR_LOG_RATE_LIMITED(broker_log, warn, 1s, "malformed request header from {}: {}",
                                req.connection().peer.address().to_string(),
                                header.err().to_string());
        co_return net::reply::close();
    }
    const protocol::request_header& h = *header;
    const table_entry* e = find_entry(h.api_key);
    if (e == nullptr || h.api_version < e->version_min || h.api_version > e->version_max) {
        if (h.api_key == protocol::api_versions_api::key) {
            co_return unsupported_api_versions(h);
        }
        GREGOR_LOG_RATE_LIMITED(broker_log, warn, 1s,
                                "unsupported api key {} version {} from {}; closing", h.api_key,
                                h.api_version, req.connection().peer.address().to_string());
        co_return net::reply::close();
    }
    co_return co_await e->process(s, req, h, r);
}

asio::awaitable<void> wait_for_change(services& s, request_context& ctx,
                                      const std::chrono::steady_clock::time_point& deadline) {
    asio::steady_timer timer(s.ioc, deadline);
    std::uint64_t waiter = s.replicas.wait_for_change([&timer] { timer.cancel(); });
    ctx.request.cancel_state().on_cancel([&timer] { timer.cancel(); });
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    s.replicas.cancel_wait(waiter);
    ctx.request.cancel_state().on_cancel(nullptr);
}

}  // namespace gregor::broker

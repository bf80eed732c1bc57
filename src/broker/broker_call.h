// Encoding and decoding of the requests a broker itself sends to other brokers (follower
// fetches, AlterPartition, ControlledShutdown) over a net::client, which takes and returns
// whole messages without the size prefix.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "net/asio.h"
#include "broker/errc.h"
#include "broker/metadata_cache.h"
#include "net/client.h"
#include "protocol/frame.h"
#include "protocol/headers.h"
#include "protocol/reader.h"

#include <string>

namespace gregor::broker {

namespace asio = boost::asio;

// The message (no size prefix) of `req` as `Api` version `version`.
template <class Api>
result<bytes> encode_call(const std::string& client_id, std::int16_t version,
                          const typename Api::request_type& req) {
    auto frame = protocol::encode_request_frame<Api>(0, client_id, version, req);
    if (!frame) {
        return frame.err();
    }
    bytes flat = frame->flatten();
    return bytes(flat.begin() + 4, flat.end());
}

// The response body of a reply message of `Api` version `version`.
template <class Api>
result<typename Api::response_type> decode_reply(const bytes& reply, std::int16_t version) {
    protocol::reader rd(reply);
    auto header =
        protocol::decode_response_header(rd, protocol::response_header_version(Api::key, version));
    if (!header) {
        return header.err();
    }
    return protocol::decode_exact<typename Api::response_type>(rd, version);
}

// Sends one request on `client` and decodes its answer. Not for answers holding records
// (Fetch): their views point into the reply bytes, which this call frees. The request is a named argument
// (g++ 12: no temporaries in a full-expression containing co_await).
template <class Api>
asio::awaitable<result<typename Api::response_type>> call(net::client& client,
                                                          const std::string& client_id,
                                                          std::int16_t version,
                                                          const typename Api::request_type& req) {
    auto message = encode_call<Api>(client_id, version, req);
    if (!message) {
        co_return message.err();
    }
    auto reply = co_await client.request(std::move(*message));
    if (!reply) {
        co_return reply.err();
    }
    co_return decode_reply<Api>(*reply, version);
}

// One request to the controller the metadata cache names, on its `listener` endpoint, over a
// connection opened for it (the callers are rare: controlled shutdown, ISR changes).
template <class Api>
asio::awaitable<result<typename Api::response_type>> call_controller(
    asio::io_context& ioc, const metadata_cache& cache, const std::string& listener,
    const std::chrono::milliseconds& timeout, const std::string& client_id,
    std::int16_t version, const typename Api::request_type& req) {
    const cached_broker* c = cache.broker(cache.controller());
    const cached_endpoint* e = c == nullptr ? nullptr : c->endpoint_for(listener);
    if (e == nullptr) {
        co_return error(broker::errc::config_bad_value, "no known controller to ask");
    }
    net::client_config cc;
    cc.host = e->host;
    cc.port = static_cast<std::uint16_t>(e->port);
    cc.request_timeout = timeout;
    net::client client(ioc, cc);
    auto out = co_await call<Api>(client, client_id, version, req);
    client.close();
    co_return out;
}

}  // namespace gregor::broker

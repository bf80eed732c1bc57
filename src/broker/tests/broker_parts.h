// The parts of one broker that the dispatch tests drive without sockets: an io_context,
// logs on the memory file system, the metadata cache and a replica manager that reads its
// replication settings from `config` (set it before the first LeaderAndIsr), with the log
// configs of `log_configs`. Test fixtures
// derive from it and add the services they test.
#pragma once

#include "broker/config.h"
#include "broker/dispatch.h"
#include "broker/metadata_cache.h"
#include "broker/replica_manager.h"
#include "storage/log_manager.h"
#include "storage/tests/test_batches.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>

namespace gregor::broker::test {

struct broker_parts {
    boost::asio::io_context ioc{1};
    storage::test::memory_env env;
    // Logs' configs by topic (defaults for the rest); logs.reload_configs() applies changes.
    std::map<std::string, storage::log_config> log_configs;
    storage::log_manager logs{env.ctx(), {"/data"}, [this](const std::string& topic) {
                                  auto it = log_configs.find(topic);
                                  return it == log_configs.end() ? storage::log_config{}
                                                                 : it->second;
                              }};
    broker_config config;
    metadata_cache cache;
    replica_manager rm{model::node_id(1), logs, [this](const std::string&) {
                           return replication::replication_config{config.min_insync_replicas,
                                                                  config.replica_lag_time_max};
                       }};
};

// `frame` as the network layer hands it to dispatch, from `peer`.
inline net::request raw_request(bytes frame, net::tcp::endpoint peer = {}) {
    auto conn = std::make_shared<net::connection_info>();
    conn->listener = "PLAINTEXT";
    conn->peer = peer;
    auto fixed = net::peek_request_header(frame);
    return net::request(conn, fixed ? *fixed : net::request_header{}, std::move(frame), {},
                        std::make_shared<net::cancellation>());
}

// `body` framed with a request header, as a client named `client_id` sends it.
template <class Api>
net::request request_of(const typename Api::request_type& body, std::int16_t version,
                        std::int32_t correlation, std::string client_id = "test",
                        net::tcp::endpoint peer = {}) {
    protocol::request_header h{Api::key, version, correlation, std::move(client_id), {}};
    protocol::writer w;
    protocol::encode_request_header(w, h);
    body.encode(w, version);
    return raw_request(std::move(w).finish().flatten(), peer);
}

// Runs `ioc` until `done` holds, at most 5 s (services with real timers need the loop).
inline bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        ioc.restart();
        ioc.run_one_for(std::chrono::milliseconds(10));
    }
    return done();
}

// Dispatches `req` and runs the loop until it is answered; nullopt if it never is.
inline std::optional<net::reply> dispatch_until_answered(boost::asio::io_context& ioc,
                                                         services& svc, net::request req) {
    std::optional<net::reply> out;
    boost::asio::co_spawn(
        ioc,
        [&svc, r = std::move(req), &out]() mutable -> boost::asio::awaitable<void> {
            out = co_await dispatch(svc, std::move(r));
        },
        boost::asio::detached);
    run_until(ioc, [&] { return out.has_value(); });
    return out;
}

}  // namespace gregor::broker::test

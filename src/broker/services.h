// What every request handler may use: the broker's state and identity (services), and the
// request being answered (request_context). The app owns everything referenced here and
// outlives every handler. Loop thread only, like all broker state.
#pragma once

#include "broker/config.h"
#include "broker/metadata_cache.h"
#include "broker/replica_manager.h"
#include "net/request.h"
#include "protocol/headers.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gregor::coord {
class client;
}
namespace gregor::controller {
class controller;
}
namespace gregor::group {
class group_service;
}
namespace gregor::fetch {
class session_cache;
}

namespace gregor::broker {

class replica_fetchers;
class topic_configs;
class producer_id_service;
class observability;

namespace asio = boost::asio;

struct services {
    const broker_config& config;
    asio::io_context& ioc;
    metadata_cache& cache;
    replica_manager& replicas;
    // Writes topic assignments for auto-creation; nullptr when there is no ZooKeeper.
    coord::client* zk = nullptr;
    // This broker's controller (active or not); nullptr when there is no ZooKeeper.
    controller::controller* controller = nullptr;
    // Follower fetchers and topic overrides; nullptr in tests that need neither.
    replica_fetchers* fetchers = nullptr;
    topic_configs* topics = nullptr;
    std::string cluster_id;
    model::broker_epoch broker_epoch = model::no_broker_epoch;
    std::function<model::timestamp_ms()> now;
    // The group coordinator; nullptr when there is no ZooKeeper (groups answer
    // COORDINATOR_NOT_AVAILABLE then).
    group::group_service* groups = nullptr;
    // Hands out producer ids (InitProducerId); nullptr when there is no ZooKeeper, and until
    // the broker is registered (InitProducerId answers COORDINATOR_NOT_AVAILABLE then).
    producer_id_service* producer_ids = nullptr;
    // Incremental fetch sessions (KIP-227); nullptr serves every Fetch without a session.
    fetch::session_cache* fetch_sessions = nullptr;
    // Metrics fed by the request path; nullptr in tests that do not look at them.
    observability* metrics = nullptr;
};

// A record set of the response that lies in a file: dispatch sends the bytes at `data`
// (a read-only mapping of the same file region) with sendfile(2) instead of copying them.
struct file_records {
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    int fd = -1;
    std::int64_t offset = 0;
    std::shared_ptr<const void> owner;  // keeps the file open and the mapping alive
};

struct request_context {
    net::request& request;
    const protocol::request_header& header;
    std::vector<file_records> file_slices{};
    // Set by a handler that answers nothing but wants the connection closed (an acks=0
    // produce that failed: closing is the only way to tell the client, as in Kafka).
    bool close_connection = false;
    // Set by the Fetch handler for a follower's fetch: request metrics name it FetchFollower
    // (a client's is FetchConsumer), as Kafka does.
    bool follower_fetch = false;

    std::int16_t version() const { return header.api_version; }
    const std::string& listener() const { return request.connection().listener; }
    // The client's address (JoinGroup records it as the member's client host).
    const net::tcp::endpoint& peer() const { return request.connection().peer; }
};

// Sleeps until the replica manager reports a change (an append, a high watermark move, a
// leadership change), the client goes away, or `deadline`; the caller re-checks what it
// waits for. `deadline` is a named argument (g++ 12 and co_await temporaries).
asio::awaitable<void> wait_for_change(services& s, request_context& ctx,
                                      const std::chrono::steady_clock::time_point& deadline);

// A handler's answer: nullopt means "send nothing" (acks=0 produce).
template <class Response>
using handler_result = asio::awaitable<std::optional<Response>>;

}  // namespace gregor::broker

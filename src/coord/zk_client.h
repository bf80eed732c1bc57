// zk_client: coord::client on a real ZooKeeper ensemble (the single-threaded C client).
//
// The ZooKeeper C library (zookeeper_st) is driven from the owner's Asio loop: after every
// call into the library the client asks zookeeper_interest() which socket events and which
// timeout it needs, waits for them on the loop, and hands them to zookeeper_process(). So
// there is no library thread at all; the C callbacks run inside zookeeper_process() on the
// loop and only copy their results and post the user's callback, which therefore never runs
// inside the library and may call the client again (or destroy it).
//
// Pipelining: up to `in_flight_max` operations are outstanding; up to `queued_max` more
// wait in order behind them; beyond that a call fails at once with errc::queue_full. Calls
// made while no session is connected fail at once with errc::connection_loss, and queued
// calls fail so when the connection drops (as with the fake). After a session expires the
// client opens a new session by itself (retrying until it succeeds) and announces it with a
// `connected` event carrying the new session id.
//
// The C library's log lines are routed into coord_log (warnings and errors only, rate
// limited). Owned by one loop thread; every method must be called on it. Destroying the
// client closes the session; callbacks still pending are dropped.
#pragma once

#include "coord/client.h"
#include "coord/limits.h"

#include <boost/asio/io_context.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace gregor::coord {

struct zk_config {
    // "host:port[,host:port...][/chroot]", as in Kafka's zookeeper.connect.
    std::string connect;
    // Kafka's zookeeper.session.timeout.ms default.
    std::chrono::milliseconds session_timeout{18000};
    // How long start() waits for the first session (Kafka's zookeeper.connection.timeout.ms,
    // which defaults to the session timeout).
    std::chrono::milliseconds connection_timeout{18000};
    std::size_t in_flight_max = limits::in_flight_ops_max;
    std::size_t queued_max = limits::queued_ops_max;
    // Each completed request's latency, from its hand-off to the library to its answer
    // (Kafka's ZooKeeperRequestLatencyMs). Called on the loop; optional.
    std::function<void(std::chrono::steady_clock::duration)> on_request_done;
};

// What identifies a session to the server; lets tests force an expiry from outside.
struct zk_session_credentials {
    session_id id;
    std::array<char, 16> password{};
};

class zk_client final : public client {
public:
    zk_client(boost::asio::io_context& ioc, zk_config config);
    zk_client(const zk_client&) = delete;
    zk_client& operator=(const zk_client&) = delete;
    ~zk_client() override;

    // Opens the first session. `done` gets ok once it is connected (after the listeners saw
    // `connected`), or errc::connect_timeout if no server answered within the connection
    // timeout (the client is then closed). REQUIRES: called once.
    void start(callback<void> done);

    void create(std::string path, std::string data, create_mode mode,
                callback<std::string> done) override;
    void get(std::string path, watch_fn watch, callback<node_data> done) override;
    void set(std::string path, std::string data, model::zk_version expected,
             callback<znode_stat> done) override;
    void remove(std::string path, model::zk_version expected, callback<void> done) override;
    void exists(std::string path, watch_fn watch,
                callback<std::optional<znode_stat>> done) override;
    void get_children(std::string path, watch_fn watch, callback<children> done) override;
    void read_many(std::vector<std::string> paths,
                   callback<std::vector<result<node_data>>> done) override;
    void multi(std::vector<op> ops, multi_fn done) override;

    listener_id add_session_listener(session_fn fn) override;
    void remove_session_listener(listener_id id) override;
    session_id session() const override;
    bool is_connected() const override;
    void close() override;

    // The current session's id and password, or nullopt when not connected.
    std::optional<zk_session_credentials> credentials() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace gregor::coord

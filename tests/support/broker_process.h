// Helpers for integration tests that run brokers: a real `gregor broker` child process, a
// blocking Kafka-framed socket for sending requests, and a small synchronous ZooKeeper
// reader.
//
// broker_process writes a server.properties in a fresh temp directory and runs the gregor
// binary (GREGOR_BINARY, set by this library's CMake) with it; the child gets
// PR_SET_PDEATHSIG(SIGKILL) so it never outlives the test, and the destructor stops it
// (SIGCONT, SIGTERM, then SIGKILL) and removes the directory. A broker that was killed (or
// exited) can be started again on the same port, configuration and data directory, as an
// operator restarts a crashed broker. Everything here is used from one thread per object.
#pragma once

#include "coord/zk_client.h"
#include "protocol/headers.h"
#include "protocol/reader.h"
#include "protocol/writer.h"
#include "support/process.h"

#include <boost/asio.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gregor::test {

class broker_process {
public:
    // Writes server.properties with `settings` (broker.id, listeners, log.dirs and
    // zookeeper.connect get defaults unless given) and starts `gregor broker` with `extra`.
    // "{dir}" in log.dirs stands for this broker's own temporary directory (so one setting
    // gives every broker of a cluster several log dirs of its own).
    broker_process(std::map<std::string, std::string> settings,
                   std::vector<std::string> extra = {});
    ~broker_process();
    broker_process(const broker_process&) = delete;
    broker_process& operator=(const broker_process&) = delete;

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    // Whether the child has been started and not yet seen to exit.
    bool running() const { return pid_ > 0; }
    // The first of the log.dirs (a temp directory unless the settings named others).
    const std::filesystem::path& data_dir() const { return data_dir_; }
    // Every one of the log.dirs, in the order configured.
    const std::vector<std::filesystem::path>& log_dirs() const { return log_dirs_; }
    // Sends `sig` to the child (SIGSTOP/SIGCONT pause and resume it).
    void signal(int sig) const;
    // kill -9, then waits for the child to exit.
    void kill_now();
    // Starts the broker again with the same configuration, port and data directory (its
    // output is appended to the same log). REQUIRES: the child has exited (wait_exit or
    // kill_now returned).
    void restart();
    // Waits for the child to exit; returns its exit code (128+signal if killed), or nullopt
    // if it is still running after `limit`.
    std::optional<int> wait_exit(std::chrono::milliseconds limit);
    // Waits until the broker accepts connections on its port.
    bool wait_listening(std::chrono::milliseconds limit) const;
    // The broker's output so far, over every start.
    std::string log() const;
    // The port of the HTTP listener (gregor.http.listener=127.0.0.1:0) as the broker logged
    // it (the last logged: a restarted broker listens on a new port); 0 until it has.
    std::uint16_t http_port() const;

private:
    void start();

    std::filesystem::path dir_;
    std::filesystem::path data_dir_;
    std::vector<std::filesystem::path> log_dirs_;
    std::vector<std::string> args_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

// Brokers 1..count on `zookeeper_connect`, each with its HTTP listener on a free port
// (gregor.http.listener=127.0.0.1:0; see http_port()), a 6 s session timeout, and
// auto-created topics of `partitions` partitions with replication factor `count`.
std::vector<std::unique_ptr<broker_process>> start_http_brokers(
    const std::string& zookeeper_connect, int count, int partitions);

// Waits until every broker's Metadata lists all of them. A topic auto-created before that
// gets the replication factor of the brokers the asked one knows (so a test that produces
// to a new topic at once, on a loaded machine, may get fewer replicas than it set).
bool wait_brokers_known(const std::vector<std::unique_ptr<broker_process>>& brokers,
                        std::chrono::milliseconds limit);

// A blocking connection that sends request frames and reads response frames. Connecting to
// a port nobody listens on, and a response that does not arrive within `io_timeout` (a
// paused broker), throw; the socket is then unusable.
class kafka_socket {
public:
    explicit kafka_socket(std::uint16_t port,
                          std::chrono::milliseconds io_timeout = std::chrono::seconds(30));

    // Sends `body` as api `key` version `version` and returns the response reader's bytes
    // (after the response header). REQUIRES: the broker answers.
    template <class Request>
    bytes call(std::int16_t key, std::int16_t version, const Request& body) {
        protocol::writer w;
        protocol::encode_request_header(
            w, protocol::request_header{key, version, ++correlation_, std::string("test"), {}});
        body.encode(w, version);
        return exchange(std::move(w).finish().flatten(),
                        protocol::response_header_version(key, version));
    }

private:
    bytes exchange(const bytes& frame, std::int16_t response_header_version);
    void read_exactly(mutable_bytes_view into);

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::socket socket_{ioc_};
    std::chrono::milliseconds io_timeout_;
    std::int32_t correlation_ = 0;
};

// A synchronous view of ZooKeeper for assertions (and admin writes).
class zk_reader {
public:
    explicit zk_reader(const std::string& connect);
    ~zk_reader();

    // The node's data and stat, or nullopt if it does not exist (or on error).
    std::optional<coord::node_data> get(const std::string& path);
    // Creates a persistent node holding `data` (its parent must exist), as an admin tool
    // writes /admin/... nodes. Returns "" or the error.
    std::string create(const std::string& path, const std::string& data);
    // Polls until `pred` holds or `limit` passes; returns whether it held.
    bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit);

private:
    // Drives the client until it has a connected session (a fresh one after an expiry).
    void await_session();

    boost::asio::io_context ioc_;
    std::unique_ptr<coord::zk_client> client_;
};

}  // namespace gregor::test

// A blocking, read-only view of a cluster's ZooKeeper: which brokers are registered, who
// is controller, the controller epoch and the cluster id. The launcher polls it until the
// cluster is ready; the admin commands use it for the controller epoch (which the Kafka
// protocol does not carry).
//
// zk_view owns a private io_context and a coord::zk_client and runs that loop only inside
// its calls, so it is blocking and single-threaded: use it from one thread.
#pragma once

#include "base/result.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gregor::coord {
class zk_client;
}

namespace gregor::cluster {

struct cluster_view {
    std::vector<std::int32_t> registered;          // children of /brokers/ids, sorted
    std::optional<std::int32_t> controller;        // from /controller
    std::optional<std::int32_t> controller_epoch;  // from /controller_epoch
    std::optional<std::string> cluster_id;         // from /cluster/id
};

// Returns true iff every id in `expected` is registered and a controller is elected.
bool cluster_ready(const cluster_view& v, std::span<const std::int32_t> expected);
// What the cluster still waits for ("brokers 2, 3 to register", "a controller to be
// elected"), or "" iff cluster_ready().
std::string readiness_gap(const cluster_view& v, std::span<const std::int32_t> expected);

class zk_view {
public:
    // Connects within `timeout`; errc::timed_out names the address.
    static result<std::unique_ptr<zk_view>> connect(const std::string& connect_string,
                                                    std::chrono::milliseconds timeout);
    ~zk_view();
    zk_view(const zk_view&) = delete;
    zk_view& operator=(const zk_view&) = delete;

    // Reads the four facts; a missing znode leaves its field empty.
    result<cluster_view> read();

private:
    zk_view();
    template <class T, class Start>
    result<T> await(Start start);

    boost::asio::io_context ioc_;
    std::unique_ptr<coord::zk_client> client_;
    std::chrono::milliseconds op_timeout_{10000};
};

}  // namespace gregor::cluster

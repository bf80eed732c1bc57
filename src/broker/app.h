// broker::app: the composition root of one broker process.
//
// Builds everything a broker is made of from its broker_config and runs it on ONE
// asio::io_context thread, which owns all broker state (no mutexes in domain code), plus
// storage's I/O worker thread for fsyncs and checkpoints:
//   storage (log_manager over log.dirs) -> net::server on the listeners -> dispatch of every
//   request to its handler -> ZooKeeper session (coord::zk_client) -> membership
//   (coord::broker_registration: /cluster/id, /brokers/ids/<id>, broker epoch = czxid,
//   re-registration after session expiry).
// SIGINT/SIGTERM stop it cleanly: listeners close, in-flight replies finish within a
// deadline, the ZooKeeper session is closed (so the ephemeral registration disappears at
// once), logs are closed with clean-shutdown markers. Construct and run on the main thread.
#pragma once

#include "base/result.h"
#include "broker/config.h"
#include "storage/log_config.h"

#include <memory>

namespace gregor::broker {

// What server.properties says of storage: the logs' defaults (log.*, log.cleanup.policy, the
// log.cleaner.* topic defaults) and the log cleaner's own settings. Errors are
// storage::errc::invalid_config naming the key and value.
struct storage_settings {
    storage::log_config log_defaults;
    storage::cleaner_config cleaner;
};
result<storage_settings> read_storage_settings(const broker_config& config);

// Process exit codes of `gregor broker`.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // start-up or runtime failure (ZooKeeper, disk, ports)
inline constexpr int exit_config = 2;   // configuration error

class app {
public:
    explicit app(broker_config config);
    ~app();
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    // Runs the broker until a signal stops it or a fatal error occurs. Returns the exit code
    // (exit_config at once for a bad storage setting, before anything is opened).
    int run();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace gregor::broker

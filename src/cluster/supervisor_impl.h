// The supervisor behind `gregor cluster up` (internal to the cluster module; see
// supervisor.h for the contract). Split over supervisor.cc (start, readiness, stop) and
// supervisor_loop.cc (signals, child exits, control requests). Main thread only.
#pragma once

#include "base/result.h"
#include "cluster/control.h"
#include "cluster/layout.h"
#include "cluster/options.h"
#include "cluster/state.h"
#include "cluster/zk_view.h"

#include <chrono>
#include <memory>
#include <string>

namespace gregor::cluster::detail {

// Writes `text` to stdout at once (the user watches the cluster start and stop).
void say(const std::string& text);

// What one wait on the signalfd saw.
struct signal_events {
    bool stop = false;      // SIGINT, SIGTERM or SIGHUP
    bool children = false;  // SIGCHLD
    bool control = false;   // SIGUSR1
};

// Blocks the supervisor's signals and reads them from a signalfd. Restores the mask on
// destruction.
class signal_source {
public:
    signal_source();
    ~signal_source();
    signal_source(const signal_source&) = delete;
    signal_source& operator=(const signal_source&) = delete;

    // Waits up to `limit` for signals and returns those that arrived.
    signal_events wait(std::chrono::milliseconds limit);

private:
    int fd_ = -1;
};

class supervisor {
public:
    explicit supervisor(up_options o);
    ~supervisor();
    supervisor(const supervisor&) = delete;
    supervisor& operator=(const supervisor&) = delete;

    int run();

private:
    // supervisor.cc
    result<void> prepare();
    result<void> take_directory();
    result<void> load_or_create_state();
    result<void> assign_new_ports();
    result<void> check_ports() const;
    result<void> start_all();
    result<void> wait_stale_registrations_gone();
    result<void> start_broker(broker_entry& b);
    result<cluster_view> wait_ready();
    result<void> check_children_while_starting();
    void stop_all();
    void save_state();

    // supervisor_loop.cc
    int supervise();
    // Returns false iff the cluster cannot go on (ZooKeeper died).
    bool reap_children();
    void serve_control_requests();
    // Answers requests that arrive before the cluster is ready (nothing to act on yet).
    void refuse_control_requests_while_starting();
    control_reply execute(const control_request& r);
    control_reply restart_broker(broker_entry& b);

    up_options options_;
    cluster_layout layout_;
    cluster_state state_;
    std::string gregor_binary_;
    int lock_fd_ = -1;
    bool resumed_ = false;  // true iff cluster.json existed
    signal_source signals_;
    signal_events pending_;
};

}  // namespace gregor::cluster::detail

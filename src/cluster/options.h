// Options of `gregor cluster up|down|kill|pause|resume|restart`, and their CLI11 wiring.
//
// The CLI module owns the `cluster` subcommand; add_*_options() declare the flags on the
// subcommands it creates, so the flags are defined (and unit-tested) here. Main thread only.
#pragma once

#include "cluster/control.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace gregor::cluster {

inline constexpr std::int32_t brokers_max = 16;
inline constexpr std::uint16_t default_base_port = 9092;

struct up_options {
    std::int32_t brokers = 3;
    bool brokers_given = false;  // set by finish_up_options(): --brokers was on the command line
    std::string dir = "./gregor-cluster";
    std::string zookeeper;  // empty: run a ZooKeeper in D/zookeeper
    // ZooKeeper servers to run: 1 (standalone) or an ensemble of 3, 5 or 7.
    std::int32_t zookeepers = 1;
    bool zookeepers_given = false;  // set by finish_up_options()
    // Brokers listen on base_port, base_port+1, ...; 0 picks free ports.
    std::int32_t base_port = default_base_port;
    std::string gregor;  // the gregor binary the brokers run; empty: this executable
    std::int32_t start_timeout_s = 120;
    // zookeeper.session.timeout.ms of every broker; 0: the demo's 6 s for a new cluster, the
    // stored one for a resumed cluster.
    std::int32_t session_timeout_ms = 0;
};

struct down_options {
    std::string dir = "./gregor-cluster";
    std::int32_t timeout_s = 120;
};

struct control_options {
    control_action action = control_action::kill;
    std::int32_t broker = 0;
    std::string dir = "./gregor-cluster";
    std::int32_t timeout_s = 90;
    // kill, pause, restart: skip the "can broker N stop now?" check (cli/cluster_command.cc).
    bool force = false;
};

void add_up_options(CLI::App& cmd, up_options& o);
// Call after parsing: records which defaults the user overrode.
void finish_up_options(const CLI::App& cmd, up_options& o);
void add_down_options(CLI::App& cmd, down_options& o);
void add_control_options(CLI::App& cmd, control_options& o);

}  // namespace gregor::cluster

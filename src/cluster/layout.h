// Where a local cluster keeps its files, and the configuration files it generates.
//
//   D/cluster.json                 state file (state.h)
//   D/cluster.lock                 flock held by the running supervisor
//   D/control/                     control requests and replies (control.h)
//   D/zookeeper/zoo.cfg, data/, zookeeper.log      a standalone ZooKeeper
//   D/zookeeper-<n>/zoo.cfg, data/myid, ...        member n of a local ensemble
//   D/broker-<id>/server.properties, data/, broker.log
//
// Pure functions; any thread.
#pragma once

#include "cluster/state.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace gregor::cluster {

// Short on purpose: a killed broker's registration disappears after this, so a failover
// demo shows the new leaders within seconds (Kafka's default is 18 s).
inline constexpr std::chrono::milliseconds demo_session_timeout{6000};

struct cluster_layout {
    std::filesystem::path dir;  // absolute

    std::filesystem::path lock_file() const { return dir / "cluster.lock"; }
    std::filesystem::path control_dir() const { return dir / "control"; }
    // Server `id` of an ensemble, or the standalone server (id 0).
    std::filesystem::path zookeeper_dir(std::int32_t id = 0) const;
    std::filesystem::path zookeeper_config(std::int32_t id = 0) const {
        return zookeeper_dir(id) / "zoo.cfg";
    }
    std::filesystem::path zookeeper_data(std::int32_t id = 0) const {
        return zookeeper_dir(id) / "data";
    }
    std::filesystem::path zookeeper_log(std::int32_t id = 0) const {
        return zookeeper_dir(id) / "zookeeper.log";
    }
    std::filesystem::path broker_dir(std::int32_t id) const;
    std::filesystem::path broker_config(std::int32_t id) const;
    std::filesystem::path broker_data(std::int32_t id) const;
    std::filesystem::path broker_log(std::int32_t id) const;
};

struct broker_settings {
    std::int32_t id = 0;
    std::uint16_t port = 0;
    std::uint16_t http_port = 0;  // gregor.http.listener on 127.0.0.1; 0: none
    std::filesystem::path data_dir;
    std::string zookeeper_connect;
    std::chrono::milliseconds session_timeout = demo_session_timeout;
    // Default replication for auto-created and internal topics: min(3, brokers).
    std::int32_t replication_factor = 1;
};

// The server.properties of one broker (Kafka's keys).
std::string server_properties(const broker_settings& b);

// The zoo.cfg of a ZooKeeper on 127.0.0.1:`port` keeping its data in `data_dir`: standalone
// when `ensemble` is empty, else one member of it (every member listed as server.<id>).
std::string zoo_cfg(const std::filesystem::path& data_dir, std::uint16_t port,
                    std::span<const zookeeper_entry> ensemble = {});
// "127.0.0.1:p1,127.0.0.1:p2,...": the connect string of the servers `up` runs.
std::string zookeeper_connect_string(std::span<const zookeeper_entry> servers);

}  // namespace gregor::cluster

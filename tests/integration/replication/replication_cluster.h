// replication_cluster: a real ZooKeeper and three real `gregor broker` processes tuned so
// that failures play out within a test: ZooKeeper sessions expire after 4 s, a follower
// that stops fetching leaves the ISR after 3 s, and followers long-poll for 100 ms.
//
// It creates topics through the controller with CreateTopics (as a user's admin client
// does), reads partition state from ZooKeeper (/brokers/topics/<t>/partitions/<p>/state,
// Kafka's layout), kills, pauses and restarts brokers (same port and data directory), and
// gathers the brokers' logs for failure messages. Test thread only.
#pragma once

#include "coord/znode_json.h"
#include "support/broker_process.h"
#include "support/zookeeper_server.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gregor::test {

class replication_cluster {
public:
    static constexpr int broker_count = 3;

    // Starts ZooKeeper and brokers 1..3, each with the settings above plus `extra` (which
    // wins), and waits until a controller exists and every broker answers.
    explicit replication_cluster(std::map<std::string, std::string> extra = {});

    std::string bootstrap() const;
    // The ZooKeeper connect string ("127.0.0.1:<port>").
    std::string zookeeper_connect() const { return zk_server_.connect_string(); }
    std::vector<std::uint16_t> ports() const;
    broker_process& broker(int id) { return *brokers_.at(id); }

    // Creates `topic` (1 partition, replication factor 3, `configs`) through the
    // controller and waits until every broker's Metadata shows it led by an ISR member
    // with all three replicas in sync. Returns "" or what went wrong.
    std::string create_topic(const std::string& topic,
                             const std::map<std::string, std::string>& configs);

    // Partition 0's state znode, or nullopt while it is absent or unreadable.
    std::optional<coord::partition_state> state(const std::string& topic);
    // Polls partition 0's state until `pred` holds or `limit` passes.
    bool wait_state(const std::string& topic,
                    const std::function<bool(const coord::partition_state&)>& pred,
                    std::chrono::milliseconds limit);
    // Waits until the ISR is exactly `isr` (any order).
    bool wait_isr(const std::string& topic, const std::set<int>& isr,
                  std::chrono::milliseconds limit);
    // Waits until partition 0 has a leader other than `old` that every broker in `live`
    // names in its Metadata; returns that leader's id, or -1.
    int wait_new_leader(const std::string& topic, int old, const std::set<int>& live,
                        std::chrono::milliseconds limit);
    // The leader the state znode names, or -1.
    int leader(const std::string& topic);

    // Waits until broker `id` (restarted) accepts connections and is registered.
    bool wait_registered(int id, std::chrono::milliseconds limit);

    // The ZooKeeper server (outage tests stop, freeze and restart it).
    zookeeper_server& zookeeper() { return zk_server_; }
    // The broker /controller names and /controller_epoch, or nullopt / -1 while unreadable.
    std::optional<int> controller();
    int controller_epoch();
    // The cluster's ZooKeeper, read-only (partition states of any partition, /controller).
    zk_reader& zk() { return *zk_; }

    // Every broker's log, headed by its id, for failure messages.
    std::string logs() const;
    // The lines of every broker's log that mention `needle` (e.g. "ISR", "truncat").
    std::string log_lines(const std::string& needle) const;
    // The partition's directory in broker `id`'s log.dirs.
    std::filesystem::path partition_dir(int id, const std::string& topic) const;

private:
    bool wait_ready(std::chrono::milliseconds limit);

    zookeeper_server zk_server_;
    std::map<int, std::unique_ptr<broker_process>> brokers_;
    std::unique_ptr<zk_reader> zk_;
};

}  // namespace gregor::test

// sim_cluster: N brokers' controllers on the in-memory ZooKeeper, for unit and seeded tests.
//
// Each simulated broker (sim_broker.h) has its own fake_client session, the real
// broker_registration, the real controller, and a broker model that applies
// LeaderAndIsr/UpdateMetadata/StopReplica with the same fencing rules a broker uses.
// Requests between controller and brokers travel through sim_network, which holds them until
// the test delivers them: in order, in random order, or drops them. Everything runs on one
// io_context drained by hand, so a run is a pure function of its seed.
#pragma once

#include "controller/tests/sim_broker.h"
#include "coord/fake_client.h"
#include "coord/fake_ensemble.h"

#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace gregor::controller::sim {

class sim_cluster {
public:
    // `tune` adjusts every broker's controller_config (the rebalance timer is off by default:
    // a simulated run does not depend on the wall clock; tests call check_leader_balance()).
    explicit sim_cluster(int brokers, std::uint64_t seed = 1,
                         std::function<void(controller_config&)> tune = {});
    ~sim_cluster();

    boost::asio::io_context ioc;
    coord::fake_ensemble ensemble;
    sim_network net;
    std::vector<std::unique_ptr<sim_node>> nodes;
    std::mt19937_64 rng;
    // Every activation seen (through the controllers' role hooks): epoch -> broker. A second
    // broker activating in an epoch already taken is recorded in `double_activation`.
    std::map<model::controller_epoch, model::node_id> activations;
    std::string double_activation;

    sim_node& node(int id) { return *nodes[static_cast<std::size_t>(id - 1)]; }
    // Runs every ready handler (ZooKeeper deliveries, controller events) until none is left.
    void settle();
    // settle(), then deliver controller requests in order, repeated until quiet.
    void run(bool shuffle = false);
    // The active controllers (normally one).
    std::vector<model::node_id> active_controllers() const;
    // The broker process dies: its session ends (ephemerals go), nothing it does counts.
    void kill(int id);
    // The broker process dies (kill -9) but its session lives on until expire_crashed().
    void crash(int id);
    void expire_crashed(int id);
    // The channels of broker `from` report `id`'s process gone (its controller hears it).
    void report_gone(int from, int id);
    // The broker starts again with a new session (a new broker epoch).
    void restart(int id);
    // Its ZooKeeper session expires (ephemerals go); the process lives on and reconnects.
    void expire(int id);
    // Broker `id`'s log dir holding `offline` fails: it refuses them from now on and writes
    // a log dir event notification, as a broker does.
    void fail_log_dir(int id, const std::set<model::topic_partition>& offline);
    // Creates a topic by writing /brokers/topics/<t> as an admin tool would.
    void create_topic_znode(const std::string& name, const coord::replica_map& assignment);
    // Reads a partition state znode straight from the ensemble.
    std::optional<coord::partition_state> zk_state(const std::string& topic, int p) const;

private:
    void start(sim_node& n);
    std::function<void(controller_config&)> tune_;
};

}  // namespace gregor::controller::sim

// sim_broker: one simulated broker around the real controller, on any coord::client.
//
// A sim_node is what a broker process holds for the controller's sake: a ZooKeeper session
// (the in-memory fake_client in sim_cluster, a real zk_client in bench/controller's
// ZooKeeper benchmark), the real broker_registration, the real controller, and a broker
// model that applies LeaderAndIsr/UpdateMetadata/StopReplica with the same fencing rules a
// broker uses (controller epoch, broker epoch, leader epoch) and answers with the real
// response encoding. Controller requests travel through sim_network, which holds them until
// the owner delivers them (in order, shuffled, or dropped). Loop thread only.
#pragma once

#include "controller/controller.h"
#include "coord/broker_registration.h"
#include "coord/client.h"

#include <boost/asio/io_context.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

namespace gregor::controller::sim {

// What a broker holds for one partition after applying the controller's requests.
struct broker_partition {
    model::node_id leader = model::no_node;
    model::leader_epoch leader_epoch = model::no_leader_epoch;
    std::vector<model::node_id> isr;
    bool deleted = false;
    // StopReplica without deletion, not older than the leader epoch held: no longer leads or
    // follows (a LeaderAndIsr with a newer epoch starts it again).
    bool stopped = false;
    std::vector<model::node_id> offline_replicas;  // from UpdateMetadata
};

struct broker_model {
    model::node_id id;
    model::broker_epoch epoch = model::no_broker_epoch;
    model::controller_epoch controller_epoch{0};
    model::node_id controller = model::no_node;
    std::map<model::topic_partition, broker_partition> partitions;  // from LeaderAndIsr
    std::map<model::topic_partition, broker_partition> metadata;    // from UpdateMetadata
    std::set<model::node_id> live_brokers;
    // Replicas in a failed log dir: LeaderAndIsr answers KAFKA_STORAGE_ERROR for them.
    std::set<model::topic_partition> offline;
    // The (controller epoch, controller id) of every request this broker applied, in order.
    std::vector<std::pair<model::controller_epoch, model::node_id>> applied;
};

struct sim_node {
    model::node_id id;
    std::unique_ptr<coord::client> zk;
    std::unique_ptr<coord::broker_registration> registration;
    std::unique_ptr<broker_channels> channels;
    std::unique_ptr<controller> ctl;
    broker_model model;
    bool alive = true;
    bool ctl_started = false;
};

class sim_network {
public:
    struct message {
        model::node_id from;
        model::node_id to;
        bytes request;
        broker_channels::completion done;
    };
    std::deque<message> in_flight;
    // Each broker's controller's listener for processes proven gone (watch_processes).
    std::map<model::node_id, broker_channels::process_gone> gone;

    // Delivers every message queued now (and not ones they cause), in the given order.
    void deliver(std::vector<sim_node*>& nodes, std::mt19937_64* shuffle);
    // Drops every queued message (their senders see an error).
    void drop_all();
};

// The controller settings of a simulated broker: fixed clock, no rebalance timer.
controller_config sim_controller_config(model::node_id self, std::uint64_t assignment_seed);

// Starts broker `n` on the session `n.zk` (set by the caller; a real client must be
// connected): its channels into `net`, its controller and its registration, which starts
// the controller once the broker is registered.
void start_node(sim_node& n, boost::asio::io_context& ioc, sim_network& net,
                const controller_config& cfg, const controller_hooks& hooks);

// The broker process dies: nothing it does counts any more, its controller stops, and its
// session closes (its ephemerals go), unless `keep_session` (a kill -9 whose session lives
// until it times out). `settle` runs the loop's ready handlers so that the controller's event
// loop ends before the session it uses goes.
void kill_node(sim_node& n, const std::function<void()>& settle, bool keep_session = false);

}  // namespace gregor::controller::sim

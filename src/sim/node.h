// node: one simulated broker process of the whole-cluster simulation (see cluster.h).
//
// What a `gregor broker` process holds, built from the real pieces: a ZooKeeper session
// (fake_client on the shared fake_ensemble), the real broker_registration, the real
// controller, and the real storage::log_manager and broker::replica_manager on an in-memory
// file system that survives the process (the page cache of a kill -9). The parts of the
// broker that move bytes (fetchers, the AlterPartition sender, the controller's channels,
// the metadata cache) are small models here, driven by the simulation's event queue.
#pragma once

#include "broker/replica_manager.h"
#include "controller/controller.h"
#include "coord/broker_registration.h"
#include "coord/fake_client.h"
#include "sim/control_channels.h"
#include "storage/log_manager.h"
#include "storage/tests/test_batches.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>

namespace gregor::sim {

// What a leader's checks last saw of one partition it leads (cluster_checks.cc).
struct seen_leadership {
    model::leader_epoch epoch = model::no_leader_epoch;
    model::offset hw{0};
};

struct node {
    model::node_id id;
    // Bumped by every start: messages addressed to an older process vanish.
    std::uint64_t incarnation = 0;
    bool running = false;
    storage::test::memory_env env;  // the disk: survives a kill, loses queued work
    std::unique_ptr<storage::log_manager> logs;
    std::unique_ptr<broker::replica_manager> replicas;
    std::unique_ptr<coord::fake_client> zk;
    // A killed process's session, alive until ZooKeeper times it out (a restarted process
    // may meet it: its registration then waits for it to go).
    std::unique_ptr<coord::fake_client> old_zk;
    std::uint64_t old_zk_incarnation = 0;
    bool stopping = false;      // a controlled shutdown is under way
    int shutdown_attempt = -1;  // the ControlledShutdown attempt in flight (-1: none)
    bool zk_cut = false;  // the link to ZooKeeper is down
    std::unique_ptr<coord::broker_registration> registration;
    std::unique_ptr<control_channels> channels;
    std::unique_ptr<controller::controller> ctl;
    bool ctl_started = false;
    model::broker_epoch epoch = model::no_broker_epoch;

    // The metadata cache, from UpdateMetadata.
    model::node_id known_controller = model::no_node;
    std::set<model::node_id> live;
    std::map<model::topic_partition, model::node_id> leaders;

    // The fetchers: each followed partition has at most one fetch in flight (0: none).
    std::map<model::topic_partition, std::uint64_t> following;
    // The AlterPartition in flight (0: none), one at a time as isr_sender sends them.
    std::uint64_t alter = 0;
    // The last one unanswered (sent again with the next), and no send before this time.
    std::shared_ptr<const protocol::alter_partition_request> unanswered;
    std::int64_t alter_quiet_until_ms = 0;

    std::map<model::topic_partition, seen_leadership> seen;

    explicit node(model::node_id self) : id(self) {}
};

}  // namespace gregor::sim

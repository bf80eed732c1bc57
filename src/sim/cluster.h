// cluster: the seeded whole-cluster simulation. The real controller, the real
// broker_registration, the real replica_manager and replication::partition state machines
// over real storage::logs on in-memory file systems, all on one in-memory ZooKeeper
// (coord::fake_ensemble), driven by one event queue in virtual milliseconds and one seeded
// PRNG, so that a run is a pure function of its seed.
//
// Per seed: 3 or 4 brokers, a topic of 1 to 3 partitions with replication factor 3, random
// network delays and drops, min.insync.replicas and replica.lag.time.max.ms. Faults:
//   - kill -9 of a broker (often the controller); its session lingers until ZooKeeper times
//     it out, then it restarts as a new process that recovers its logs from the disk;
//   - session expiry of a live broker (it re-registers with a new broker epoch, acts on
//     stale state meanwhile; a controller resigns);
//   - a broker cut off from ZooKeeper for a while, reconnecting to its session or to an
//     expired one;
//   - lost and delayed fetches, AlterPartitions and controller requests (the controller's
//     channel resends until answered, as Kafka's does; a lost AlterPartition times out);
//   - a broker cut off from the other brokers (not from ZooKeeper) for a while;
//   - a controlled shutdown (leaderships moved away first, then a clean stop and a restart);
//   - a restart before the killed process's session has timed out (the registration waits);
//   - fast crash detection: the controller hears of a killed process at once (and deletes
//     its registration), and sometimes wrongly of a live one (which registers again).
// Load: acks=all producers sending to the leader their metadata names (sometimes a stale
// one). Checked after every event (cluster_checks.cc): at most one controller per
// controller epoch; committed batches (below a leader's high watermark, so every
// acknowledged produce) never change and the leader of the current leader epoch holds all
// of them; no follower of that leader truncates one; a leader's high watermark never goes
// back within its epoch or passes its log end. After the faults stop: one controller, every
// partition led with all replicas in the ISR, logs identical, every acknowledged produce at
// its offsets byte for byte.
#pragma once

#include "replication/tests/replica_fixture.h"
#include "sim/node.h"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace gregor::sim {

// Per-seed settings.
struct sim_knobs {
    int brokers = 3;
    int partitions = 1;
    int drop_percent = 0;            // chance a message between brokers is lost
    std::int64_t delay_max_ms = 20;  // network delay 1..max, now and then far longer
    std::int64_t lag_time_max_ms = 500;
    std::int32_t min_insync = 2;
    std::int64_t fault_every_ms = 300;
    std::int64_t produce_every_ms = 10;
    std::int64_t session_timeout_ms = 300;  // a dead broker's session ends after this

    static sim_knobs random(std::mt19937_64& rng);
};

struct sim_stats {
    std::int64_t acked = 0;
    std::int64_t produce_failed = 0;
    std::int64_t controller_elections = 0;
    std::int64_t leader_changes = 0;  // a replica taking office as leader
    std::int64_t isr_commits = 0;
    std::int64_t truncations = 0;
    std::int64_t crashes = 0;
    std::int64_t early_restarts = 0;  // before the dead process's session timed out
    std::int64_t expiries = 0;
    std::int64_t zk_cuts = 0;
    std::int64_t controlled_shutdowns = 0;
    std::int64_t isolations = 0;
    std::int64_t gone_reports = 0;        // fast crash detection: a dead process reported
    std::int64_t false_gone_reports = 0;  // a live one reported (it must cost a bounce only)
    std::int64_t events = 0;
    std::int64_t heal_ms = 0;  // virtual time from the end of the faults to convergence
};

class control_channels;

class cluster {
public:
    // `trace`: one line per notable event on stdout, to follow a failing seed.
    explicit cluster(std::uint64_t seed, bool trace = false);
    ~cluster();
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;

    // Runs `fault_ms` of virtual time with faults and load, then heals and waits (bounded)
    // for convergence. Returns "" when every invariant held, else the first broken one.
    std::string run(std::int64_t fault_ms);
    const sim_stats& stats() const { return stats_; }
    const sim_knobs& knobs() const { return knobs_; }

private:
    friend class control_channels;
    using tp_t = model::topic_partition;
    using batch = replication::test::stored_batch;

    struct pending_produce {
        tp_t tp;
        model::node_id target;
        std::uint64_t incarnation = 0;
        model::offset base;
        model::offset end;
        model::leader_epoch epoch;
        bytes data;
        std::int64_t deadline_ms = 0;
    };

    // ---- Event queue and randomness (cluster.cc).
    void after(std::int64_t delay_ms, std::function<void()> fn);
    // From broker `from` to broker `to` after a network delay; lost with the knobs' drop
    // chance while faults run, and always while the link between them is cut.
    void send(model::node_id from, model::node_id to, std::function<void()> fn);
    bool cut(model::node_id a, model::node_id b) const;
    std::int64_t net_delay();
    std::int64_t pick(std::int64_t lo, std::int64_t hi);
    bool chance(int percent);
    model::timestamp_ms now() const { return model::timestamp_ms(now_ms_); }
    node& at(model::node_id id) { return *nodes_.at(static_cast<std::size_t>(id() - 1)); }
    void settle();
    void fail(std::string why);
    void trace(const std::string& what);
    std::string dump();

    // ---- Broker processes and faults (cluster.cc).
    void start(node& n);
    void kill(node& n);
    void report_process_gone(node& n);
    void schedule_restart(model::node_id id, std::uint64_t incarnation);
    void controlled_shutdown(node& n, int attempt);
    void stop_cleanly(node& n);
    void isolate(node& n);
    void expire(node& n);
    void cut_from_zookeeper(node& n);
    void fault_tick();
    node* victim();
    void create_topic();
    void produce_tick();
    void shrink_tick(model::node_id id, std::uint64_t incarnation);
    void checkpoint_tick(model::node_id id, std::uint64_t incarnation);

    // ---- Controller requests into brokers (cluster_control.cc).
    void deliver_control(model::node_id from, model::node_id to, std::shared_ptr<bytes> request,
                         std::function<void(result<bytes>)> done, std::weak_ptr<int> channel_alive);
    bytes apply_control(node& n, bytes_view request);
    bytes apply_leader_and_isr(node& n, protocol::reader& r, std::int16_t version);
    bytes apply_update_metadata(node& n, protocol::reader& r, std::int16_t version);
    bytes apply_stop_replica(node& n, protocol::reader& r, std::int16_t version);
    void follow(node& n, const tp_t& tp, model::node_id leader);

    // ---- Fetchers and ISR changes (cluster_data.cc).
    void start_fetch(node& n, const tp_t& tp);
    void serve_fetch(model::node_id leader, std::uint64_t leader_inc, model::node_id follower,
                     std::uint64_t follower_inc, std::uint64_t fetch, const tp_t& tp,
                     replication::fetch_position pos);
    void on_fetch_reply(model::node_id follower, std::uint64_t incarnation, std::uint64_t fetch,
                        const tp_t& tp, model::node_id leader, replication::fetch_position pos,
                        std::shared_ptr<const replication::test::fetch_reply> reply);
    void send_isr_changes(node& n);
    // `answer` null: no answer in time.
    void on_alter_answer(model::node_id id, std::uint64_t incarnation, std::uint64_t alter,
                         std::shared_ptr<const protocol::alter_partition_request> req,
                         std::shared_ptr<const protocol::alter_partition_response> answer);

    // ---- After every event: invariants (cluster_checks.cc).
    void after_event();
    void trace_zk_states();
    void observe_controllers();
    void observe_leaders();
    void check_new_leader(node& n, replication::partition& p);
    void commit_range(node& n, replication::partition& p, model::offset from, model::offset to);
    void check_truncation(node& n, const tp_t& tp, const std::vector<batch>& before);
    void settle_produces();
    std::optional<coord::partition_state> zk_state(const tp_t& tp) const;
    bool converged();
    void final_checks();

    std::mt19937_64 rng_;
    sim_knobs knobs_;
    sim_stats stats_;
    bool tracing_ = false;
    std::int64_t now_ms_ = 0;
    std::uint64_t seq_ = 0;
    std::uint64_t next_id_ = 0;
    std::int64_t next_stamp_ = 1;
    bool faults_ = true;
    bool topic_created_ = false;
    std::string broken_;
    std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> queue_;
    // Declaration order: the loop and ensemble outlive the nodes that use them.
    boost::asio::io_context ioc_;
    coord::fake_ensemble ensemble_;
    std::vector<std::unique_ptr<node>> nodes_;
    // Controller requests in flight per (controller, broker) link: the time the last one
    // arrives, so that a link delivers in order.
    std::map<std::pair<std::int32_t, std::int32_t>, std::int64_t> link_clock_;
    // Links between brokers that carry nothing now (both directions listed).
    std::set<std::pair<std::int32_t, std::int32_t>> cut_links_;
    std::vector<pending_produce> produces_;
    std::vector<pending_produce> acked_;
    // Per partition, every batch once below some leader's high watermark, by base offset.
    std::map<tp_t, std::map<std::int64_t, batch>> committed_;
    std::map<tp_t, model::zk_version> traced_versions_;  // trace_zk_states
    // Every controller activation: epoch -> broker.
    std::map<model::controller_epoch, model::node_id> activations_;
};

}  // namespace gregor::sim

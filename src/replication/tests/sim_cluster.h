// A seeded, single-threaded simulation of one partition replicated on three brokers, to
// check replication::partition under faults (the harness of replication_sim_test.cc).
//
// Parts, all driven by one event queue in virtual milliseconds and one seeded PRNG:
//   - three replicas, each a storage::log on its own in-memory file system wrapped in a
//     replication::partition; a replica may be killed (process gone, page cache kept) and
//     restarted later (log reopened with recovery, high watermark from its last checkpoint);
//   - a tiny controller that owns the partition state (leader, leader epoch, ISR, partition
//     epoch) as ZooKeeper-mode Kafka does: it notices a dead broker after a delay, removes it
//     from the ISR and elects a new leader from the live ISR (never unclean), bumps the leader
//     epoch, sends LeaderAndIsr (delayed, reordered, never lost to a live process), applies
//     AlterPartition with Kafka's checks, moves leadership now and then, and expires the
//     session of a live broker (which then acts on stale state until it re-registers);
//   - fetchers: each follower keeps one fetch in flight to the leader it knows; requests and
//     replies are delayed, dropped and reordered (a fetch that times out is retried after a
//     backoff, while the old request may still reach the leader later);
//   - producers appending small batches with acks=all on whichever replica believes it leads.
// Invariants (see sim_checks.cc): committed records (below any leader's high watermark, so
// every acknowledged one) are never rewritten and every leader of the controller's current
// epoch holds them all, a leader's high watermark never goes back within its epoch, no high
// watermark passes its log end, no follower of the current leader truncates a committed
// batch; after the faults stop, all replicas converge to the same log and all are back in
// the ISR.
#pragma once

#include "replication/tests/replica_fixture.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace gregor::replication::sim {

// Per-seed randomized settings.
struct sim_knobs {
    int drop_percent = 0;            // chance a fetch or AlterPartition message is lost
    std::int64_t delay_max_ms = 20;  // network delay 1..max, sometimes far longer
    std::int64_t lag_time_max_ms = 500;
    std::int32_t min_insync = 2;
    std::int64_t fault_every_ms = 300;
    std::int64_t produce_every_ms = 10;

    static sim_knobs random(std::mt19937_64& rng);
};

struct sim_stats {
    std::int64_t acked = 0;
    std::int64_t produce_failed = 0;  // refused, timed out, or lost with the connection
    std::int64_t leader_changes = 0;
    std::int64_t truncations = 0;
    std::int64_t isr_commits = 0;
    std::int64_t crashes = 0;
    std::int64_t expiries = 0;
    std::int64_t final_log_end = 0;
    std::int64_t fault_events = 0;
    std::int64_t heal_events = 0;
    std::int64_t heal_ms = 0;  // virtual time from the end of the faults to convergence
};

class sim_cluster {
public:
    // `trace`: print one line per notable event (leader changes, ISR changes, truncations,
    // commits) to stdout, to debug a failing seed.
    explicit sim_cluster(std::uint64_t seed, bool trace = false);
    ~sim_cluster();
    sim_cluster(const sim_cluster&) = delete;
    sim_cluster& operator=(const sim_cluster&) = delete;

    // Runs `fault_ms` of virtual time with faults, then heals the network, lets every broker
    // come back and waits (bounded) until all replicas agree. Returns "" when every
    // invariant held, else a description of the first broken one.
    std::string run(std::int64_t fault_ms);
    const sim_stats& stats() const { return stats_; }
    const sim_knobs& knobs() const { return knobs_; }

private:
    struct replica {
        test::replica_node node;
        bool running = true;
        std::uint64_t incarnation = 1;  // bumped by every restart: messages to the old one vanish
        std::uint64_t fetch = 0;        // the one fetch in flight (0: none)
        std::uint64_t alter = 0;        // the AlterPartition in flight (0: none)
        model::offset checkpoint_hw{0};
        // What the checks last saw of it as a leader.
        bool seen_leading = false;
        model::leader_epoch seen_epoch = model::no_leader_epoch;
        model::offset seen_hw{0};

        explicit replica(std::int32_t id) : node(model::node_id(id)) {}
    };
    struct pending_produce {
        std::int32_t target = 0;
        std::uint64_t incarnation = 0;
        model::offset base;
        model::offset end;
        model::leader_epoch epoch;
        bytes data;
        std::int64_t deadline_ms = 0;
    };
    struct controller {
        partition_state st;
        std::set<std::int32_t> registered;
    };

    // Event queue and randomness.
    void after(std::int64_t delay_ms, std::function<void()> fn);
    void send(std::int64_t delay_ms, std::function<void()> fn);  // may be dropped
    std::int64_t net_delay();
    std::int64_t pick(std::int64_t lo, std::int64_t hi);
    model::timestamp_ms now() const { return model::timestamp_ms(now_ms_); }
    replica& rep(std::int32_t id);
    void fail(std::string why);
    std::string dump();
    void trace(const std::string& what);  // one line per notable event, when tracing  // every
                                          // replica's and the controller's state, for failures

    // Fetchers and the leader serving them.
    void start_fetch(std::int32_t id);
    void fetch_timed_out(std::int32_t id, std::uint64_t incarnation, std::uint64_t fetch);
    void serve(std::int32_t leader, std::uint64_t leader_inc, std::int32_t follower,
               std::uint64_t follower_inc, std::uint64_t fetch, fetch_position pos);
    void on_reply(std::int32_t follower, std::uint64_t incarnation, std::uint64_t fetch,
                  std::int32_t leader, fetch_position pos,
                  std::shared_ptr<const test::fetch_reply> reply);

    // The controller and its channels.
    void send_state(std::int32_t target);
    void broadcast();
    void on_state(std::int32_t target, std::uint64_t incarnation, const partition_state& s);
    void broker_failed(std::int32_t id);
    void broker_started(std::int32_t id);
    void move_leader();
    void send_alter(std::int32_t id, std::uint64_t incarnation, std::uint64_t alter,
                    isr_proposal prop);
    void on_alter(std::int32_t from, std::uint64_t incarnation, std::uint64_t alter,
                  const isr_proposal& prop);
    void on_alter_answer(std::int32_t id, std::uint64_t incarnation, std::uint64_t alter,
                         model::kafka_error error, const partition_state& s);

    // Faults and load.
    void fault_tick();
    void crash(std::int32_t id);
    void open_replica(std::int32_t id);
    void restart(std::int32_t id);
    void expire(std::int32_t id);
    void produce_tick();
    void shrink_tick(std::int32_t id);
    void checkpoint_tick();

    // After every event: ISR proposals out, produce answers, invariants.
    void after_event();
    void take_proposals();
    void settle_produces();
    void observe_leaders();
    void check_new_leader(replica& r);
    void commit_range(replica& r, model::offset from, model::offset to);
    void commit(const test::stored_batch& b, std::int32_t who);
    void check_truncation(std::int32_t id, const std::vector<test::stored_batch>& before);
    bool converged();
    void final_checks();

    std::mt19937_64 rng_;
    sim_knobs knobs_;
    sim_stats stats_;
    std::int64_t now_ms_ = 0;
    std::uint64_t seq_ = 0;
    std::uint64_t next_id_ = 0;
    std::int64_t next_stamp_ = 1;
    bool faults_ = true;
    bool tracing_ = false;
    std::string broken_;
    std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> queue_;
    std::vector<std::unique_ptr<replica>> replicas_;
    controller ctl_;
    std::vector<pending_produce> produces_;
    // Every batch that was below some leader's high watermark, by base offset.
    std::map<std::int64_t, test::stored_batch> committed_;
    std::vector<pending_produce> acked_;
};

}  // namespace gregor::replication::sim

// The controller's internals, shared by its .cc files (not part of the module's interface).
//
// controller.cc      public API, event queue, election, resignation, session events
// failover.cc        loading the cluster state after winning an election
// brokers.cc         broker start-up, failure, bounce; controlled shutdown
// partitions.cc      leader/ISR decisions: compute, write fenced, journal, tell brokers
// topics.cc          new topics, topic deletion, CreateTopics/DeleteTopics
// alter_partition.cc AlterPartition from partition leaders
// elect_leaders.cc   ElectLeaders (preferred and unclean) from administrators
// create_partitions.cc CreatePartitions from administrators
// log_dirs.cc        log dir failures: notifications, offline replicas
#pragma once

#include "controller/controller.h"
#include "controller/election.h"
#include "controller/request_batch.h"
#include "controller/zk_await.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "model/kafka_error.h"

#include <deque>
#include <random>
#include <set>

namespace gregor::controller {

// Why a leader/ISR decision was made (the journal's "reason").
struct decision_reason {
    std::string text;
};

// One partition's wanted new state, computed from the context.
struct state_change {
    model::topic_partition tp;
    coord::partition_state next;
    bool create = false;  // the state znode does not exist yet
    bool unclean = false;
};

struct controller::impl : std::enable_shared_from_this<impl> {
    impl(asio::io_context& i, coord::client& z, broker_channels& ch, controller_config c,
         controller_hooks h);

    asio::io_context& ioc;
    coord::client& zk;
    broker_channels& channels;
    controller_config cfg;
    controller_hooks hooks;
    std::string client_id;

    controller_context ctx;
    bool is_active = false;
    model::node_id known = model::no_node;
    // Bumped whenever the role changes: watches and completions of an older one are ignored.
    std::uint64_t generation = 0;
    bool started = false;
    bool stopping = false;
    bool loop_done = false;
    coord::listener_id session_listener = 0;
    coord::session_id last_session = coord::no_session;

    struct event {
        std::string name;
        std::function<asio::awaitable<void>()> run;
        // Admin requests: answers the caller with an error instead of running.
        std::function<void()> refuse;
    };
    std::deque<event> queue;
    std::set<std::string> queued_names;  // coalescing of watch-driven events
    std::unique_ptr<wakeup> wake;
    std::unique_ptr<wakeup> loop_finished;

    // Topic deletion in progress: the replicas that still have to confirm StopReplica(delete).
    std::map<std::string, std::set<std::pair<model::node_id, model::partition_id>>> deleting;
    std::uint64_t unclean_elections = 0;
    std::mt19937_64 rng;  // topic ids and assignment start points
    std::array<std::uint8_t, 16> random_uuid_bytes();

    // controller.cc
    static asio::awaitable<void> run_loop(std::shared_ptr<impl> self);
    void enqueue(std::string name, std::function<asio::awaitable<void>()> run,
                 std::function<void()> refuse = {}, bool coalesce = false);
    template <class T>
    asio::awaitable<T> submit(const char* name, const std::function<asio::awaitable<T>()>& work,
                              const std::function<T()>& refusal);
    asio::awaitable<void> elect();
    asio::awaitable<void> learn_controller();
    asio::awaitable<void> become_controller(model::controller_epoch e, model::zk_version v);
    void resign(const std::string& why);
    void on_session(const coord::session_event& ev);
    coord::watch_fn watch_event(std::string name, std::function<asio::awaitable<void>()> run);
    coord::watch_fn controller_watch();
    // Runs a fenced multi: [check /controller_epoch, ops...]. A failed check resigns.
    asio::awaitable<coord::multi_response> fenced(const std::vector<coord::op>& ops);
    bool fenced_out(const coord::multi_response& r) const;
    // fenced() of one op. (g++ 12 miscompiles braced lists inside co_await expressions.)
    asio::awaitable<coord::multi_response> fenced_op(const coord::op& one);

    // failover.cc
    asio::awaitable<bool> load_state();
    asio::awaitable<bool> load_brokers();
    asio::awaitable<bool> load_topics(const std::vector<std::string>& names);
    asio::awaitable<bool> assign_topic_ids(const std::vector<std::string>& names);
    asio::awaitable<void> on_failover();

    // brokers.cc
    asio::awaitable<void> on_broker_change();
    asio::awaitable<void> on_broker_failure(const broker_set& dead, const std::string& why);
    asio::awaitable<void> on_broker_startup(const broker_set& fresh);
    void add_channel(const live_broker& b);
    asio::awaitable<protocol::controlled_shutdown_response> do_controlled_shutdown(
        const protocol::controlled_shutdown_request& req);

    // partitions.cc
    bool unclean_allowed(const std::string& topic) const;
    std::optional<state_change> offline_change(const model::topic_partition& tp,
                                               const partition_record& r,
                                               const broker_set& live) const;
    // Elects leaders for fresh/offline partitions and drops dead replicas from ISRs, among
    // `candidates` (all partitions when empty): the broker-failure/start-up/failover round.
    asio::awaitable<void> reconcile(const std::vector<model::topic_partition>& candidates,
                                    const std::string& why, request_batch& batch);
    // Writes the changes (fenced, conditional on each state znode's version), applies the
    // successful ones to the context, journals them and adds LeaderAndIsr (to the live
    // replicas) and UpdateMetadata (to every broker) to `batch`. Returns false iff fenced.
    asio::awaitable<bool> write_changes(const std::vector<state_change>& changes,
                                        const std::string& why, request_batch& batch);
    void journal(const state_change& c, const partition_record& before, const std::string& why);
    void send(const request_batch& batch);
    void on_response(const outgoing_request& req, result<bytes> r);

    // log_dirs.cc
    asio::awaitable<void> on_log_dir_event();
    void ask_about_replicas(const broker_set& failed);
    void on_leader_and_isr_response(const outgoing_request& req, const bytes& message);
    asio::awaitable<void> on_replicas_offline(model::node_id broker,
                                              std::vector<model::topic_partition> partitions);

    // topics.cc
    asio::awaitable<void> on_topic_change();
    asio::awaitable<void> on_partition_modification(const std::string& topic);
    asio::awaitable<void> on_deletion_change();
    asio::awaitable<void> start_deletion(const std::string& topic, request_batch& batch);
    asio::awaitable<void> finish_deletions();
    void resend_deletions(const broker_set& to, request_batch& batch);
    coord::watch_fn partition_watch(const std::string& topic);
    asio::awaitable<model::kafka_error> write_new_topic(const std::string& name,
                                                       const coord::replica_map& assignment,
                                                       const coord::config_map& config,
                                                       const std::array<std::uint8_t, 16>& id,
                                                       request_batch& batch);
    asio::awaitable<protocol::create_topics_response> do_create_topics(
        const protocol::create_topics_request& req, std::int16_t version);
    asio::awaitable<protocol::delete_topics_response> do_delete_topics(
        const protocol::delete_topics_request& req, std::int16_t version);

    // alter_partition.cc
    asio::awaitable<protocol::alter_partition_response> do_alter_partition(
        const protocol::alter_partition_request& req, std::int16_t version);
    // elect_leaders.cc
    asio::awaitable<protocol::elect_leaders_response> do_elect_leaders(
        const protocol::elect_leaders_request& req, std::int16_t version);
    // create_partitions.cc
    asio::awaitable<protocol::create_partitions_response> do_create_partitions(
        const protocol::create_partitions_request& req);
    asio::awaitable<model::kafka_error> write_added_partitions(const std::string& name,
                                                               const coord::replica_map& added,
                                                               request_batch& batch);
};

template <class T>
asio::awaitable<T> controller::impl::submit(const char* name,
                                            const std::function<asio::awaitable<T>()>& work,
                                            const std::function<T()>& refusal) {
    struct slot {
        explicit slot(const asio::any_io_executor& ex) : done(ex) {}
        std::optional<T> value;
        wakeup done;
    };
    auto s = std::make_shared<slot>(co_await asio::this_coro::executor);
    enqueue(
        name,
        [s, work]() -> asio::awaitable<void> {
            s->value.emplace(co_await work());
            s->done.notify();
        },
        [s, refusal] {
            s->value.emplace(refusal());
            s->done.notify();
        });
    while (!s->value) {
        co_await s->done.wait();
    }
    co_return std::move(*s->value);
}

std::int16_t error_code(model::kafka_error e);
protocol::uuid to_uuid(const std::array<std::uint8_t, 16>& b);

}  // namespace gregor::controller

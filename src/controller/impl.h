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
// rebalance.cc       preferred elections: automatic leader rebalance, /admin/preferred_replica_election
// reassign.cc        partition reassignment (KIP-455); reassign_api.cc its admin APIs
// alter_configs.cc   IncrementalAlterConfigs and AlterConfigs (topic config overrides)
// log_dirs.cc        log dir failures: notifications, offline replicas
#pragma once

#include "controller/config_edits.h"
#include "controller/controller.h"
#include "controller/election.h"
#include "controller/journal.h"
#include "controller/request_batch.h"
#include "controller/timeline.h"
#include "controller/zk_await.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "model/kafka_error.h"
#include "net/loop_budget.h"

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <optional>
#include <random>
#include <set>
#include <system_error>

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

// How a conditional write of /config/topics/<t> ended.
enum class config_write { written, raced, not_controller, failed };

// Notifications under /config/changes live this long (Kafka's purge interval) and at most
// this many go per purge.
inline constexpr std::chrono::milliseconds config_change_ttl{15 * 60 * 1000};
inline constexpr std::size_t config_change_purge_max = 1000;

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
    // Registrations this controller deleted because their process was gone (the reason of
    // the failure round that follows), by broker id.
    std::map<model::node_id, model::broker_epoch> processes_gone;
    decision_journal decisions;  // the journal's queryable ring
    // When this broker saw /controller deleted (the start of a failover's timeline).
    std::optional<timeline::time_point> controller_gone_seen;
    // The automatic leader rebalance's next check (armed while active).
    std::unique_ptr<asio::steady_timer> rebalance_timer;
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
    // The partition states read for load_topics, into the context.
    asio::awaitable<bool> load_states(const std::vector<model::topic_partition>& state_tps,
                                      const std::vector<result<coord::node_data>>& states);
    asio::awaitable<bool> assign_topic_ids(const std::vector<std::string>& names);
    asio::awaitable<void> on_failover();
    asio::awaitable<void> resume_pending_work(std::uint64_t gen);

    // brokers.cc
    void update_channels(const broker_set& fresh, const broker_set& dead,
                         const broker_set& bounced);
    asio::awaitable<void> on_broker_change();
    asio::awaitable<void> on_broker_failure(const broker_set& dead, const std::string& why);
    asio::awaitable<void> on_broker_startup(const broker_set& fresh);
    // Fast crash detection: the channels proved `id`'s process gone (README.md).
    void report_process_gone(model::node_id id);
    asio::awaitable<void> on_process_gone(model::node_id id, model::broker_epoch epoch);
    void add_channel(const live_broker& b);
    std::optional<state_change> shutdown_change(const model::topic_partition& tp,
                                                model::node_id id, request_batch& batch) const;
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
    // One change's state znode write: the error, or the znode's new version.
    struct write_outcome {
        std::error_code error;
        model::zk_version version{-1};
    };
    coord::op state_write(const state_change& c) const;
    // The state writes of `changes`, many per fenced multi (see partitions.cc).
    asio::awaitable<std::optional<std::vector<write_outcome>>> write_states(
        const std::vector<state_change>& changes);
    // Writes the changes (fenced, conditional on each state znode's version), applies the
    // successful ones to the context, journals them and adds LeaderAndIsr (to the live
    // replicas) and UpdateMetadata (to every broker) to `batch`. Returns false iff fenced
    // or no longer the controller. `failures` (optional) gets each change's write error
    // (none when written).
    asio::awaitable<bool> write_changes(const std::vector<state_change>& changes,
                                        const std::string& why, request_batch& batch,
                                        std::vector<std::error_code>* failures = nullptr);
    void journal(const state_change& c, const partition_record& before, const std::string& why);
    // Hands the batch's requests to the channels; `answers` (optional) counts their completions.
    // Builds and sends the batch's requests one at a time (request_builder, in pieces of
    // request_partitions_max), giving the loop a turn after each; stops if the controller
    // resigns meanwhile.
    asio::awaitable<void> send(const request_batch& batch,
                               std::shared_ptr<answer_tracker> answers = {});
    // A tracker that marks "answered" on `t` and logs its line once the round's requests
    // have all completed; close() it after the round's last send().
    std::shared_ptr<answer_tracker> log_when_answered(std::shared_ptr<timeline> t);
    void on_response(const outgoing_request& req, result<bytes> r);

    // log_dirs.cc
    // Kafka's broker-to-controller notices in ZooKeeper mode: reads the persistent-sequential
    // children `prefix`<n> of `parent` in the order written (setting `watch` on the parent),
    // deletes them fenced by the controller epoch, and returns each one's path and data.
    // nullopt when there are none or the role was lost meanwhile (resigned if fenced).
    asio::awaitable<std::optional<std::vector<std::pair<std::string, std::string>>>> take_notices(
        const std::string& parent, std::string_view prefix, coord::watch_fn watch);
    asio::awaitable<void> on_log_dir_event();
    // Receipts of unclean elections the replicas wrote (receipts.cc): journalled, deleted.
    asio::awaitable<void> on_unclean_receipts();
    void journal_receipt(const coord::unclean_receipt& r);
    // The slice of a walk over partitions before the loop gets a turn: counted in items,
    // not time, so that the simulations stay deterministic (1,000 partitions take about
    // 1 to 3 ms here).
    static net::loop_budget walk_budget() { return net::loop_budget::items(1000); }
    asio::awaitable<void> ask_about_replicas(const broker_set& failed);
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
    // Whether `tp` can and needs a preferred (or unclean) election; its next state if so.
    model::kafka_error plan_election(const model::topic_partition& tp, bool preferred,
                                     coord::partition_state& next, bool& unclean) const;

    // rebalance.cc
    // Preferred elections of `tps` (those that can succeed and are needed), written,
    // journaled with `why` and sent. Returns how many partitions got a new leader.
    asio::awaitable<std::size_t> elect_preferred_leaders(
        const std::vector<model::topic_partition>& tps, const std::string& why);
    void arm_rebalance_timer(std::chrono::milliseconds delay);
    asio::awaitable<void> on_rebalance_check();
    // /admin/preferred_replica_election: elect what it lists, delete it, watch for the next.
    asio::awaitable<void> on_preferred_election_node();
    coord::watch_fn preferred_election_watch();

    // reassign.cc: KIP-455 reassignment (phase A start, phase B completion).
    struct reassignment_write {
        model::topic_partition tp;
        std::vector<model::node_id> replicas;
        std::vector<model::node_id> adding;
        std::vector<model::node_id> removing;
        coord::partition_state next;
    };
    // Writes the topic znode (with `w`'s lists for the partition) and its state znode in one
    // fenced multi, applies them to the context and journals the decision.
    asio::awaitable<bool> write_reassignment(const reassignment_write& w, const std::string& why);
    // Moves `tp` towards `target` (replacing an ongoing move; the origin as target cancels).
    // The target must have been validated.
    asio::awaitable<model::kafka_error> start_reassignment(const model::topic_partition& tp,
                                                          const std::vector<model::node_id>& target,
                                                          request_batch& batch);
    // The completing write of `tp`'s reassignment, if its target is in the ISR and can lead.
    std::optional<reassignment_write> completion_of(const model::topic_partition& tp) const;
    // Completes the reassignments among `candidates` (every ongoing one when empty) whose
    // target replicas are all in the ISR.
    asio::awaitable<void> advance_reassignments(const std::vector<model::topic_partition>& candidates,
                                                request_batch& batch);
    // reassign_legacy.cc: /admin/reassign_partitions (the pre-KIP-455 tools' path).
    std::set<model::topic_partition> legacy_moves;  // started from the znode, not finished
    std::string reassign_node_written;  // our last rewrite (its watch event is not news)
    asio::awaitable<void> on_reassign_node_change();
    // Rewrites the znode with the legacy moves still running, or deletes it when none is.
    asio::awaitable<void> sync_reassign_node();
    // reassign_api.cc
    asio::awaitable<protocol::alter_partition_reassignments_response> do_alter_reassignments(
        const protocol::alter_partition_reassignments_request& req);
    protocol::list_partition_reassignments_response do_list_reassignments(
        const protocol::list_partition_reassignments_request& req) const;
    // create_partitions.cc
    asio::awaitable<protocol::create_partitions_response> do_create_partitions(
        const protocol::create_partitions_request& req);
    asio::awaitable<model::kafka_error> write_added_partitions(const std::string& name,
                                                               const coord::replica_map& added,
                                                               request_batch& batch);

    // alter_configs.cc: one resource of IncrementalAlterConfigs (edits) or AlterConfigs
    // (replacement).
    struct config_alteration {
        std::int8_t resource_type = 0;
        std::string name;
        bool incremental = true;
        std::vector<config_edit> edits;
        std::vector<std::pair<std::string, std::optional<std::string>>> replacement;
    };
    // When each /config/changes child was first listed (the purge's clock).
    std::map<std::string, model::timestamp_ms> config_changes_seen;
    asio::awaitable<std::vector<admin_error>> alter_configs_event(
        const std::vector<config_alteration>& alterations, bool validate_only,
        const std::string& client);
    asio::awaitable<std::vector<admin_error>> do_alter_configs(
        const std::vector<config_alteration>& alterations, bool validate_only,
        const std::string& client);
    asio::awaitable<admin_error> alter_topic_config(const config_alteration& a,
                                                   bool validate_only, const std::string& client);
    asio::awaitable<config_write> write_topic_config(const std::string& name,
                                                     const config_overrides& config,
                                                     model::zk_version version);
    void on_topic_config_written(const std::string& name, const config_overrides& before,
                                 const config_overrides& after, const std::string& client);
    asio::awaitable<void> purge_config_changes();
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

// Kafka's checks of one partition's reassignment request (target nullopt: cancel), in
// Kafka's order; code none when it may go ahead (reassign_api.cc).
struct reassignment_refusal {
    model::kafka_error code = model::kafka_error::none;
    std::string message;
};
reassignment_refusal check_reassignment(const controller_context& ctx,
                                        const model::topic_partition& tp,
                                        const std::optional<std::vector<model::node_id>>& target);
protocol::uuid to_uuid(const std::array<std::uint8_t, 16>& b);

}  // namespace gregor::controller

// Becoming controller: load the cluster state, then bring brokers, replicas and partitions
// in line (Kafka's onControllerFailover).
#include "controller/impl.h"
#include "controller/logger.h"

#include "coord/errc.h"

#include <chrono>
#include <random>

namespace gregor::controller {

protocol::uuid to_uuid(const std::array<std::uint8_t, 16>& b) {
    protocol::uuid u;
    u.bytes = b;
    return u;
}

std::array<std::uint8_t, 16> controller::impl::random_uuid_bytes() {
    std::array<std::uint8_t, 16> out{};
    do {
        for (std::size_t i = 0; i < out.size(); i += 8) {
            std::uint64_t v = rng();
            for (std::size_t j = 0; j < 8; ++j) {
                out[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
            }
        }
    } while (to_uuid(out).is_zero());
    return out;
}

asio::awaitable<bool> controller::impl::load_brokers() {
    auto self = shared_from_this();
    const std::string ids_path(coord::paths::brokers_ids);
    const coord::watch_fn watch =
        watch_event("broker_change", [self] { return self->on_broker_change(); });
    auto ids = co_await zk::get_children(zk, ids_path, watch);
    if (!ids) {
        co_return false;
    }
    std::vector<std::string> paths;
    std::vector<model::node_id> parsed;
    for (const auto& name : ids->names) {
        if (auto id = coord::paths::parse_broker_id(name)) {
            parsed.push_back(*id);
            paths.push_back(coord::paths::broker(*id));
        }
    }
    const zk::watch_factory no_watch;
    auto data = co_await zk::get_many(zk, paths, cfg.zk_window, no_watch);
    ctx.brokers.clear();
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (!data[i]) {
            continue;  // gone meanwhile: the child watch tells us
        }
        auto info = coord::decode_broker(data[i]->data);
        if (!info) {
            GREGOR_LOG(controller_log, err, "ignoring broker {}: {}", parsed[i](),
                       info.err().to_string());
            continue;
        }
        ctx.brokers[parsed[i]] = live_broker{
            parsed[i], model::broker_epoch(data[i]->stat.czxid()), std::move(*info)};
    }
    co_return true;
}

asio::awaitable<bool> controller::impl::load_topics(const std::vector<std::string>& names) {
    std::vector<std::string> topic_paths;
    std::vector<std::string> config_paths;
    for (const auto& t : names) {
        topic_paths.push_back(coord::paths::topic(t));
        config_paths.push_back(coord::paths::topic_config(t));
    }
    auto self = shared_from_this();
    const zk::watch_factory watch_topic = [self](const std::string& path) {
        return self->partition_watch(path.substr(path.rfind('/') + 1));
    };
    const zk::watch_factory no_watch;
    auto assignments = co_await zk::get_many(zk, topic_paths, cfg.zk_window, watch_topic);
    auto configs = co_await zk::get_many(zk, config_paths, cfg.zk_window, no_watch);
    std::vector<std::string> state_paths;
    std::vector<model::topic_partition> state_tps;
    // A million partitions take a second to list: the loop gets its turns meanwhile.
    auto budget = walk_budget();
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!assignments[i]) {
            continue;
        }
        auto a = coord::decode_topic(assignments[i]->data);
        if (!a) {
            GREGOR_LOG(controller_log, err, "ignoring topic {}: {}", names[i], a.err().to_string());
            continue;
        }
        topic_record& t = ctx.topics[names[i]];
        if (a->topic_id) {
            if (auto bytes = coord::parse_uuid_string(*a->topic_id)) {
                t.id = to_uuid(*bytes);
                t.id_string = *a->topic_id;
            }
        }
        if (configs[i]) {
            if (auto c = coord::decode_entity_config(configs[i]->data)) {
                t.config = std::move(*c);
            }
        }
        for (auto& [p, replicas] : a->partitions) {
            if (budget.due()) {
                co_await budget.yield();
                if (!is_active) {
                    co_return false;
                }
            }
            t.partitions[p].replicas = std::move(replicas);
            t.partitions[p].adding = a->adding_replicas[p];
            t.partitions[p].removing = a->removing_replicas[p];
            state_paths.push_back(coord::paths::partition_state(names[i], p));
            state_tps.push_back({names[i], p});
        }
    }
    auto states = co_await zk::get_many(zk, state_paths, cfg.zk_window, no_watch);
    co_return co_await load_states(state_tps, states);
}

asio::awaitable<bool> controller::impl::load_states(
    const std::vector<model::topic_partition>& state_tps,
    const std::vector<result<coord::node_data>>& states) {
    // A million states take seconds to decode: the loop (the broker's, and its ZooKeeper
    // pings) gets its turns meanwhile. Only events change the context, and this is one.
    auto budget = walk_budget();
    for (std::size_t i = 0; i < states.size(); ++i) {
        if (budget.due()) {
            co_await budget.yield();
            if (!is_active) {
                co_return false;
            }
        }
        partition_record* r = ctx.partition(state_tps[i]);
        if (r == nullptr || !states[i]) {
            continue;  // no state znode yet: a new partition
        }
        auto s = coord::decode_partition_state(states[i]->data);
        if (!s) {
            GREGOR_LOG(controller_log, err, "partition {} state is malformed: {}", state_tps[i],
                       s.err().to_string());
            continue;
        }
        if (s->controller_epoch > ctx.epoch) {
            resign("partition " + fmt::format("{}", state_tps[i]) +
                   " was written by a newer controller");
            co_return false;
        }
        r->state = std::move(*s);
        r->version = states[i]->stat.version;
        r->phase = ctx.live(r->state.leader) ? partition_phase::online : partition_phase::offline;
    }
    co_return is_active;
}

asio::awaitable<bool> controller::impl::assign_topic_ids(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        auto it = ctx.topics.find(name);
        if (it == ctx.topics.end() || !it->second.id.is_zero()) {
            continue;
        }
        // Topics written without an id (by older tools) get one, as Kafka 2.8+ does.
        topic_record& t = it->second;
        auto bytes = random_uuid_bytes();
        coord::topic_assignment a = assignment_of(t);
        a.topic_id = coord::make_cluster_id(bytes);
        const coord::op write =
            coord::set_op{coord::paths::topic(name), coord::encode_topic(a), coord::any_version};
        auto r = co_await fenced_op(write);
        if (!is_active) {
            co_return false;
        }
        if (!r.error) {
            t.id = to_uuid(bytes);
            t.id_string = *a.topic_id;
        }
    }
    co_return true;
}

asio::awaitable<bool> controller::impl::load_state() {
    bool brokers_loaded = co_await load_brokers();
    if (!brokers_loaded) {
        co_return false;
    }
    auto self = shared_from_this();
    const std::string topics_path(coord::paths::brokers_topics);
    const coord::watch_fn watch =
        watch_event("topic_change", [self] { return self->on_topic_change(); });
    auto topics = co_await zk::get_children(zk, topics_path, watch);
    if (!topics) {
        co_return false;
    }
    bool topics_loaded = co_await load_topics(topics->names);
    if (!topics_loaded) {
        co_return false;
    }
    bool named = co_await assign_topic_ids(topics->names);
    co_return named;
}

asio::awaitable<void> controller::impl::on_failover() {
    using clock = std::chrono::steady_clock;
    auto ms = [](clock::duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    const auto began = clock::now();
    std::uint64_t gen = generation;
    auto marks = std::make_shared<timeline>("failover", fmt::format("epoch={}", ctx.epoch()));
    if (controller_gone_seen) {
        marks->mark_at("controller_gone_seen", *controller_gone_seen);
        controller_gone_seen.reset();
    }
    marks->mark("elected");
    bool loaded = co_await load_state();
    if (!loaded || generation != gen) {
        if (is_active && generation == gen) {
            resign("cannot load the cluster state from ZooKeeper");
        }
        co_return;
    }
    const auto load_done = clock::now();
    marks->mark("loaded");
    GREGOR_LOG(controller_log, info,
               "controller epoch {}: loaded {} brokers, {} topics, {} partitions in {} ms",
               ctx.epoch(), ctx.brokers.size(), ctx.topics.size(), ctx.partition_count(),
               ms(load_done - began));
    for (const auto& [id, b] : ctx.brokers) {
        add_channel(b);
    }
    // Live brokers first, so they can resolve the leaders named in what follows (KAFKA-4443).
    auto answers = log_when_answered(marks);
    request_batch first;
    first.update_metadata_brokers(ctx.registered_set());
    co_await send(first, answers);
    // Every live replica hears its partition's current state, every broker every partition.
    request_batch batch;
    batch.everything(ctx.registered_set());
    const std::vector<model::topic_partition> all;
    const std::string why = "controller failover";
    co_await reconcile(all, why, batch);
    if (generation != gen) {
        co_return;
    }
    // Reassignments survive failover: their lists are in the topic znodes; the replicas
    // being added heard LeaderAndIsr above, and those already caught up complete now.
    co_await advance_reassignments(all, batch);
    if (generation != gen) {
        co_return;
    }
    const auto elect_done = clock::now();
    marks->mark("written");
    co_await send(batch, answers);
    marks->mark("sent");
    answers->close();
    GREGOR_LOG(controller_log, info,
               "controller epoch {}: failover took {} ms (state load {} ms, elections and "
               "ZooKeeper writes {} ms, requests to {} brokers {} ms)",
               ctx.epoch(), ms(clock::now() - began), ms(load_done - began),
               ms(elect_done - load_done), ctx.brokers.size(), ms(clock::now() - elect_done));
    co_await resume_pending_work(gen);
}

// After a failover's round: the admin work that waited for a controller (deletions,
// preferred elections, legacy reassignments, log dir events), then the rebalance timer.
asio::awaitable<void> controller::impl::resume_pending_work(std::uint64_t gen) {
    co_await on_deletion_change();
    if (generation != gen) {
        co_return;
    }
    // Preferred elections asked for while no controller was there (Kafka's failover finishes
    // them), and the watch for the next request; then the rebalance timer starts.
    co_await on_preferred_election_node();
    if (generation == gen) {
        arm_rebalance_timer(cfg.leader_imbalance_first_check);
    }
    legacy_moves.clear();
    reassign_node_written.clear();
    co_await on_reassign_node_change();
    // Pending log dir events: the failover's LeaderAndIsr already asked every broker about every
    // replica, so they are only read (and the watch left) and deleted.
    co_await on_log_dir_event();
    if (generation == gen) {
        co_await on_unclean_receipts();  // written while no controller was there
    }
}

}  // namespace gregor::controller

// Topics appearing in and disappearing from ZooKeeper: new topics and partitions get leaders,
// deleted topics are stopped on every replica before their znodes go.
#include "controller/impl.h"
#include "controller/logger.h"

#include "coord/errc.h"
#include "coord/limits.h"

#include <algorithm>

namespace gregor::controller {

coord::watch_fn controller::impl::partition_watch(const std::string& topic) {
    auto self = shared_from_this();
    return watch_event("partition_modification:" + topic,
                       [self, topic] { return self->on_partition_modification(topic); });
}

asio::awaitable<void> controller::impl::on_topic_change() {
    if (!is_active) {
        co_return;
    }
    auto self = shared_from_this();
    std::uint64_t gen = generation;
    const std::string topics_path(coord::paths::brokers_topics);
    const coord::watch_fn watch =
        watch_event("topic_change", [self] { return self->on_topic_change(); });
    auto names = co_await zk::get_children(zk, topics_path, watch);
    if (!names || generation != gen) {
        co_return;
    }
    std::set<std::string> present(names->names.begin(), names->names.end());
    for (auto it = ctx.topics.begin(); it != ctx.topics.end();) {
        // Removed behind our back (not through deletion): forget it.
        it = present.contains(it->first) ? std::next(it) : ctx.topics.erase(it);
    }
    std::vector<std::string> fresh;
    for (const auto& n : names->names) {
        if (!ctx.topics.contains(n)) {
            fresh.push_back(n);
        }
    }
    if (fresh.empty()) {
        co_return;
    }
    bool loaded = co_await load_topics(fresh);
    if (!loaded) {
        co_return;
    }
    bool named = co_await assign_topic_ids(fresh);
    if (!named) {
        co_return;
    }
    std::vector<model::topic_partition> parts;
    for (const auto& n : fresh) {
        if (auto t = ctx.topics.find(n); t != ctx.topics.end()) {
            for (const auto& [p, r] : t->second.partitions) {
                parts.push_back({n, p});
            }
        }
    }
    request_batch batch;
    const std::string why = "topic created";
    co_await reconcile(parts, why, batch);
    co_await send(batch);
}

asio::awaitable<void> controller::impl::on_partition_modification(const std::string& topic) {
    auto t = ctx.topics.find(topic);
    if (!is_active || t == ctx.topics.end()) {
        co_return;
    }
    std::uint64_t gen = generation;
    const std::string path = coord::paths::topic(topic);
    const coord::watch_fn watch = partition_watch(topic);
    auto node = co_await zk::get(zk, path, watch);
    if (!node || generation != gen) {
        co_return;
    }
    auto a = coord::decode_topic(node->data);
    t = ctx.topics.find(topic);
    if (!a || t == ctx.topics.end()) {
        co_return;
    }
    std::vector<model::topic_partition> added;
    for (auto& [p, replicas] : a->partitions) {
        if (!t->second.partitions.contains(p)) {
            t->second.partitions[p].replicas = std::move(replicas);
            added.push_back({topic, p});
        }
    }
    if (added.empty()) {
        co_return;
    }
    request_batch batch;
    const std::string why = "partitions added";
    co_await reconcile(added, why, batch);
    co_await send(batch);
}

asio::awaitable<void> controller::impl::on_deletion_change() {
    if (!is_active) {
        co_return;
    }
    auto self = shared_from_this();
    std::uint64_t gen = generation;
    const std::string deletions_path(coord::paths::admin_delete_topics);
    const coord::watch_fn watch =
        watch_event("deletion_change", [self] { return self->on_deletion_change(); });
    auto names = co_await zk::get_children(zk, deletions_path, watch);
    if (!names || generation != gen) {
        co_return;
    }
    request_batch batch;
    for (const auto& n : names->names) {
        auto t = ctx.topics.find(n);
        if (t == ctx.topics.end() || !cfg.delete_topic_enable) {
            // Unknown topic, or deletion disabled: drop the request, as Kafka does.
            const coord::op drop = coord::remove_op{coord::paths::delete_topic(n), coord::any_version};
            co_await fenced_op(drop);
            continue;
        }
        if (!t->second.deleting) {
            co_await start_deletion(n, batch);
        }
    }
    co_await send(batch);
    co_await finish_deletions();
}

asio::awaitable<void> controller::impl::start_deletion(const std::string& topic,
                                                       request_batch& batch) {
    topic_record& t = ctx.topics.at(topic);
    t.deleting = true;
    GREGOR_LOG(controller_log, info, "deleting topic {} ({} partitions)", topic,
               t.partitions.size());
    auto& pending = deleting[topic];
    broker_set everyone = ctx.registered_set();
    for (const auto& [p, r] : t.partitions) {
        model::topic_partition tp{topic, p};
        batch.update_metadata_deleting(everyone, tp);
        for (model::node_id id : r.replicas) {
            pending.insert({id, p});
            if (ctx.brokers.contains(id)) {
                batch.stop_replica(id, tp, true, epoch_during_delete);
            }
        }
    }
    co_return;
}

void controller::impl::resend_deletions(const broker_set& to, request_batch& batch) {
    for (const auto& [topic, pending] : deleting) {
        for (const auto& [id, p] : pending) {
            if (to.contains(id)) {
                batch.stop_replica(id, {topic, p}, true, epoch_during_delete);
            }
        }
    }
}

asio::awaitable<void> controller::impl::finish_deletions() {
    std::vector<std::string> done;
    for (const auto& [topic, pending] : deleting) {
        if (pending.empty()) {
            done.push_back(topic);
        }
    }
    for (const auto& topic : done) {
        auto t = ctx.topics.find(topic);
        if (!is_active || t == ctx.topics.end()) {
            co_return;
        }
        // Children first (ZooKeeper removes only childless nodes), in fenced batches.
        std::vector<std::vector<coord::op>> removes;
        for (const auto& [p, r] : t->second.partitions) {
            std::vector<coord::op> ops;
            if (r.version() >= 0) {
                ops.push_back(coord::remove_op{coord::paths::partition_state(topic, p),
                                               coord::any_version});
            }
            removes.push_back(std::move(ops));
        }
        std::vector<std::vector<coord::op>> fenced_removes;
        coord::check_op fence{std::string(coord::paths::controller_epoch), ctx.epoch_version};
        for (auto& ops : removes) {
            if (!ops.empty()) {
                ops.insert(ops.begin(), fence);
                fenced_removes.push_back(std::move(ops));
            }
        }
        co_await zk::multi_many(zk, fenced_removes, cfg.zk_window);
        std::vector<std::vector<coord::op>> parents;
        for (const auto& [p, r] : t->second.partitions) {
            parents.push_back({fence, coord::remove_op{coord::paths::partition(topic, p),
                                                       coord::any_version}});
        }
        co_await zk::multi_many(zk, parents, cfg.zk_window);
        // The rest one by one: some may not exist (a topic without config, no partitions dir).
        std::array<std::string, 4> rest{
            coord::paths::topic_partitions(topic), coord::paths::topic(topic),
            coord::paths::topic_config(topic), coord::paths::delete_topic(topic)};
        for (const std::string& path : rest) {
            const coord::op drop = coord::remove_op{path, coord::any_version};
            co_await fenced_op(drop);
            if (!is_active) {
                co_return;
            }
        }
        ctx.topics.erase(topic);
        deleting.erase(topic);
        GREGOR_LOG(controller_log, info, "topic {} deleted", topic);
    }
}

}  // namespace gregor::controller

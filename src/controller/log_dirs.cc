// Log dir failures (Kafka's LogDirEventNotification and the OfflineReplica transition).
//
// A broker whose log dir failed writes /log_dir_event_notification/log_dir_event_<n>. The
// controller reads and deletes those nodes and sends the broker a LeaderAndIsr for every
// replica it holds; the broker answers KAFKA_STORAGE_ERROR for the replicas in offline dirs
// (on_response hands them to on_replicas_offline). Those replicas are then offline in the
// context: no longer live for any election, out of every ISR (leader epoch + 1), a leader
// among them replaced from the rest of the ISR, and shown in UpdateMetadata's
// offline_replicas. The broker forgets them only by dying or registering again.
#include "controller/impl.h"
#include "controller/logger.h"

#include "protocol/frame.h"
#include "protocol/messages/leader_and_isr.h"

namespace gregor::controller {

asio::awaitable<std::optional<std::vector<std::pair<std::string, std::string>>>>
controller::impl::take_notices(const std::string& parent, std::string_view prefix,
                               coord::watch_fn watch) {
    using notices = std::vector<std::pair<std::string, std::string>>;
    std::uint64_t gen = generation;
    auto names = co_await zk::get_children(zk, parent, watch);
    if (!names || generation != gen || names->names.empty()) {
        co_return std::nullopt;
    }
    std::vector<std::pair<std::int64_t, std::string>> seqs;
    for (const auto& n : names->names) {
        if (auto seq = coord::paths::parse_sequence(n, prefix)) {
            seqs.emplace_back(*seq, parent + "/" + n);
        }
    }
    std::sort(seqs.begin(), seqs.end());  // in the order written
    std::vector<std::string> paths;
    for (auto& [seq, path] : seqs) {
        paths.push_back(std::move(path));
    }
    const zk::watch_factory no_watch;
    auto data = co_await zk::get_many(zk, paths, cfg.zk_window, no_watch);
    if (generation != gen) {
        co_return std::nullopt;
    }
    notices out;
    std::vector<std::vector<coord::op>> drops;
    coord::check_op fence{std::string(coord::paths::controller_epoch), ctx.epoch_version};
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (!data[i]) {
            continue;  // gone meanwhile
        }
        out.emplace_back(paths[i], std::move(data[i]->data));
        drops.push_back({fence, coord::remove_op{paths[i], coord::any_version}});
    }
    auto dropped = co_await zk::multi_many(zk, drops, cfg.zk_window);
    if (generation != gen) {
        co_return std::nullopt;
    }
    for (const auto& r : dropped) {
        if (fenced_out(r)) {
            resign("/controller_epoch moved on: another controller was elected");
            co_return std::nullopt;
        }
    }
    co_return out;
}

asio::awaitable<void> controller::impl::on_log_dir_event() {
    if (!is_active) {
        co_return;
    }
    auto self = shared_from_this();
    // Named, not temporaries in the co_await: g++ 12 mishandles those.
    const std::string parent(coord::paths::log_dir_event_notification);
    const coord::watch_fn watch =
        watch_event("log_dir_event", [self] { return self->on_log_dir_event(); });
    auto notices = co_await take_notices(parent, coord::paths::log_dir_event_prefix, watch);
    if (!notices) {
        co_return;
    }
    broker_set failed;
    for (const auto& [path, data] : *notices) {
        if (auto b = coord::decode_log_dir_event(data)) {
            failed.insert(*b);
        } else {
            GREGOR_LOG(controller_log, warn, "ignoring {}: {}", path, b.err().to_string());
        }
    }
    co_await ask_about_replicas(failed);
}

asio::awaitable<void> controller::impl::ask_about_replicas(const broker_set& failed) {
    request_batch batch;
    for (model::node_id id : failed) {
        if (!ctx.brokers.contains(id)) {
            continue;  // dead: its replicas are offline anyway
        }
        GREGOR_LOG(controller_log, warn, "broker {} reported a log dir failure; asking it about "
                   "each of its replicas", id());
        for (const auto& tp : ctx.partitions_on(id)) {
            const partition_record* r = ctx.partition(tp);
            if (r->version() >= 0 && !ctx.topics.at(tp.topic).deleting) {
                batch.leader_and_isr(id, tp, false);
            }
        }
    }
    co_await send(batch);
}

void controller::impl::on_leader_and_isr_response(const outgoing_request& req,
                                                  const bytes& message) {
    protocol::reader rd(message);
    auto header = protocol::decode_response_header(
        rd, protocol::response_header_version(req.api_key, leader_and_isr_version));
    auto resp =
        protocol::decode_exact<protocol::leader_and_isr_response>(rd, leader_and_isr_version);
    if (!header || !resp || resp->error_code != 0) {
        return;
    }
    std::vector<model::topic_partition> offline;
    const auto storage_error = error_code(model::kafka_error::kafka_storage_error);
    for (const auto& t : resp->topics) {
        auto it = std::find_if(ctx.topics.begin(), ctx.topics.end(),
                               [&](const auto& e) { return e.second.id == t.topic_id; });
        if (it == ctx.topics.end()) {
            continue;
        }
        for (const auto& pe : t.partition_errors) {
            model::topic_partition tp{it->first, pe.partition_index};
            if (pe.error_code == storage_error && !ctx.replica_offline(req.broker, tp)) {
                offline.push_back(std::move(tp));
            }
        }
    }
    if (offline.empty()) {
        return;
    }
    auto self = shared_from_this();
    model::node_id broker = req.broker;
    enqueue("replicas_offline",
            [self, broker, offline] { return self->on_replicas_offline(broker, offline); });
}

asio::awaitable<void> controller::impl::on_replicas_offline(
    model::node_id broker, std::vector<model::topic_partition> partitions) {
    if (!is_active || !ctx.brokers.contains(broker)) {
        co_return;
    }
    std::vector<model::topic_partition> fresh;
    for (auto& tp : partitions) {
        if (ctx.partition(tp) != nullptr && ctx.offline_replicas[broker].insert(tp).second) {
            fresh.push_back(std::move(tp));
        }
    }
    if (fresh.empty()) {
        co_return;
    }
    GREGOR_LOG(controller_log, warn, "broker {}: {} replica(s) offline after a log dir failure",
               broker(), fresh.size());
    request_batch batch;
    // Everyone learns the offline replicas even when no leader or ISR changes.
    const broker_set everyone = ctx.registered_set();
    for (const auto& tp : fresh) {
        batch.update_metadata(everyone, tp);
    }
    const std::string why = "log dir failure on broker " + std::to_string(broker());
    co_await reconcile(fresh, why, batch);
    co_await send(batch);
}

}  // namespace gregor::controller

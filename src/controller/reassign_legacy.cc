// /admin/reassign_partitions: how tools before KIP-455 ask for reassignments. The controller
// watches the znode; when it appears (or changes) each listed partition is checked as an
// AlterPartitionReassignments request would be and moved; refused ones are logged and
// dropped. As the moves finish the znode is rewritten with those still running, and deleted
// when none is left, as Kafka does.
#include "controller/impl.h"
#include "controller/logger.h"

namespace gregor::controller {

asio::awaitable<void> controller::impl::on_reassign_node_change() {
    if (!is_active) {
        co_return;
    }
    auto self = shared_from_this();
    std::uint64_t gen = generation;
    const std::string path(coord::paths::reassign_partitions);
    const coord::watch_fn watch = watch_event(
        "reassign_partitions_change", [self] { return self->on_reassign_node_change(); });
    auto present = co_await zk::exists(zk, path, watch);
    if (!present || !*present || generation != gen) {
        co_return;
    }
    const coord::watch_fn no_watch;
    auto node = co_await zk::get(zk, path, no_watch);
    if (!node || generation != gen) {
        co_return;
    }
    auto wanted = coord::decode_reassignment(node->data);
    if (!wanted) {
        GREGOR_LOG(controller_log, err, "{} is malformed ({}); deleting it", path,
                   wanted.err().to_string());
        const coord::op drop = coord::remove_op{path, coord::any_version};
        co_await fenced_op(drop);
        co_return;
    }
    request_batch batch;
    for (const auto& w : *wanted) {
        const partition_record* r = ctx.partition(w.tp);
        if (r != nullptr && r->reassigning() && r->target() == w.replicas) {
            legacy_moves.insert(w.tp);  // already moving there (our own rewrite)
            continue;
        }
        const std::optional<std::vector<model::node_id>> target = w.replicas;
        reassignment_refusal e = check_reassignment(ctx, w.tp, target);
        if (e.code == model::kafka_error::none) {
            const model::topic_partition tp = w.tp;
            e.code = co_await start_reassignment(tp, w.replicas, batch);
        }
        if (e.code != model::kafka_error::none) {
            GREGOR_LOG(controller_log, warn, "{}: reassignment of {} refused: {} {}", path, w.tp,
                       model::kafka_error_name(e.code), e.message);
            continue;
        }
        legacy_moves.insert(w.tp);
    }
    co_await send(batch);
    co_await sync_reassign_node();
}

asio::awaitable<void> controller::impl::sync_reassign_node() {
    if (!is_active) {
        co_return;
    }
    std::vector<coord::partition_reassignment> running;
    for (auto it = legacy_moves.begin(); it != legacy_moves.end();) {
        const partition_record* r = ctx.partition(*it);
        if (r == nullptr || !r->reassigning()) {
            it = legacy_moves.erase(it);
            continue;
        }
        running.push_back({*it, r->target()});
        ++it;
    }
    const std::string path(coord::paths::reassign_partitions);
    if (running.empty()) {
        const coord::op drop = coord::remove_op{path, coord::any_version};
        reassign_node_written.clear();
        co_await fenced_op(drop);
        co_return;
    }
    std::string data = coord::encode_reassignment(running);
    if (data == reassign_node_written) {
        co_return;
    }
    const coord::op rewrite = coord::set_op{path, data, coord::any_version};
    auto r = co_await fenced_op(rewrite);
    if (!r.error) {
        reassign_node_written = std::move(data);
    }
}

}  // namespace gregor::controller

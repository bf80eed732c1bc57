// Receipts of unclean elections, in the decision journal.
//
// An unclean election can only say that records may be lost; the replicas know which. The
// new leader reports where its log ends (everything the old leader acknowledged from there
// on is gone), and each old replica that returns and cuts its log below its high watermark
// reports the acknowledged range it cut. They write gregor's own persistent-sequential
// /gregor/unclean_receipts/receipt_<n> (coord::unclean_receipt; Kafka's tools ignore the
// path); the active controller reads each, journals it beside the election it follows,
// and deletes it, fenced by its epoch, as with Kafka's log dir events.
#include "controller/impl.h"
#include "controller/logger.h"

namespace gregor::controller {

asio::awaitable<void> controller::impl::on_unclean_receipts() {
    if (!is_active) {
        co_return;
    }
    auto self = shared_from_this();
    std::uint64_t gen = generation;
    const std::string parent(coord::paths::unclean_receipts);
    const coord::watch_fn watch =
        watch_event("unclean_receipts", [self] { return self->on_unclean_receipts(); });
    auto names = co_await zk::get_children(zk, parent, watch);
    if (!names || generation != gen || names->names.empty()) {
        co_return;
    }
    // In the order the replicas wrote them.
    std::vector<std::pair<std::int64_t, std::string>> seqs;
    for (const auto& n : names->names) {
        if (auto seq = coord::paths::parse_sequence(n, coord::paths::unclean_receipt_prefix)) {
            seqs.emplace_back(*seq, parent + "/" + n);
        }
    }
    std::sort(seqs.begin(), seqs.end());
    std::vector<std::string> paths;
    for (auto& [seq, path] : seqs) {
        paths.push_back(std::move(path));
    }
    const zk::watch_factory no_watch;
    auto data = co_await zk::get_many(zk, paths, cfg.zk_window, no_watch);
    if (generation != gen) {
        co_return;
    }
    std::vector<coord::unclean_receipt> receipts;
    std::vector<std::vector<coord::op>> drops;
    coord::check_op fence{std::string(coord::paths::controller_epoch), ctx.epoch_version};
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (!data[i]) {
            continue;  // gone meanwhile
        }
        if (auto r = coord::decode_unclean_receipt(data[i]->data)) {
            receipts.push_back(std::move(*r));
        } else {
            GREGOR_LOG(controller_log, warn, "ignoring {}: {}", paths[i], r.err().to_string());
        }
        drops.push_back({fence, coord::remove_op{paths[i], coord::any_version}});
    }
    auto dropped = co_await zk::multi_many(zk, drops, cfg.zk_window);
    if (generation != gen) {
        co_return;
    }
    for (const auto& r : dropped) {
        if (fenced_out(r)) {
            resign("/controller_epoch moved on: another controller was elected");
            co_return;
        }
    }
    for (const auto& r : receipts) {
        journal_receipt(r);
    }
}

void controller::impl::journal_receipt(const coord::unclean_receipt& r) {
    std::string why =
        r.takeover ? fmt::format(
                         "unclean election receipt: broker {} took over at its log end {} (high "
                         "watermark known there {}); records the previous leader acknowledged "
                         "from offset {} on are lost",
                         r.broker(), r.log_end_offset(), r.high_watermark(), r.log_end_offset())
                   : fmt::format(
                         "unclean election receipt: broker {} cut {} acknowledged records [{}, {}) "
                         "(its log ended at {}) to follow leader epoch {}",
                         r.broker(), r.high_watermark() - r.truncated_to(), r.truncated_to(),
                         r.high_watermark(), r.log_end_offset(), r.leader_epoch());
    const partition_record* p = ctx.partition(r.tp);
    model::node_id leader = p != nullptr ? p->state.leader : model::no_node;
    std::vector<model::node_id> isr = p != nullptr ? p->state.isr : std::vector<model::node_id>{};
    decisions.add(decision{.seq = 0,
                           .time = cfg.now(),
                           .controller_epoch = ctx.epoch,
                           .topic = r.tp.topic,
                           .partition = r.tp.partition,
                           .old_leader = leader,
                           .new_leader = leader,
                           .old_isr = isr,
                           .new_isr = isr,
                           .leader_epoch = r.leader_epoch,
                           .unclean = false,
                           .reason = why,
                           .receipt = loss_receipt{r.broker, r.takeover, r.log_end_offset,
                                                   r.high_watermark, r.truncated_to}});
    GREGOR_LOG(journal_log, err, "receipt topic={} partition={} leader_epoch={} {}", r.tp.topic,
               r.tp.partition(), r.leader_epoch(), why);
}

}  // namespace gregor::controller

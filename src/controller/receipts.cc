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
    // Named, not temporaries in the co_await: g++ 12 mishandles those.
    const std::string parent(coord::paths::unclean_receipts);
    const coord::watch_fn watch =
        watch_event("unclean_receipts", [self] { return self->on_unclean_receipts(); });
    auto notices = co_await take_notices(parent, coord::paths::unclean_receipt_prefix, watch);
    if (!notices) {
        co_return;
    }
    for (const auto& [path, data] : *notices) {
        if (auto r = coord::decode_unclean_receipt(data)) {
            journal_receipt(*r);
        } else {
            GREGOR_LOG(controller_log, warn, "ignoring {}: {}", path, r.err().to_string());
        }
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

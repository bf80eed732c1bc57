#include "broker/znode_notifier.h"

#include "broker/logger.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"

namespace gregor::broker {

znode_notifier::znode_notifier(asio::io_context& ioc, coord::client& zk,
                               std::chrono::milliseconds backoff)
    : state_(std::make_shared<state>(ioc, zk, backoff)) {}

znode_notifier::~znode_notifier() {
    state_->stopped = true;
}

void znode_notifier::notify(std::string prefix, std::string data, std::string what) {
    if (state_->pending >= pending_max) {
        GREGOR_LOG(broker_log, warn, "{} not sent to the controller: {} notices already pending",
                   what, state_->pending);
        return;
    }
    ++state_->pending;
    attempt(
        state_,
        std::make_shared<const notice>(notice{std::move(prefix), std::move(data), std::move(what)}),
        1);
}

void znode_notifier::log_dir_failed(model::node_id self) {
    notify(coord::paths::log_dir_event_sequential(), coord::encode_log_dir_event(self),
           "failed log dir");
}

// For the controller's journal; the broker's log already has the receipt.
void znode_notifier::unclean_receipt(model::node_id self, const model::topic_partition& tp,
                                     const replication::loss_receipt& r) {
    coord::unclean_receipt z{
        self, tp, r.leader_epoch, r.takeover, r.log_end, r.high_watermark, r.truncated_to};
    notify(coord::paths::unclean_receipt_sequential(), coord::encode_unclean_receipt(z),
           fmt::format("unclean election receipt of {}", tp));
}

void znode_notifier::attempt(const std::shared_ptr<state>& s, std::shared_ptr<const notice> n,
                             int attempt_no) {
    if (s->stopped) {
        return;
    }
    s->zk.create(n->prefix, n->data, coord::create_mode::persistent_sequential,
                 [s, n, attempt_no](result<std::string> r) {
                     if (s->stopped) {
                         return;
                     }
                     if (r) {
                         --s->pending;
                         ++s->created;
                         GREGOR_LOG(broker_log, warn, "told the controller of the {} through {}",
                                    n->what, *r);
                         return;
                     }
                     if (attempt_no >= attempts_max) {
                         --s->pending;
                         GREGOR_LOG(broker_log, err, "giving up on the {} after {} attempts: {}",
                                    n->what, attempt_no, r.err().to_string());
                         return;
                     }
                     auto timer = std::make_shared<asio::steady_timer>(s->ioc, s->backoff);
                     timer->async_wait([s, n, attempt_no, timer](const boost::system::error_code&) {
                         attempt(s, n, attempt_no + 1);
                     });
                 });
}

}  // namespace gregor::broker

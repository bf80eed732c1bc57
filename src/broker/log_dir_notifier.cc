#include "broker/log_dir_notifier.h"

#include "broker/logger.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"

namespace gregor::broker {

log_dir_notifier::log_dir_notifier(asio::io_context& ioc, coord::client& zk, model::node_id self,
                                   std::chrono::milliseconds backoff)
    : state_(std::make_shared<state>(ioc, zk, self, backoff)) {}

log_dir_notifier::~log_dir_notifier() {
    state_->stopped = true;
}

void log_dir_notifier::notify() {
    if (state_->pending >= pending_max) {
        GREGOR_LOG(broker_log, warn, "log dir event not queued: {} already pending",
                   state_->pending);
        return;
    }
    ++state_->pending;
    attempt(state_, 1);
}

void log_dir_notifier::attempt(const std::shared_ptr<state>& s, int attempt_no) {
    if (s->stopped) {
        return;
    }
    s->zk.create(coord::paths::log_dir_event_sequential(), coord::encode_log_dir_event(s->self),
                 coord::create_mode::persistent_sequential,
                 [s, attempt_no](result<std::string> r) {
                     if (s->stopped) {
                         return;
                     }
                     if (r) {
                         --s->pending;
                         ++s->created;
                         GREGOR_LOG(broker_log, warn, "told the controller of the failed log "
                                    "dir through {}", *r);
                         return;
                     }
                     if (attempt_no >= attempts_max) {
                         --s->pending;
                         GREGOR_LOG(broker_log, err, "giving up on the log dir event after {} "
                                    "attempts: {}", attempt_no, r.err().to_string());
                         return;
                     }
                     auto timer = std::make_shared<asio::steady_timer>(s->ioc, s->backoff);
                     timer->async_wait([s, attempt_no, timer](const boost::system::error_code&) {
                         attempt(s, attempt_no + 1);
                     });
                 });
}

}  // namespace gregor::broker

#include "broker/replica_manager.h"

#include "broker/logger.h"

#include <algorithm>

namespace gregor::broker {

using model::kafka_error;

replica_manager::replica_manager(model::node_id self, storage::log_manager& logs)
    : self_(self), logs_(logs) {}

kafka_error replica_manager::check_control_request(model::controller_epoch controller_epoch,
                                                   model::broker_epoch requested,
                                                   model::broker_epoch ours) {
    if (controller_epoch < controller_epoch_) {
        return kafka_error::stale_controller_epoch;
    }
    // A larger epoch is accepted: the controller may see our new registration first.
    if (requested != model::no_broker_epoch && requested < ours) {
        return kafka_error::stale_broker_epoch;
    }
    controller_epoch_ = controller_epoch;
    return kafka_error::none;
}

kafka_error replica_manager::apply(const partition_assignment& a, model::timestamp_ms now) {
    if (std::find(a.replicas.begin(), a.replicas.end(), self_) == a.replicas.end()) {
        return kafka_error::unknown_topic_or_partition;
    }
    auto it = replicas_.find(a.tp);
    if (it != replicas_.end() && a.leader_epoch <= it->second.leader_epoch) {
        GREGOR_LOG(broker_log, info, "ignoring state of {}: leader epoch {} is not newer than {}",
                   a.tp, a.leader_epoch(), it->second.leader_epoch());
        return kafka_error::stale_controller_epoch;
    }
    storage::log* log = logs_.get(a.tp);
    if (log == nullptr) {
        auto created = logs_.get_or_create(a.tp, now);
        if (!created) {
            GREGOR_LOG(broker_log, err, "cannot create the log of {}: {}", a.tp,
                       created.err().to_string());
            return kafka_error::kafka_storage_error;
        }
        log = *created;
    }
    replica_state& r = replicas_[a.tp];
    r.leader = a.leader;
    r.leader_epoch = a.leader_epoch;
    r.isr = a.isr;
    r.replicas = a.replicas;
    r.log = log;
    if (a.leader == self_) {
        log->assign_epoch(a.leader_epoch, log->log_end_offset());
    }
    GREGOR_LOG(broker_log, info, "{} {}: leader {} epoch {} isr [{}]",
               a.leader == self_ ? "leading" : "following", a.tp, a.leader(), a.leader_epoch(),
               fmt::join(a.isr, ","));
    return kafka_error::none;
}

kafka_error replica_manager::stop(const model::topic_partition& tp, model::leader_epoch epoch,
                                  bool remove_log) {
    auto it = replicas_.find(tp);
    if (it != replicas_.end() && epoch() >= 0 && epoch < it->second.leader_epoch) {
        return kafka_error::fenced_leader_epoch;
    }
    if (it != replicas_.end()) {
        replicas_.erase(it);
    }
    if (remove_log && logs_.get(tp) != nullptr) {
        auto removed = logs_.remove(tp);
        if (!removed) {
            GREGOR_LOG(broker_log, err, "cannot delete the log of {}: {}", tp,
                       removed.err().to_string());
            return kafka_error::kafka_storage_error;
        }
    }
    GREGOR_LOG(broker_log, info, "stopped replica {}{}", tp, remove_log ? " (deleted)" : "");
    return kafka_error::none;
}

const replica_state* replica_manager::replica(const model::topic_partition& tp) const {
    auto it = replicas_.find(tp);
    return it == replicas_.end() ? nullptr : &it->second;
}

storage::log* replica_manager::leader_log(const model::topic_partition& tp) const {
    const replica_state* r = replica(tp);
    return r != nullptr && r->leader == self_ ? r->log : nullptr;
}

std::uint64_t replica_manager::wait_for_append(std::function<void()> fn) {
    std::uint64_t id = next_waiter_++;
    waiters_.emplace(id, std::move(fn));
    return id;
}

void replica_manager::cancel_wait(std::uint64_t id) {
    waiters_.erase(id);
}

void replica_manager::notify_append() {
    auto waiting = std::move(waiters_);
    waiters_.clear();
    for (auto& [id, fn] : waiting) {
        fn();
    }
}

}  // namespace gregor::broker

#include "broker/replica_manager.h"

#include "broker/logger.h"

#include <algorithm>

namespace gregor::broker {

using model::kafka_error;

replica_manager::replica_manager(model::node_id self, storage::log_manager& logs,
                                 config_source configs, replication::partition::liveness alive)
    : self_(self), logs_(logs), configs_(std::move(configs)), alive_(std::move(alive)) {
    if (!configs_) {
        configs_ = [](const std::string&) { return replication::replication_config{}; };
    }
}

kafka_error replica_manager::check_control_request(model::controller_epoch controller_epoch,
                                                   model::broker_epoch requested,
                                                   model::broker_epoch ours) {
    if (controller_epoch < controller_epoch_) {
        return kafka_error::stale_controller_epoch;
    }
    // A larger epoch is accepted: the controller may see our new registration first. Before
    // this process has registered it knows no epoch of its own, and a request stamped with
    // one was meant for an earlier run of this broker (a restart while the dead run's
    // registration lingers, which Kafka avoids by registering before it serves): refused,
    // so that the controller's channel sends again once it knows this run.
    if (requested != model::no_broker_epoch &&
        (requested < ours || ours == model::no_broker_epoch)) {
        return kafka_error::stale_broker_epoch;
    }
    controller_epoch_ = controller_epoch;
    return kafka_error::none;
}

kafka_error replica_manager::apply(const partition_assignment& a, model::timestamp_ms now) {
    if (std::find(a.replicas.begin(), a.replicas.end(), self_) == a.replicas.end()) {
        return kafka_error::unknown_topic_or_partition;
    }
    if (logs_.offline(a.tp)) {
        return kafka_error::kafka_storage_error;
    }
    auto it = replicas_.find(a.tp);
    if (it != replicas_.end() && a.leader_epoch <= it->second->state().leader_epoch) {
        GREGOR_LOG(broker_log, info, "ignoring state of {}: leader epoch {} is not newer than {}",
                   a.tp, a.leader_epoch(), it->second->state().leader_epoch());
        return kafka_error::stale_controller_epoch;
    }
    if (it == replicas_.end()) {
        storage::log* log = logs_.get(a.tp);
        if (log == nullptr) {
            // Without isNew a missing log may sit in an offline dir: never start it empty.
            auto created = logs_.get_or_create(a.tp, now, a.is_new);
            if (!created) {
                GREGOR_LOG(broker_log, err, "cannot create the log of {}: {}", a.tp,
                           created.err().to_string());
                return kafka_error::kafka_storage_error;
            }
            log = *created;
        }
        model::offset hw = logs_.replication_offset(a.tp).value_or(model::offset{0});
        auto p = std::make_unique<replication::partition>(self_, *log, hw, configs_(a.tp.topic),
                                                          alive_);
        it = replicas_.emplace(a.tp, std::move(p)).first;
        ++generation_;
    }
    changes_.push(a.tp);
    replication::partition_state s{a.leader, a.leader_epoch, a.partition_epoch,
                                   a.isr,    a.replicas,     a.recovering};
    if (a.leader == self_) {
        it->second->become_leader(s, now);
        forward_receipts(a.tp);
        if (recent_.size() == recent_leaderships_max) {
            recent_.pop_front();
        }
        recent_.push_back({a.tp, std::chrono::steady_clock::now(), a.replicas});
    } else {
        it->second->become_follower(s, now);
    }
    GREGOR_LOG(broker_log, info, "{} {}: leader {} epoch {} isr [{}] high watermark {}",
               a.leader == self_ ? "leading" : "following", a.tp, a.leader(), a.leader_epoch(),
               fmt::join(a.isr, ","), it->second->high_watermark()());
    return kafka_error::none;
}

kafka_error replica_manager::stop(const model::topic_partition& tp, model::leader_epoch epoch,
                                  bool remove_log) {
    auto it = replicas_.find(tp);
    if (it != replicas_.end() && epoch() >= 0 && epoch < it->second->state().leader_epoch) {
        return kafka_error::fenced_leader_epoch;
    }
    if (it != replicas_.end()) {
        replicas_.erase(it);  // its log keeps the high watermark (replication_offset)
        ++generation_;
        changes_.push(tp);
        isr_changes_.erase(tp);
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

void replica_manager::take_offline(const std::vector<model::topic_partition>& partitions) {
    for (const auto& tp : partitions) {
        if (replicas_.erase(tp) > 0) {
            ++generation_;
            changes_.push(tp);
            GREGOR_LOG(broker_log, err, "replica {} is offline: its log dir failed", tp);
        }
        isr_changes_.erase(tp);
    }
    notify();
}

void replica_manager::forward_receipts(const model::topic_partition& tp) {
    replication::partition* p = partition(tp);
    if (p == nullptr) {
        return;
    }
    for (const auto& r : p->take_loss_receipts()) {
        if (on_receipt_) {
            on_receipt_(tp, r);
        }
    }
}

replication::partition* replica_manager::partition(const model::topic_partition& tp) const {
    auto it = replicas_.find(tp);
    return it == replicas_.end() ? nullptr : it->second.get();
}

replication::partition* replica_manager::leader(const model::topic_partition& tp) const {
    replication::partition* p = partition(tp);
    return p != nullptr && p->is_leader() ? p : nullptr;
}

void replica_manager::for_each(const std::function<void(replication::partition&)>& fn) const {
    for (const auto& [tp, p] : replicas_) {
        fn(*p);
    }
}

void replica_manager::reload_configs() {
    for (auto& [tp, p] : replicas_) {
        p->set_config(configs_(tp.topic));
    }
    logs_.reload_configs();
}

std::uint64_t replica_manager::wait_for_change(std::function<void()> fn) {
    std::uint64_t id = next_waiter_++;
    waiters_.emplace(id, std::move(fn));
    return id;
}

void replica_manager::cancel_wait(std::uint64_t id) {
    waiters_.erase(id);
}

bool replica_manager::lacks_recent_leadership(
    model::node_id follower, const std::function<bool(const model::topic_partition&)>& fetched,
    std::chrono::steady_clock::time_point now) {
    while (!recent_.empty() && now - recent_.front().since >= recent_leadership_window) {
        recent_.pop_front();
    }
    return std::any_of(recent_.begin(), recent_.end(), [&](const recent_leadership& r) {
        return std::find(r.replicas.begin(), r.replicas.end(), follower) != r.replicas.end() &&
               leader(r.tp) != nullptr && !fetched(r.tp);
    });
}

void replica_manager::notify() {
    auto waiting = std::move(waiters_);
    waiters_.clear();
    for (auto& [id, fn] : waiting) {
        fn();
    }
}

}  // namespace gregor::broker

// log_dir_notifier: tells the controller that a log dir of this broker went offline.
//
// Kafka's ZooKeeper mode has no request for this: the broker creates a persistent-sequential
// `/log_dir_event_notification/log_dir_event_<n>` holding `{"version":1,"broker":N,"event":1}`
// and the controller, watching the parent's children, sends this broker a LeaderAndIsr for
// every replica it holds; the replicas of offline dirs answer KAFKA_STORAGE_ERROR and the
// controller takes them offline. One notification per failed dir is enough (the controller
// asks about every replica of the broker). While ZooKeeper is away the create is retried
// with backoff, at most `attempts_max` times per notification, and at most
// `pending_max` notifications wait at once (more dir failures than that are folded
// into the pending ones: each one makes the controller re-check every replica).
// Owned by the broker's loop; the client must outlive it.
#pragma once

#include "coord/client.h"
#include "model/fundamental.h"
#include "net/asio.h"

#include <chrono>
#include <memory>

namespace gregor::broker {

namespace asio = boost::asio;

class log_dir_notifier {
public:
    static constexpr int attempts_max = 60;
    static constexpr int pending_max = 4;

    log_dir_notifier(asio::io_context& ioc, coord::client& zk, model::node_id self,
                     std::chrono::milliseconds backoff = std::chrono::milliseconds(500));
    ~log_dir_notifier();
    log_dir_notifier(const log_dir_notifier&) = delete;
    log_dir_notifier& operator=(const log_dir_notifier&) = delete;

    // Creates one notification znode, retrying in the background.
    void notify();
    // Notifications created so far (tests).
    int created() const { return state_->created; }

private:
    struct state {
        state(asio::io_context& i, coord::client& z, model::node_id s,
              std::chrono::milliseconds b)
            : ioc(i), zk(z), self(s), backoff(b) {}
        asio::io_context& ioc;
        coord::client& zk;
        model::node_id self;
        std::chrono::milliseconds backoff;
        int pending = 0;
        int created = 0;
        bool stopped = false;
    };
    static void attempt(const std::shared_ptr<state>& s, int attempt_no);
    std::shared_ptr<state> state_;
};

}  // namespace gregor::broker

// znode_notifier: a broker's notices to the controller through ZooKeeper.
//
// Kafka's ZooKeeper mode has no request for some things a broker must tell the controller:
// the broker creates a persistent-sequential znode, and the controller, watching the
// parent's children, reads and deletes it. Two kinds go through here:
//   - a failed log dir: `/log_dir_event_notification/log_dir_event_<n>` holding
//     `{"version":1,"broker":N,"event":1}` (Kafka's); the controller then sends this broker
//     a LeaderAndIsr for every replica it holds, and the replicas of offline dirs answer
//     KAFKA_STORAGE_ERROR;
//   - the receipt of an unclean election (gregor's own, `/gregor/unclean_receipts`, see
//     coord::unclean_receipt), which the controller adds to its decision journal.
// While ZooKeeper is away a create is retried with backoff, at most `attempts_max` times,
// and at most `pending_max` notices wait at once; one more is dropped with a log line (a
// log dir event is about every replica of the broker, so the ones pending cover it; a
// receipt is also in the broker's log). Owned by the broker's loop; the client must
// outlive it.
#pragma once

#include "coord/client.h"
#include "model/fundamental.h"
#include "net/asio.h"
#include "replication/partition.h"

#include <chrono>
#include <memory>
#include <string>

namespace gregor::broker {

namespace asio = boost::asio;

class znode_notifier {
public:
    static constexpr int attempts_max = 60;
    static constexpr int pending_max = 64;

    znode_notifier(asio::io_context& ioc, coord::client& zk,
                   std::chrono::milliseconds backoff = std::chrono::milliseconds(500));
    ~znode_notifier();
    znode_notifier(const znode_notifier&) = delete;
    znode_notifier& operator=(const znode_notifier&) = delete;

    // Creates a persistent-sequential znode `prefix`<n> holding `data`, retrying in the
    // background; `what` names it in log lines.
    void notify(std::string prefix, std::string data, std::string what);
    // The two notices: a log dir of broker `self` failed; a replica of `self` made a receipt.
    void log_dir_failed(model::node_id self);
    void unclean_receipt(model::node_id self, const model::topic_partition& tp,
                         const replication::loss_receipt& r);
    // Notices created so far (tests).
    int created() const { return state_->created; }

private:
    struct notice {
        std::string prefix;
        std::string data;
        std::string what;
    };
    struct state {
        state(asio::io_context& i, coord::client& z, std::chrono::milliseconds b)
            : ioc(i), zk(z), backoff(b) {}
        asio::io_context& ioc;
        coord::client& zk;
        std::chrono::milliseconds backoff;
        int pending = 0;
        int created = 0;
        bool stopped = false;
    };
    static void attempt(const std::shared_ptr<state>& s, std::shared_ptr<const notice> n,
                        int attempt_no);
    std::shared_ptr<state> state_;
};

}  // namespace gregor::broker

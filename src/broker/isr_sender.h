// isr_sender: the leader's half of ISR changes (Kafka's AlterPartitionManager).
//
// Every replica.lag.time.max.ms / 2 it asks each led partition to propose a shrink (ISR
// members not caught up for replica.lag.time.max.ms); expansions are proposed by the fetch
// path as followers catch up. Proposals are sent to the controller in one AlterPartition
// (v1) at a time, as soon as there is one; the answer commits each partition's new ISR
// (and partition epoch) or refuses it, and a refused change is proposed again when still
// warranted. When this broker is the active controller the request goes to it directly;
// otherwise over TCP to the controller the metadata cache names. A request that gets no
// answer, or is refused as a whole (NOT_CONTROLLER, STALE_BROKER_EPOCH), is sent again after
// a 500 ms rest, as Kafka's AlterPartitionManager does: the controller may have written it
// (a retry of what is written is answered with it). After a refused partition the sender
// rests 100 ms. Loop thread only.
#pragma once

#include "broker/metadata_cache.h"
#include "broker/replica_manager.h"
#include "net/asio.h"
#include "protocol/messages/alter_partition.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gregor::controller {
class controller;
}

namespace gregor::broker {

namespace asio = boost::asio;

// Told of every committed ISR change of a led partition (sizes before and after, and the
// replicas a shrink removed with why).
using isr_committed_fn =
    std::function<void(std::size_t, std::size_t, const std::vector<replication::isr_leave>&)>;

// The AlterPartition request (broker id and epoch left to the caller) for the proposals of
// `retry` still in flight (their partition still led in that leader epoch with the change
// pending), then those waiting in `tps` (taken from their partitions), grouped by topic.
protocol::alter_partition_request build_alter_partition(
    replica_manager& replicas, const std::optional<protocol::alter_partition_request>& retry,
    const std::set<model::topic_partition>& tps);

// Commits or refuses each proposal of `req` by the controller's `answer` (proposals it does
// not mention are refused). Returns true iff it refused any.
bool apply_alter_partition_answer(replica_manager& replicas,
                                  const protocol::alter_partition_request& req,
                                  const protocol::alter_partition_response& answer,
                                  const isr_committed_fn& on_committed);

struct isr_sender_settings {
    model::node_id self = model::no_node;
    std::string listener;                        // inter.broker.listener.name
    std::chrono::milliseconds lag_time_max{30000};  // replica.lag.time.max.ms
    std::chrono::milliseconds request_timeout{30000};
    isr_committed_fn on_committed;
};

class isr_sender {
public:
    // `controller` is this broker's controller (active or not), `broker_epoch` our current
    // registration epoch; both are read at each send.
    isr_sender(asio::io_context& ioc, replica_manager& replicas, const metadata_cache& cache,
               isr_sender_settings settings, std::function<model::timestamp_ms()> now,
               std::function<controller::controller*()> controller,
               std::function<model::broker_epoch()> broker_epoch);
    ~isr_sender();
    isr_sender(const isr_sender&) = delete;
    isr_sender& operator=(const isr_sender&) = delete;

    void start();
    // A proposal is waiting (replica_manager::mark_isr_change was called).
    void wake();
    void stop();

private:
    struct state;
    static asio::awaitable<void> run(isr_sender* self, std::shared_ptr<state> st);
    asio::awaitable<bool> send_once();

    asio::io_context& ioc_;
    replica_manager& replicas_;
    const metadata_cache& cache_;
    isr_sender_settings settings_;
    std::function<model::timestamp_ms()> now_;
    std::function<controller::controller*()> controller_;
    std::function<model::broker_epoch()> broker_epoch_;
    std::shared_ptr<state> state_;
};

}  // namespace gregor::broker

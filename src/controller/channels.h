// broker_channels: how the controller reaches brokers (LeaderAndIsr, UpdateMetadata,
// StopReplica).
//
// One channel per live broker, as Kafka's ControllerChannelManager: requests to a broker go
// out one at a time in the order sent, each retried with backoff until the broker answers
// or is removed (then its queued requests are dropped: the controller re-sends fresh state
// when the broker comes back). The controller encodes whole request messages (header +
// body, no size prefix) and decodes the responses itself, so implementations only move
// bytes: the broker's uses net::client over TCP, tests and the simulator use an in-memory
// one that can delay, reorder and drop. Loop thread only.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"

#include <cstdint>
#include <functional>
#include <string>

namespace gregor::controller {

class broker_channels {
public:
    // The response message (correlation id first), or an error when the broker was removed
    // or the request could not be delivered.
    using completion = std::function<void(result<bytes>)>;

    virtual ~broker_channels() = default;

    // Starts (or re-targets) the channel to `id` at host:port.
    virtual void add_broker(model::node_id id, const std::string& host, std::int32_t port) = 0;
    // Stops the channel: queued and in-flight requests complete with an error, in order.
    virtual void remove_broker(model::node_id id) = 0;
    // Queues `message` for `id`. REQUIRES: the broker was added and not removed.
    virtual void send(model::node_id id, bytes message, completion done) = 0;
    // Requests queued or in flight to `id` (bounded by the implementation).
    virtual std::size_t pending(model::node_id id) const = 0;

    // Asks to hear when a channel's broker process is provably gone: its host refused a new
    // connection to the listener after an established connection to it closed (the kernel of
    // a live host answers so only when nothing listens there; a paused, slow or unreachable
    // broker never causes it). Set once; `gone` runs on the loop with the broker's id, for
    // the run the channel was added for. Implementations that cannot tell never call it.
    using process_gone = std::function<void(model::node_id)>;
    virtual void watch_processes(process_gone gone) { (void)gone; }
};

}  // namespace gregor::controller

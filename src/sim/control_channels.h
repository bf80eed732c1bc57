// control_channels: a simulated broker's controller channels (controller::broker_channels),
// as Kafka's ControllerChannelManager and the broker's controller_channels behave: per
// target broker, requests go out one at a time in the order sent; the simulation's network
// resends a lost one until the broker answers (cluster::deliver_control), and removing a
// broker fails what is queued for it. Loop thread only.
#pragma once

#include "controller/channels.h"
#include "model/fundamental.h"

#include <deque>
#include <map>
#include <memory>

namespace gregor::sim {

class cluster;

class control_channels final : public controller::broker_channels {
public:
    control_channels(cluster& c, model::node_id self) : cluster_(c), self_(self) {}
    ~control_channels() override;
    control_channels(const control_channels&) = delete;
    control_channels& operator=(const control_channels&) = delete;

    void add_broker(model::node_id id, const std::string& host, std::int32_t port) override;
    void remove_broker(model::node_id id) override;
    void send(model::node_id id, bytes message, completion done) override;
    std::size_t pending(model::node_id id) const override;
    void watch_processes(process_gone gone) override { gone_ = std::move(gone); }

    // The process watch of the channel to `id` (broker/process_watch.h): empty without a
    // channel, expired once the channel is removed or re-added.
    std::weak_ptr<int> watch_of(model::node_id id) const;
    // The watch proved `id`'s process gone: tells the controller (if it asked).
    void report_gone(model::node_id id) const;

private:
    struct queued {
        std::shared_ptr<bytes> message;
        completion done;
    };
    struct link {
        std::deque<queued> queue;
        bool busy = false;
        // Reset when the link is removed: a delivery in progress then completes nothing.
        std::shared_ptr<int> alive = std::make_shared<int>(0);
    };
    void pump(model::node_id id);

    cluster& cluster_;
    model::node_id self_;
    std::map<model::node_id, link> links_;
    process_gone gone_;
};

}  // namespace gregor::sim

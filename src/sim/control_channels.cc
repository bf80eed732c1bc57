#include "sim/control_channels.h"

#include "coord/errc.h"
#include "sim/cluster.h"

namespace gregor::sim {

control_channels::~control_channels() = default;

void control_channels::add_broker(model::node_id id, const std::string&, std::int32_t) {
    links_.try_emplace(id);
}

void control_channels::remove_broker(model::node_id id) {
    auto it = links_.find(id);
    if (it == links_.end()) {
        return;
    }
    auto queue = std::move(it->second.queue);
    links_.erase(it);
    for (auto& q : queue) {
        q.done(error(coord::errc::closed, "broker removed"));
    }
}

void control_channels::send(model::node_id id, bytes message, completion done) {
    auto it = links_.find(id);
    if (it == links_.end()) {
        done(error(coord::errc::closed, "no channel"));
        return;
    }
    it->second.queue.push_back({std::make_shared<bytes>(std::move(message)), std::move(done)});
    pump(id);
}

std::weak_ptr<int> control_channels::watch_of(model::node_id id) const {
    auto it = links_.find(id);
    return it == links_.end() ? std::weak_ptr<int>() : std::weak_ptr<int>(it->second.alive);
}

void control_channels::report_gone(model::node_id id) const {
    if (gone_ && links_.contains(id)) {
        gone_(id);
    }
}

std::size_t control_channels::pending(model::node_id id) const {
    auto it = links_.find(id);
    return it == links_.end() ? 0 : it->second.queue.size();
}

void control_channels::pump(model::node_id id) {
    auto it = links_.find(id);
    if (it == links_.end() || it->second.busy || it->second.queue.empty()) {
        return;
    }
    link& l = it->second;
    l.busy = true;
    std::weak_ptr<int> alive = l.alive;
    cluster_.deliver_control(
        self_, id, l.queue.front().message,
        [this, id, alive](result<bytes> answer) {
            if (alive.expired()) {
                return;  // removed meanwhile: its queue already failed
            }
            link& me = links_.at(id);
            queued q = std::move(me.queue.front());
            me.queue.pop_front();
            me.busy = false;
            q.done(std::move(answer));
            pump(id);
        },
        alive);
}

}  // namespace gregor::sim

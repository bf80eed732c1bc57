#include "broker/controller_channels.h"

#include "broker/logger.h"
#include "net/client.h"
#include "net/errc.h"

namespace gregor::broker {

using namespace std::chrono_literals;

struct controller_channels::channel {
    channel(asio::io_context& ioc, model::node_id i) : id(i), backoff(ioc) {}
    model::node_id id;
    std::unique_ptr<net::client> client;
    struct item {
        bytes message;
        completion done;
    };
    std::deque<item> queue;
    bool busy = false;
    bool removed = false;
    std::chrono::milliseconds delay = 100ms;
    asio::steady_timer backoff;
};

controller_channels::~controller_channels() {
    for (auto& [id, ch] : channels_) {
        ch->removed = true;
        ch->backoff.cancel();
        ch->client->close();
    }
}

void controller_channels::add_broker(model::node_id id, const std::string& host,
                                     std::int32_t port) {
    remove_broker(id);
    auto ch = std::make_shared<channel>(ioc_, id);
    net::client_config cc;
    cc.host = host;
    cc.port = static_cast<std::uint16_t>(port);
    cc.client_id = "controller-to-broker-" + std::to_string(id());
    cc.in_flight_requests_max = 1;
    cc.reconnect_backoff = 100ms;
    cc.reconnect_backoff_max = 2000ms;
    ch->client = std::make_unique<net::client>(ioc_, cc);
    channels_[id] = std::move(ch);
    if (watch_) {
        watch_->watch(id, host, static_cast<std::uint16_t>(port));
    }
}

void controller_channels::watch_processes(process_gone gone) {
    // The controller asks before it adds any channel (it adds them only once elected).
    watch_ = std::make_unique<process_watch>(ioc_, std::move(gone));
}

void controller_channels::remove_broker(model::node_id id) {
    if (watch_) {
        watch_->unwatch(id);
    }
    auto it = channels_.find(id);
    if (it == channels_.end()) {
        return;
    }
    std::shared_ptr<channel> ch = std::move(it->second);
    channels_.erase(it);
    ch->removed = true;
    ch->backoff.cancel();
    ch->client->close();
    std::deque<channel::item> dropped = std::move(ch->queue);
    for (auto& item : dropped) {
        asio::post(ioc_, [done = std::move(item.done)] {
            done(error(net::errc::client_closed, "broker removed from the controller's channels"));
        });
    }
}

void controller_channels::send(model::node_id id, bytes message, completion done) {
    auto it = channels_.find(id);
    if (it == channels_.end()) {
        asio::post(ioc_, [done = std::move(done)] {
            done(error(net::errc::client_closed, "no channel to the broker"));
        });
        return;
    }
    auto& ch = it->second;
    if (ch->queue.size() >= queued_max) {
        GREGOR_LOG_RATE_LIMITED(broker_log, err, std::chrono::seconds(5),
                                "controller channel to broker {} is full ({} requests); dropping",
                                id(), ch->queue.size());
        asio::post(ioc_, [done = std::move(done)] {
            done(error(net::errc::queue_full, "controller channel full"));
        });
        return;
    }
    ch->queue.push_back({std::move(message), std::move(done)});
    pump(ch);
}

void controller_channels::pump(const std::shared_ptr<channel>& ch) {
    if (ch->busy || ch->removed || ch->queue.empty()) {
        return;
    }
    ch->busy = true;
    ch->client->send(ch->queue.front().message, [this, ch](result<bytes> r) {
        if (ch->removed) {
            return;
        }
        if (!r) {
            GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(5),
                                    "controller request to broker {} failed ({}); retrying",
                                    ch->id(), r.err().to_string());
            ch->backoff.expires_after(ch->delay);
            ch->delay = std::min<std::chrono::milliseconds>(ch->delay * 2, 2000ms);
            ch->backoff.async_wait([this, ch](boost::system::error_code ec) {
                if (ec || ch->removed) {
                    return;
                }
                ch->busy = false;
                pump(ch);
            });
            return;
        }
        ch->delay = 100ms;
        channel::item item = std::move(ch->queue.front());
        ch->queue.pop_front();
        ch->busy = false;
        item.done(std::move(r));
        if (!ch->removed) {
            pump(ch);
        }
    });
}

std::size_t controller_channels::pending(model::node_id id) const {
    auto it = channels_.find(id);
    return it == channels_.end() ? 0 : it->second->queue.size();
}

}  // namespace gregor::broker

// controller_channels: the controller's connections to brokers, over TCP.
//
// Implements controller::broker_channels with one net::client per broker (one request in
// flight, as Kafka's controller-to-broker send threads). A request that fails to get an
// answer (connection refused, dropped, timed out) is sent again after a backoff that doubles
// from 100 ms up to 2 s, for as long as the broker stays in the channel set; remove_broker()
// drops everything queued for it. At most queued_max requests wait per broker; beyond that a
// request fails at once with net::errc::queue_full and an error line (the controller's
// per-round batching keeps this far from reached). With watch_processes(), each channel's
// broker is also watched by a process_watch. Loop thread only.
#pragma once

#include "broker/process_watch.h"
#include "controller/channels.h"
#include "net/asio.h"

#include <deque>
#include <map>
#include <memory>

namespace gregor::broker {

namespace asio = boost::asio;

class controller_channels final : public controller::broker_channels {
public:
    static constexpr std::size_t queued_max = 10'000;

    explicit controller_channels(asio::io_context& ioc) : ioc_(ioc) {}
    ~controller_channels() override;

    void add_broker(model::node_id id, const std::string& host, std::int32_t port) override;
    void remove_broker(model::node_id id) override;
    void send(model::node_id id, bytes message, completion done) override;
    std::size_t pending(model::node_id id) const override;
    void watch_processes(process_gone gone) override;

private:
    struct channel;
    void pump(const std::shared_ptr<channel>& ch);

    asio::io_context& ioc_;
    std::map<model::node_id, std::shared_ptr<channel>> channels_;
    std::unique_ptr<process_watch> watch_;  // set by watch_processes()
};

}  // namespace gregor::broker

#include "broker/producer_id_wiring.h"

#include "base/assert.h"
#include "broker/logger.h"
#include "coord/errc.h"
#include "producer/errc.h"

#include <chrono>

namespace gregor::broker {

producer_id_service::producer_id_service(asio::io_context& ioc, coord::client& zk,
                                         model::node_id self, producer::manager_config config)
    : self_(self), manager_(config), claimer_(zk, self), timer_(ioc) {}

producer_id_service::~producer_id_service() {
    claimer_.cancel();
}

void producer_id_service::start() {
    GREGOR_ASSERT(!started_, "producer_id_service::start called twice");
    started_ = true;
    run(manager_.start(producer::clock::now()));
}

void producer_id_service::stop() {
    stopped_ = true;
    claimer_.cancel();
    timer_.cancel();
}

producer_id_service::outcome producer_id_service::next_id() {
    if (!started_ || stopped_) {
        return {model::kafka_error::coordinator_not_available, model::producer_id{-1}};
    }
    producer::allocation a = manager_.allocate(producer::clock::now());
    run(a.asks);
    return {a.error, a.id};
}

void producer_id_service::run(const producer::effects& asks) {
    for (const producer::effect& e : asks) {
        if (std::holds_alternative<producer::claim_block>(e)) {
            claim();
        } else {
            arm_timer(std::get<producer::wake_at>(e).at);
        }
    }
}

void producer_id_service::claim() {
    if (stopped_) {
        return;
    }
    claimer_.claim([this](result<producer::id_block> r) { on_claim_done(std::move(r)); });
}

void producer_id_service::on_claim_done(result<producer::id_block> r) {
    auto now = producer::clock::now();
    if (r) {
        GREGOR_LOG(broker_log, info, "claimed producer id block [{}, {}] for broker {}", r->first(),
                   r->last(), self_());
        run(manager_.on_claimed(*r, now));
        return;
    }
    if (r.code() == producer::errc::ids_exhausted) {
        GREGOR_LOG(broker_log, err,
                   "cannot claim a producer id block: {}; InitProducerId fails once this "
                   "broker's ids run out",
                   r.err().to_string());
        run(manager_.on_claim_failed(producer::claim_failure::exhausted, now));
        return;
    }
    if (r.code() == coord::errc::malformed_data) {
        GREGOR_LOG_RATE_LIMITED(broker_log, err, std::chrono::seconds(60),
                                "cannot claim a producer id block: {}", r.err().to_string());
    } else {
        GREGOR_LOG_RATE_LIMITED(broker_log, warn, std::chrono::seconds(10),
                                "cannot claim a producer id block (retrying): {}",
                                r.err().to_string());
    }
    run(manager_.on_claim_failed(producer::claim_failure::retriable, now));
}

void producer_id_service::arm_timer(producer::time_point at) {
    if (stopped_) {
        return;
    }
    timer_.expires_at(at);
    auto fired = [this, weak = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        if (ec || weak.expired() || stopped_) {
            return;  // cancelled (re-armed or stopped) or destroyed
        }
        run(manager_.on_time(producer::clock::now()));
    };
    timer_.async_wait(std::move(fired));
}

}  // namespace gregor::broker

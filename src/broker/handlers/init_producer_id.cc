#include "broker/handlers/init_producer_id.h"

#include "broker/producer_id_wiring.h"
#include "model/kafka_error.h"

#include <cstdint>

namespace gregor::broker {
namespace {

using model::kafka_error;

// Kafka's transaction.max.timeout.ms default; the key arrives with the transaction
// coordinator.
constexpr std::int32_t init_pid_transaction_timeout_max_ms = 900'000;
constexpr std::int64_t init_pid_no_producer_id = -1;
constexpr std::int16_t init_pid_no_epoch = -1;

protocol::init_producer_id_response init_pid_error(kafka_error e) {
    protocol::init_producer_id_response out;
    out.error_code = model::to_wire(e);
    out.producer_id = model::producer_id{init_pid_no_producer_id};
    out.producer_epoch = init_pid_no_epoch;
    return out;
}

// KafkaApis: a producer id without an epoch, or an epoch without an id, is malformed.
bool init_pid_half_given(const protocol::init_producer_id_request& req) {
    bool no_id = req.producer_id() == init_pid_no_producer_id;
    bool no_epoch = req.producer_epoch == init_pid_no_epoch;
    return no_id != no_epoch;
}

protocol::init_producer_id_response init_idempotent(services& s) {
    if (s.producer_ids == nullptr) {
        return init_pid_error(kafka_error::coordinator_not_available);
    }
    producer_id_service::outcome o = s.producer_ids->next_id();
    if (o.error != kafka_error::none) {
        return init_pid_error(o.error);
    }
    protocol::init_producer_id_response out;
    out.producer_id = o.id;
    out.producer_epoch = 0;
    return out;
}

// No transaction coordinator runs here yet. NOT_COORDINATOR is what Kafka's transaction
// state manager answers for an id whose partition this broker does not own; Java's
// TransactionManager and librdkafka both treat it (like COORDINATOR_NOT_AVAILABLE) as "look
// the coordinator up again": FindCoordinator, then retry.
protocol::init_producer_id_response init_transactional(
    const protocol::init_producer_id_request& req) {
    if (req.transactional_id->empty()) {
        return init_pid_error(kafka_error::invalid_request);
    }
    if (req.transaction_timeout_ms <= 0 ||
        req.transaction_timeout_ms > init_pid_transaction_timeout_max_ms) {
        return init_pid_error(kafka_error::invalid_transaction_timeout);
    }
    return init_pid_error(kafka_error::not_coordinator);
}

}  // namespace

handler_result<protocol::init_producer_id_response> handle(services& s, request_context& /*ctx*/,
                                                           protocol::init_producer_id_request req) {
    if (init_pid_half_given(req)) {
        co_return init_pid_error(kafka_error::invalid_request);
    }
    if (!req.transactional_id) {
        co_return init_idempotent(s);
    }
    co_return init_transactional(req);
}

}  // namespace gregor::broker

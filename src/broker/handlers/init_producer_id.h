// InitProducerId (v0-v5): a producer id for an idempotent producer, as Kafka 3.8 answers it
// in ZooKeeper mode. Rules, in Kafka's order:
//   - ProducerId and ProducerEpoch (v3+): exactly one of them -1 ⇒ INVALID_REQUEST(42).
//   - TransactionalId null (idempotent producer): a fresh id from this broker's block
//     (broker/producer_id_wiring.h) and epoch 0; ProducerId/ProducerEpoch and
//     TransactionTimeoutMs are ignored (librdkafka sends -1 for the timeout). While a block
//     is being claimed: COORDINATOR_LOAD_IN_PROGRESS(14), retriable. Without ZooKeeper (no
//     producer id service): COORDINATOR_NOT_AVAILABLE(15), retriable.
//   - TransactionalId empty ⇒ INVALID_REQUEST(42).
//   - TransactionalId set: TransactionTimeoutMs <= 0 or > transaction.max.timeout.ms
//     (900000) ⇒ INVALID_TRANSACTION_TIMEOUT(50); otherwise NOT_COORDINATOR(16), Kafka's
//     answer when this broker does not own the id's transaction state partition, until
//     transactions exist here.
// Any broker answers idempotent producers; nothing is written anywhere per request.
// Runs on the broker's loop; see broker/services.h for what it may use.
#pragma once

#include "broker/services.h"
#include "protocol/messages/init_producer_id.h"

namespace gregor::broker {

handler_result<protocol::init_producer_id_response> handle(services& s, request_context& ctx,
                                                           protocol::init_producer_id_request req);

}  // namespace gregor::broker

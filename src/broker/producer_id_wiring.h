// producer_id_service: the broker's producer id allocator behind InitProducerId.
//
// It drives the sans-IO producer::producer_id_manager on the broker's loop: each
// claim_block it asks for runs as one producer::block_claimer claim on the broker's
// ZooKeeper client (Kafka's compare-and-set at /latest_producer_id_block, in the broker
// itself as Kafka's ZooKeeper-mode ZkProducerIdManager does), and one timer follows its
// wake_at deadline. The app creates it once the broker is registered (the top-level paths,
// this znode among them, exist then) and the InitProducerId handler reaches it through
// services::producer_ids. It never waits: a request answers at once, with an id or with
// the manager's retriable COORDINATOR_LOAD_IN_PROGRESS while a block is being claimed, so
// a ZooKeeper outage gives clients retriable errors, never a hang. A restarted broker
// claims a new block (the rest of the old one is wasted, as in Kafka).
//
// Threading: the broker's loop only. The ZooKeeper client must outlive the service.
#pragma once

#include "model/fundamental.h"
#include "model/kafka_error.h"
#include "net/asio.h"
#include "producer/block_claim.h"
#include "producer/producer_id_manager.h"

#include <memory>

namespace gregor::broker {

namespace asio = boost::asio;

class producer_id_service {
public:
    // A fresh producer id, or the Kafka error to answer with instead.
    struct outcome {
        model::kafka_error error = model::kafka_error::none;
        model::producer_id id{-1};
    };

    // REQUIRES: `zk` outlives the service; `self` is this broker's id (written into the
    // blocks it claims).
    producer_id_service(asio::io_context& ioc, coord::client& zk, model::node_id self,
                        producer::manager_config config = {});
    ~producer_id_service();
    producer_id_service(const producer_id_service&) = delete;
    producer_id_service& operator=(const producer_id_service&) = delete;

    // Claims the first block. REQUIRES: called once.
    void start();
    // Drops the claim in flight and the timer (broker shutdown); requests then answer
    // COORDINATOR_NOT_AVAILABLE. Idempotent.
    void stop();

    // The next producer id: NONE and the id; COORDINATOR_LOAD_IN_PROGRESS while no block is
    // available (retriable); UNKNOWN_SERVER_ERROR once every id is allocated (logged as an
    // error); COORDINATOR_NOT_AVAILABLE before start() and after stop().
    outcome next_id();

    const producer::producer_id_manager& manager() const { return manager_; }

private:
    void run(const producer::effects& asks);
    void claim();
    void on_claim_done(result<producer::id_block> r);
    void arm_timer(producer::time_point at);

    model::node_id self_;
    producer::producer_id_manager manager_;
    producer::block_claimer claimer_;
    asio::steady_timer timer_;
    bool started_ = false;
    bool stopped_ = false;
    // Expires with the service, so a timer completion queued after destruction does nothing.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gregor::broker

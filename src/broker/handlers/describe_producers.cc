#include "broker/handlers/describe_producers.h"

#include "broker/handlers/leader_lookup.h"
#include "model/kafka_error.h"

namespace gregor::broker {
namespace {

using describe_producers_response = protocol::describe_producers_response;
using producers_partition =
    describe_producers_response::describe_producers_response_topic::
        describe_producers_response_partition;

// One partition: every producer its leader's log remembers, as Kafka lists them (expired
// and evicted producers are gone; a producer without a retained batch shows sequence -1).
producers_partition describe(const services& s, const model::topic_partition& tp) {
    producers_partition out;
    out.partition_index = tp.partition();
    auto [part, error] = lead(s, tp);
    if (part == nullptr) {
        out.error_code = model::to_wire(error);
        return out;
    }
    for (const storage::producer_entry* e : part->log().producers().entries()) {
        auto& p = out.active_producers.emplace_back();
        p.producer_id = e->id;
        p.producer_epoch = e->epoch;
        p.last_sequence = e->last_sequence();
        p.last_timestamp = e->last_timestamp();
        p.coordinator_epoch = e->coordinator_epoch;
        p.current_txn_start_offset = e->current_txn_first_offset();
    }
    return out;
}

}  // namespace

handler_result<describe_producers_response> handle(services& s, request_context& /*ctx*/,
                                                   protocol::describe_producers_request req) {
    describe_producers_response out;
    for (const auto& t : req.topics) {
        auto& rt = out.topics.emplace_back();
        rt.name = t.name;
        for (std::int32_t p : t.partition_indexes) {
            rt.partitions.push_back(describe(s, {t.name, model::partition_id(p)}));
        }
    }
    co_return out;
}

}  // namespace gregor::broker

#include "broker/handlers/offset_for_leader_epoch.h"

#include "broker/handlers/leader_lookup.h"
#include "model/kafka_error.h"

namespace gregor::broker {
namespace {

using offset_for_leader_epoch_response = protocol::offset_for_leader_epoch_response;
using epoch_end_offset =
    offset_for_leader_epoch_response::offset_for_leader_topic_result::epoch_end_offset;
using model::kafka_error;

// Kafka's answer: the largest epoch <= the requested one that this log knows, and where it
// ends (the start of the next epoch, or the log end offset for the latest); -1/-1 if the
// requested epoch is newer than all. Only the leader answers; CurrentLeaderEpoch fences.
epoch_end_offset end_of(services& s, const model::topic_partition& tp,
                        model::leader_epoch current, model::leader_epoch requested) {
    epoch_end_offset out;
    out.partition = tp.partition;
    auto [part, error] = lead(s, tp);
    if (part == nullptr) {
        out.error_code = model::to_wire(error);
        return out;
    }
    model::leader_epoch ours = part->state().leader_epoch;
    if (current != model::no_leader_epoch && current != ours) {
        out.error_code = model::to_wire(current < ours ? kafka_error::fenced_leader_epoch
                                                       : kafka_error::unknown_leader_epoch);
        return out;
    }
    storage::epoch_entry e =
        part->log().epochs().end_offset_for(requested, part->log().log_end_offset());
    out.leader_epoch = e.epoch;
    out.end_offset = e.start_offset;
    return out;
}

}  // namespace

handler_result<offset_for_leader_epoch_response> handle(
    services& s, request_context& /*ctx*/, protocol::offset_for_leader_epoch_request req) {
    offset_for_leader_epoch_response out;
    for (const auto& t : req.topics) {
        auto& rt = out.topics.emplace_back();
        rt.topic = t.topic;
        for (const auto& p : t.partitions) {
            rt.partitions.push_back(
                end_of(s, {t.topic, p.partition}, p.current_leader_epoch, p.leader_epoch));
        }
    }
    co_return out;
}

}  // namespace gregor::broker

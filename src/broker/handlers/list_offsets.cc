#include "broker/handlers/list_offsets.h"

#include "base/limits.h"
#include "model/kafka_error.h"
#include "model/record_batch.h"
#include "protocol/records/batch_records.h"

namespace gregor::broker {
namespace {

using list_offsets_response = protocol::list_offsets_response;
using offsets_partition_response =
    list_offsets_response::list_offsets_topic_response::list_offsets_partition_response;
using model::kafka_error;

constexpr model::timestamp_ms latest{-1};
constexpr model::timestamp_ms earliest{-2};

// The first record at or after `target` inside the batch the log found (Kafka answers with
// the exact record, not the batch). Returns nullopt if the batch cannot be read; the caller
// then falls back to the batch's base offset.
std::optional<std::pair<model::offset, model::timestamp_ms>> first_record_at(
    const storage::timestamp_lookup& found, model::timestamp_ms target) {
    auto data = found.batch.read_all();
    if (!data) {
        return std::nullopt;
    }
    auto header = model::parse_batch_header(*data, data->size());
    if (!header) {
        return std::nullopt;
    }
    auto batch =
        protocol::batch_records::open(*header, *data, limits::decompressed_batch_bytes_max);
    if (!batch) {
        return std::nullopt;
    }
    auto records = batch->records();
    while (true) {
        auto next = records.next();
        if (!next || !*next) {
            return std::nullopt;
        }
        if (batch->timestamp_of(**next) >= target) {
            return std::pair{batch->offset_of(**next), batch->timestamp_of(**next)};
        }
    }
}

// Consumers see the log up to the high watermark: "latest" is the high watermark for them
// (the log end offset only for a replica asking, replica_id >= 0).
offsets_partition_response lookup(services& s, const model::topic_partition& tp,
                                  model::timestamp_ms target, model::leader_epoch current_epoch,
                                  bool from_replica) {
    offsets_partition_response out;
    out.partition_index = tp.partition;
    replication::partition* part = s.replicas.leader(tp);
    if (s.replicas.offline(tp)) {
        out.error_code = model::to_wire(kafka_error::kafka_storage_error);
        return out;
    }
    if (part == nullptr) {
        bool known = s.cache.partition(tp) != nullptr || s.replicas.partition(tp) != nullptr;
        out.error_code = model::to_wire(known ? kafka_error::not_leader_or_follower
                                              : kafka_error::unknown_topic_or_partition);
        return out;
    }
    model::leader_epoch ours = part->state().leader_epoch;
    if (current_epoch != model::no_leader_epoch && current_epoch != ours) {
        out.error_code = model::to_wire(current_epoch < ours ? kafka_error::fenced_leader_epoch
                                                             : kafka_error::unknown_leader_epoch);
        return out;
    }
    storage::log* log = &part->log();
    out.leader_epoch = ours;
    if (target == latest) {
        out.offset = from_replica ? log->log_end_offset() : part->high_watermark();
        return out;
    }
    if (target == earliest) {
        out.offset = log->log_start_offset();
        return out;
    }
    auto found = log->find_by_timestamp(target);
    if (!found) {
        out.error_code = model::to_wire(kafka_error::kafka_storage_error);
    } else if (*found) {
        auto exact = first_record_at(**found, target);
        out.offset = exact ? exact->first : (*found)->batch_offset;
        out.timestamp = exact ? exact->second : (*found)->max_timestamp;
        if (!from_replica && out.offset >= part->high_watermark()) {
            out.offset = model::no_offset;  // not committed yet: consumers cannot see it
            out.timestamp = model::timestamp_ms{-1};
        }
    }
    return out;
}

}  // namespace

handler_result<list_offsets_response> handle(services& s, request_context& /*ctx*/,
                                             protocol::list_offsets_request req) {
    list_offsets_response out;
    for (const auto& t : req.topics) {
        list_offsets_response::list_offsets_topic_response rt;
        rt.name = t.name;
        for (const auto& p : t.partitions) {
            rt.partitions.push_back(lookup(s, {t.name, p.partition_index}, p.timestamp,
                                           p.current_leader_epoch, req.replica_id() >= 0));
        }
        out.topics.push_back(std::move(rt));
    }
    co_return out;
}

}  // namespace gregor::broker

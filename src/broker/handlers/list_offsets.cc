#include "broker/handlers/list_offsets.h"

#include "base/limits.h"
#include "model/kafka_error.h"
#include "model/record_batch.h"
#include "protocol/records/batch_records.h"

namespace gregor::broker {
namespace {

using response = protocol::list_offsets_response;
using partition_response = response::list_offsets_topic_response::list_offsets_partition_response;
using model::kafka_error;

constexpr model::timestamp_ms latest{-1};
constexpr model::timestamp_ms earliest{-2};

std::int16_t code(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

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

partition_response lookup(services& s, const model::topic_partition& tp,
                          model::timestamp_ms target) {
    partition_response out;
    out.partition_index = tp.partition;
    storage::log* log = s.replicas.leader_log(tp);
    if (log == nullptr) {
        bool known = s.cache.partition(tp) != nullptr || s.replicas.replica(tp) != nullptr;
        out.error_code = code(known ? kafka_error::not_leader_or_follower
                                    : kafka_error::unknown_topic_or_partition);
        return out;
    }
    out.leader_epoch = s.replicas.replica(tp)->leader_epoch;
    if (target == latest) {
        out.offset = log->log_end_offset();
        return out;
    }
    if (target == earliest) {
        out.offset = log->log_start_offset();
        return out;
    }
    auto found = log->find_by_timestamp(target);
    if (!found) {
        out.error_code = code(kafka_error::kafka_storage_error);
    } else if (*found) {
        auto exact = first_record_at(**found, target);
        out.offset = exact ? exact->first : (*found)->batch_offset;
        out.timestamp = exact ? exact->second : (*found)->max_timestamp;
    }
    return out;
}

}  // namespace

handler_result<response> handle(services& s, request_context& /*ctx*/,
                                protocol::list_offsets_request req) {
    response out;
    for (const auto& t : req.topics) {
        response::list_offsets_topic_response rt;
        rt.name = t.name;
        for (const auto& p : t.partitions) {
            rt.partitions.push_back(lookup(s, {t.name, p.partition_index}, p.timestamp));
        }
        out.topics.push_back(std::move(rt));
    }
    co_return out;
}

}  // namespace gregor::broker

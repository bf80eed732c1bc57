#include "broker/handlers/produce.h"

#include "broker/logger.h"
#include "model/kafka_error.h"
#include "model/record_batch.h"

namespace gregor::broker {
namespace {

using response = protocol::produce_response;
using partition_response = response::topic_produce_response::partition_produce_response;
using model::kafka_error;

std::int16_t code(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

// Checks every batch of a produce payload. Returns none iff all are intact v2 batches no
// larger than message.max.bytes whose record counts match their offset deltas exactly.
kafka_error validate(bytes_view data, std::int32_t max_batch_bytes) {
    if (data.empty()) {
        return kafka_error::corrupt_message;
    }
    model::batch_reader batches(data, data.size(), model::count_rule::exact);
    while (true) {
        auto next = batches.next();
        if (!next) {
            return next.code() == model::batch_errc::unsupported_magic
                       ? kafka_error::unsupported_for_message_format
                       : kafka_error::corrupt_message;
        }
        if (!*next) {
            return kafka_error::none;
        }
        if ((*next)->bytes.size() > static_cast<std::size_t>(max_batch_bytes)) {
            return kafka_error::message_too_large;
        }
    }
}

// Where a client should go instead (v10+ tagged field), from the metadata cache.
void set_current_leader(const services& s, const model::topic_partition& tp,
                        partition_response& out) {
    if (const cached_partition* p = s.cache.partition(tp)) {
        out.current_leader.leader_id = p->leader;
        out.current_leader.leader_epoch = p->leader_epoch;
    }
}

partition_response append(services& s, request_context& ctx, const model::topic_partition& tp,
                          const std::optional<protocol::records_ref>& records, std::int16_t acks) {
    partition_response out;
    out.index = tp.partition;
    out.base_offset = model::no_offset;
    storage::log* log = s.replicas.leader_log(tp);
    if (log == nullptr) {
        bool known = s.cache.partition(tp) != nullptr || s.replicas.replica(tp) != nullptr;
        out.error_code = code(known ? kafka_error::not_leader_or_follower
                                    : kafka_error::unknown_topic_or_partition);
        set_current_leader(s, tp, out);
        return out;
    }
    if (ctx.version() <= 2) {
        // v0-v2 carry magic 0/1 message sets, which gregor does not store.
        out.error_code = code(kafka_error::unsupported_for_message_format);
        return out;
    }
    // acks=all needs min.insync.replicas in the ISR before anything is written.
    auto isr_size = s.replicas.replica(tp)->isr.size();
    if (acks == -1 && isr_size < static_cast<std::size_t>(s.config.min_insync_replicas)) {
        out.error_code = code(kafka_error::not_enough_replicas);
        return out;
    }
    bytes_view data = records ? records->data() : bytes_view{};
    if (kafka_error e = validate(data, s.config.message_max_bytes); e != kafka_error::none) {
        out.error_code = code(e);
        return out;
    }
    // The records point into the request frame, which this request owns: offsets and the
    // leader epoch are assigned by rewriting them in place.
    mutable_bytes_view writable(const_cast<std::uint8_t*>(data.data()), data.size());
    auto appended = log->append_as_leader(writable, s.replicas.replica(tp)->leader_epoch, s.now(),
                                          /*already_validated=*/true);
    if (!appended) {
        GREGOR_LOG_RATE_LIMITED(broker_log, err, std::chrono::seconds(1), "append to {} failed: {}",
                                tp, appended.err().to_string());
        out.error_code = code(kafka_error::kafka_storage_error);
        return out;
    }
    out.base_offset = appended->first_offset;
    out.log_append_time_ms = appended->log_append_time;
    out.log_start_offset = log->log_start_offset();
    return out;
}

}  // namespace

handler_result<response> handle(services& s, request_context& ctx, protocol::produce_request req) {
    response out;
    bool valid_acks = req.acks == 0 || req.acks == 1 || req.acks == -1;
    bool appended = false;
    bool failed = false;
    for (auto& topic : req.topic_data) {
        response::topic_produce_response t;
        t.name = topic.name;
        for (auto& p : topic.partition_data) {
            partition_response r;
            if (!valid_acks) {
                r.index = p.index;
                r.base_offset = model::no_offset;
                r.error_code = code(kafka_error::invalid_required_acks);
            } else {
                r = append(s, ctx, {topic.name, p.index}, p.records, req.acks);
                appended = appended || r.error_code == 0;
            }
            failed = failed || r.error_code != 0;
            t.partition_responses.push_back(std::move(r));
        }
        out.responses.push_back(std::move(t));
    }
    if (appended) {
        s.replicas.notify_append();
    }
    // With replication factor 1 the high watermark is the log end offset, so acks=-1 is
    // satisfied as soon as the append returns.
    if (req.acks == 0) {
        ctx.close_connection = failed;
        co_return std::nullopt;
    }
    co_return out;
}

}  // namespace gregor::broker

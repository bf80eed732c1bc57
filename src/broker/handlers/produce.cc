#include "broker/handlers/produce.h"

#include "broker/handlers/leader_lookup.h"
#include "broker/logger.h"
#include "broker/observability.h"
#include "model/kafka_error.h"
#include "model/record_batch.h"
#include "storage/errc.h"

namespace gregor::broker {
namespace {

using produce_response = protocol::produce_response;
using produce_partition_response =
    produce_response::topic_produce_response::partition_produce_response;
using model::kafka_error;

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

// Kafka's answer to a batch the partition's producer state or record checks refused (nothing
// was written); none for any other failure.
kafka_error producer_refusal(const error& e) {
    if (e.code == storage::errc::out_of_order_sequence) {
        return kafka_error::out_of_order_sequence_number;
    }
    if (e.code == storage::errc::invalid_producer_epoch) {
        return kafka_error::invalid_producer_epoch;
    }
    if (e.code == storage::errc::invalid_record) {
        return kafka_error::invalid_record;
    }
    return kafka_error::none;
}

// Where a client should go instead (v10+ tagged field), from the metadata cache.
void set_current_leader(const services& s, const model::topic_partition& tp,
                        produce_partition_response& out) {
    if (const cached_partition* p = s.cache.partition(tp)) {
        out.current_leader.leader_id = p->leader;
        out.current_leader.leader_epoch = p->leader_epoch;
    }
}

// One partition's append. On success `wait` says where an acks=all answer waits for the
// high watermark: records end before `end`, appended in `epoch`.
struct pending_ack {
    model::topic_partition tp;
    model::offset end;
    model::leader_epoch epoch;
    produce_partition_response* slot;
};

produce_partition_response append(services& s, request_context& ctx,
                                  const model::topic_partition& tp,
                                  const std::optional<protocol::records_ref>& records,
                                  std::int16_t acks, std::optional<pending_ack>& wait) {
    produce_partition_response out;
    out.index = tp.partition;
    out.base_offset = model::no_offset;
    auto [part, error] = lead(s, tp);
    if (part == nullptr) {
        out.error_code = model::to_wire(error);
        if (error != kafka_error::kafka_storage_error) {
            set_current_leader(s, tp, out);
        }
        return out;
    }
    if (ctx.version() <= 2) {
        // v0-v2 carry magic 0/1 message sets, which gregor does not store.
        out.error_code = model::to_wire(kafka_error::unsupported_for_message_format);
        return out;
    }
    // acks=all needs min.insync.replicas in the ISR before anything is written.
    if (kafka_error e = part->check_append(acks); e != kafka_error::none) {
        out.error_code = model::to_wire(e);
        return out;
    }
    bytes_view data = records ? records->data() : bytes_view{};
    if (kafka_error e = validate(data, s.config.message_max_bytes); e != kafka_error::none) {
        out.error_code = model::to_wire(e);
        return out;
    }
    // The records point into the request frame, which this request owns: offsets and the
    // leader epoch are assigned by rewriting them in place.
    mutable_bytes_view writable(const_cast<std::uint8_t*>(data.data()), data.size());
    auto appended = part->append(writable, s.now(), /*already_validated=*/true);
    if (!appended) {
        if (kafka_error e = producer_refusal(appended.err()); e != kafka_error::none) {
            out.error_code = model::to_wire(e);
            if (e == kafka_error::invalid_record) {
                // v8+: why, e.g. Kafka's "One or more records have been rejected ..." for
                // records without a key in a compacted topic.
                out.error_message = appended.err().detail;
            }
            return out;
        }
        GREGOR_LOG_RATE_LIMITED(broker_log, err, std::chrono::seconds(1), "append to {} failed: {}",
                                tp, appended.err().to_string());
        out.error_code = model::to_wire(kafka_error::kafka_storage_error);
        return out;
    }
    s.replicas.changed(tp);  // its followers' and consumers' sessions read it next round
    if (s.metrics != nullptr) {
        const auto& a = appended->appended;
        s.metrics->topics().produced(
            tp.topic, static_cast<std::uint64_t>(a.last_offset() - a.first_offset() + 1),
            data.size());
    }
    out.base_offset = appended->appended.first_offset;
    out.log_append_time_ms = appended->appended.log_append_time;
    out.log_start_offset = part->log().log_start_offset();
    if (acks == -1) {
        wait = pending_ack{tp, appended->appended.last_offset + 1, part->state().leader_epoch,
                           nullptr};
    }
    return out;
}

// Settles the acks=all waits whose outcome is known; returns true iff none is left.
bool settle(services& s, std::vector<pending_ack>& waits) {
    std::erase_if(waits, [&](pending_ack& w) {
        replication::partition* part = s.replicas.partition(w.tp);
        std::optional<kafka_error> status =
            s.replicas.offline(w.tp) ? std::optional(kafka_error::kafka_storage_error)
            : part == nullptr        ? std::optional(kafka_error::not_leader_or_follower)
                            : part->acks_all_status(w.end, w.epoch);
        if (!status) {
            return false;
        }
        if (*status != kafka_error::none) {
            w.slot->error_code = model::to_wire(*status);
            w.slot->base_offset = model::no_offset;
            if (*status == kafka_error::not_leader_or_follower) {
                set_current_leader(s, w.tp, *w.slot);
            }
        }
        return true;
    });
    return waits.empty();
}

}  // namespace

// acks=all: every partition is appended first, then the answer waits until each one's high
// watermark passes its records (or its outcome is otherwise known), at most TimeoutMs;
// partitions still waiting then get REQUEST_TIMED_OUT (their records may yet commit).
handler_result<produce_response> handle(services& s, request_context& ctx,
                                        protocol::produce_request req) {
    produce_response out;
    bool valid_acks = req.acks == 0 || req.acks == 1 || req.acks == -1;
    bool appended = false;
    bool failed = false;
    std::vector<pending_ack> waits;
    out.responses.reserve(req.topic_data.size());
    for (auto& topic : req.topic_data) {
        auto& t = out.responses.emplace_back();
        t.name = topic.name;
        t.partition_responses.reserve(topic.partition_data.size());
        for (auto& p : topic.partition_data) {
            produce_partition_response& r = t.partition_responses.emplace_back();
            if (!valid_acks) {
                r.index = p.index;
                r.base_offset = model::no_offset;
                r.error_code = model::to_wire(kafka_error::invalid_required_acks);
            } else {
                std::optional<pending_ack> wait;
                r = append(s, ctx, {topic.name, p.index}, p.records, req.acks, wait);
                appended = appended || r.error_code == 0;
                if (wait) {
                    wait->slot = &r;
                    waits.push_back(*wait);
                }
            }
            failed = failed || r.error_code != 0;
            if (s.metrics != nullptr) {
                s.metrics->topics().produce_request(
                    topic.name, r.error_code != 0,
                    s.replicas.partition({topic.name, p.index}) != nullptr);
            }
        }
    }
    if (appended) {
        s.replicas.notify();
    }
    if (req.acks == 0) {
        ctx.close_connection = failed;
        co_return std::nullopt;
    }
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(req.timeout_ms, 0));
    while (!settle(s, waits)) {
        if (ctx.request.cancelled() || std::chrono::steady_clock::now() >= deadline) {
            for (pending_ack& w : waits) {
                w.slot->error_code = model::to_wire(kafka_error::request_timed_out);
                w.slot->base_offset = model::no_offset;
            }
            break;
        }
        co_await wait_for_change(s, ctx, deadline);
    }
    co_return out;
}

}  // namespace gregor::broker

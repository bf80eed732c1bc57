#include "broker/handlers/fetch.h"

#include "broker/logger.h"
#include "model/kafka_error.h"
#include "storage/errc.h"

#include <algorithm>
#include <chrono>

namespace gregor::broker {
namespace {

using response = protocol::fetch_response;
using partition_data = response::fetchable_topic_response::partition_data;
using model::kafka_error;

std::int16_t code(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

kafka_error check_epoch(model::leader_epoch requested, model::leader_epoch ours) {
    if (requested == model::no_leader_epoch || requested == ours) {
        return kafka_error::none;
    }
    return requested < ours ? kafka_error::fenced_leader_epoch : kafka_error::unknown_leader_epoch;
}

partition_data error_partition(const services& s, const model::topic_partition& tp, kafka_error e) {
    partition_data out;
    out.partition_index = tp.partition;
    out.error_code = code(e);
    out.high_watermark = model::no_offset;
    out.records = protocol::records_ref{};
    if (const cached_partition* p = s.cache.partition(tp)) {
        out.current_leader.leader_id = p->leader;
        out.current_leader.leader_epoch = p->leader_epoch;
    }
    return out;
}

// The records of a log read. A file with a descriptor is mapped (the view is real memory
// holding those bytes) and registered so that dispatch sends it with sendfile; other files
// (in-memory storage) are copied.
result<protocol::records_ref> attach_records(request_context& ctx, const storage::file_slice& s) {
    if (s.source->native_handle() < 0) {
        auto copy = s.read_all();
        if (!copy) {
            return copy.err();
        }
        auto owned = std::make_shared<const bytes>(std::move(*copy));
        return protocol::records_ref(bytes_view(*owned), owned);
    }
    auto mapping = s.source->map_readonly(s.position + s.length);
    if (!mapping) {
        return mapping.err();
    }
    struct holder {
        storage::file_slice slice;
        std::unique_ptr<storage::mapped_region> mapping;
    };
    auto owner = std::make_shared<const holder>(holder{s, std::move(*mapping)});
    bytes_view view = owner->mapping->data().subspan(s.position, s.length);
    ctx.file_slices.push_back({view.data(), view.size(), s.source->native_handle(),
                               static_cast<std::int64_t>(s.position), owner});
    return protocol::records_ref(view, owner);
}

// Reads one partition from `start`, at most `max_bytes`, up to the high watermark (with
// replication factor 1, the log end offset). Records are never null: empty is length 0.
partition_data read_partition(services& s, request_context& ctx, const model::topic_partition& tp,
                              const protocol::fetch_request::fetch_topic::fetch_partition& p,
                              std::size_t max_bytes) {
    storage::log* log = s.replicas.leader_log(tp);
    if (log == nullptr) {
        bool known = s.cache.partition(tp) != nullptr || s.replicas.replica(tp) != nullptr;
        return error_partition(
            s, tp,
            known ? kafka_error::not_leader_or_follower : kafka_error::unknown_topic_or_partition);
    }
    kafka_error e = check_epoch(p.current_leader_epoch, s.replicas.replica(tp)->leader_epoch);
    if (e != kafka_error::none) {
        return error_partition(s, tp, e);
    }
    partition_data out;
    out.partition_index = tp.partition;
    out.high_watermark = log->log_end_offset();
    out.last_stable_offset = log->log_end_offset();
    out.log_start_offset = log->log_start_offset();
    out.records = protocol::records_ref{};
    if (max_bytes == 0 || p.fetch_offset == log->log_end_offset()) {
        return out;
    }
    auto read = log->read(p.fetch_offset, max_bytes, log->log_end_offset());
    if (!read) {
        bool range = read.code() == storage::errc::offset_out_of_range;
        return error_partition(
            s, tp, range ? kafka_error::offset_out_of_range : kafka_error::kafka_storage_error);
    }
    if (read->slice.length > 0) {
        auto records = attach_records(ctx, read->slice);
        if (!records) {
            return error_partition(s, tp, kafka_error::kafka_storage_error);
        }
        out.records = std::move(*records);
    }
    return out;
}

// One pass over every requested partition. Returns the response and its record bytes.
std::pair<response, std::size_t> read_all(services& s, request_context& ctx,
                                          const protocol::fetch_request& req) {
    ctx.file_slices.clear();
    response out;
    std::size_t total = 0;
    auto budget = static_cast<std::size_t>(std::max(req.max_bytes, 0));
    for (const auto& t : req.topics) {
        response::fetchable_topic_response rt;
        rt.topic = t.topic;
        rt.topic_id = t.topic_id;
        for (const auto& p : t.partitions) {
            auto limit = std::min(budget - std::min(budget, total),
                                  static_cast<std::size_t>(std::max(p.partition_max_bytes, 0)));
            // Like Kafka, the first partition with data returns at least one batch.
            partition_data d = read_partition(s, ctx, {t.topic, p.partition}, p,
                                              total == 0 ? std::max<std::size_t>(limit, 1) : limit);
            total += d.records ? d.records->size() : 0;
            rt.partitions.push_back(std::move(d));
        }
        out.responses.push_back(std::move(rt));
    }
    return {std::move(out), total};
}

bool has_error(const response& r) {
    return std::any_of(r.responses.begin(), r.responses.end(), [](const auto& t) {
        return std::any_of(t.partitions.begin(), t.partitions.end(),
                           [](const auto& p) { return p.error_code != 0; });
    });
}

}  // namespace

// Long polling: answer at once if MinBytes are available, an error occurred, or MaxWaitMs is
// zero; otherwise sleep on a timer that an append (or the client going away) wakes early,
// then read again, until MinBytes arrive or the deadline passes.
handler_result<response> handle(services& s, request_context& ctx, protocol::fetch_request req) {
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
    auto min_bytes = static_cast<std::size_t>(std::max(req.min_bytes, 0));
    while (true) {
        auto [out, total] = read_all(s, ctx, req);
        if (total >= min_bytes || has_error(out) || ctx.request.cancelled() ||
            std::chrono::steady_clock::now() >= deadline) {
            co_return std::move(out);
        }
        asio::steady_timer timer(s.ioc, deadline);
        std::uint64_t waiter = s.replicas.wait_for_append([&timer] { timer.cancel(); });
        ctx.request.cancel_state().on_cancel([&timer] { timer.cancel(); });
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        s.replicas.cancel_wait(waiter);
        ctx.request.cancel_state().on_cancel(nullptr);
    }
}

}  // namespace gregor::broker

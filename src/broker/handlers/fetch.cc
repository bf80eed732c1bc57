#include "broker/handlers/fetch.h"

#include "broker/logger.h"
#include "broker/observability.h"
#include "fetch/session_cache.h"
#include "model/kafka_error.h"
#include "storage/errc.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

namespace gregor::broker {
namespace {

using fetch_response = protocol::fetch_response;
using partition_data = fetch_response::fetchable_topic_response::partition_data;
using model::kafka_error;

partition_data error_partition(const services& s, const model::topic_partition& tp, kafka_error e) {
    partition_data out;
    out.partition_index = tp.partition;
    out.error_code = model::to_wire(e);
    out.high_watermark = model::no_offset;
    out.records = protocol::records_ref{};
    if (const cached_partition* p = s.cache.partition(tp)) {
        out.current_leader.leader_id = p->leader;
        out.current_leader.leader_epoch = p->leader_epoch;
    }
    return out;
}

// Below this many bytes a log read is copied into the response rather than sent with
// sendfile. On the OffsetCommit path (each follower fetch of __consumer_offsets carries a
// few hundred bytes) mmap, munmap and the separate sendfile call were about 15 % of the
// coordinator's CPU in a perf profile; a copy of that size is one pread into the response.
constexpr std::size_t copy_below_bytes = 16 * 1024;

// The records of a log read. A large read from a file with a descriptor is mapped (the view
// is real memory holding those bytes) and registered so that dispatch sends it with
// sendfile; small reads and other files (in-memory storage) are copied.
result<protocol::records_ref> attach_records(request_context& ctx, const storage::file_slice& s) {
    if (s.source->native_handle() < 0 || s.length < copy_below_bytes) {
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

// The broker id of a follower's fetch (v15+ moved it into ReplicaState), or -1 for clients.
model::node_id fetching_replica(const protocol::fetch_request& req) {
    return req.replica_state.replica_id() >= 0 ? req.replica_state.replica_id : req.replica_id;
}

// Why `tp` is not read here: its log dir failed, another broker leads it, or it is unknown.
partition_data not_led_here(services& s, const model::topic_partition& tp) {
    if (s.replicas.offline(tp)) {
        return error_partition(s, tp, kafka_error::kafka_storage_error);
    }
    bool known = s.cache.partition(tp) != nullptr || s.replicas.partition(tp) != nullptr;
    return error_partition(
        s, tp,
        known ? kafka_error::not_leader_or_follower : kafka_error::unknown_topic_or_partition);
}

// One pass over a fetch's partitions: who fetches (a follower's broker id, or -1), and, for
// a follower, the time of the pass (one clock read, not one per partition; none for a
// consumer).
struct pass {
    services& s;
    request_context& ctx;
    model::node_id replica;
    model::timestamp_ms now;
};

pass pass_of(services& s, request_context& ctx, model::node_id replica) {
    return pass{s, ctx, replica, replica >= model::node_id(0) ? s.now() : model::timestamp_ms(0)};
}

// Reads one partition from `start`, at most `max_bytes`: up to the high watermark for
// consumers, up to the log end offset for followers (whose fetch also tells the leader how
// far they are). Records are never null: empty is length 0.
// `at_end`, when given, says whether the fetcher reads from that upper end (a follower
// caught up, a consumer at the high watermark).
partition_data read_partition(const pass& r, const model::topic_partition& tp,
                              const fetch::partition_fetch& p, std::size_t max_bytes,
                              replication::partition* hosted = nullptr, bool* at_end = nullptr) {
    services& s = r.s;
    const model::node_id replica = r.replica;
    // A replica known to be hosted here is not offline: an offline one is removed.
    replication::partition* part = hosted != nullptr ? hosted : s.replicas.partition(tp);
    if (part == nullptr || !part->is_leader() || (hosted == nullptr && s.replicas.offline(tp))) {
        return not_led_here(s, tp);
    }
    partition_data out;
    out.partition_index = tp.partition;
    out.records = protocol::records_ref{};
    storage::log& log = part->log();
    model::offset upper = part->high_watermark();
    if (replica() >= 0) {
        replication::follower_fetch f{replica, p.fetch_offset, p.last_fetched_epoch,
                                      p.current_leader_epoch};
        replication::fetch_decision d = part->on_follower_fetch(f, r.now);
        if (d.high_watermark_advanced) {
            s.replicas.changed(tp);  // the other followers and the consumers are told
            s.replicas.notify();
        }
        if (part->isr_change_pending()) {
            s.replicas.mark_isr_change(tp);
        }
        if (d.error != kafka_error::none) {
            partition_data e = error_partition(s, tp, d.error);
            if (d.error == kafka_error::offset_out_of_range) {
                // Where the follower can restart (Kafka's follower asks with ListOffsets).
                e.log_start_offset = log.log_start_offset();
                e.high_watermark = part->high_watermark();
            }
            return e;
        }
        if (d.diverging) {
            out.diverging_epoch.epoch = d.diverging->epoch();
            out.diverging_epoch.end_offset = d.diverging->start_offset;
            max_bytes = 0;
        }
        upper = log.log_end_offset();
    } else if (p.current_leader_epoch != model::no_leader_epoch &&
               p.current_leader_epoch != part->state().leader_epoch) {
        return error_partition(s, tp,
                               p.current_leader_epoch < part->state().leader_epoch
                                   ? kafka_error::fenced_leader_epoch
                                   : kafka_error::unknown_leader_epoch);
    }
    out.high_watermark = part->high_watermark();
    out.last_stable_offset = part->high_watermark();
    out.log_start_offset = log.log_start_offset();
    if (at_end != nullptr) {
        *at_end = p.fetch_offset == upper;
    }
    if (max_bytes == 0 || p.fetch_offset == upper) {
        return out;
    }
    auto read = log.read(p.fetch_offset, max_bytes, upper);
    if (!read) {
        bool range = read.code() == storage::errc::offset_out_of_range;
        return error_partition(
            s, tp, range ? kafka_error::offset_out_of_range : kafka_error::kafka_storage_error);
    }
    if (read->slice.length > 0) {
        auto records = attach_records(r.ctx, read->slice);
        if (!records) {
            return error_partition(s, tp, kafka_error::kafka_storage_error);
        }
        out.records = std::move(*records);
    }
    return out;
}

// What one partition may read: its own maximum within what the response has left. Like
// Kafka, the first partition with data returns at least one batch.
std::size_t limit(std::size_t budget, std::size_t total, std::int32_t partition_max) {
    auto l = std::min(budget - std::min(budget, total),
                      static_cast<std::size_t>(std::max(partition_max, 0)));
    return total == 0 ? std::max<std::size_t>(l, 1) : l;
}

// One pass over every requested partition. Returns the response and its record bytes.
std::pair<fetch_response, std::size_t> read_all(services& s, request_context& ctx,
                                                const protocol::fetch_request& req) {
    ctx.file_slices.clear();
    const pass r = pass_of(s, ctx, fetching_replica(req));
    fetch_response out;
    std::size_t total = 0;
    auto budget = static_cast<std::size_t>(std::max(req.max_bytes, 0));
    for (const auto& t : req.topics) {
        fetch_response::fetchable_topic_response rt;
        rt.topic = t.topic;
        rt.topic_id = t.topic_id;
        for (const auto& p : t.partitions) {
            partition_data d =
                read_partition(r, {t.topic, p.partition}, fetch::partition_fetch::of(p),
                               limit(budget, total, p.partition_max_bytes));
            total += d.records ? d.records->size() : 0;
            rt.partitions.push_back(std::move(d));
        }
        out.responses.push_back(std::move(rt));
    }
    return {std::move(out), total};
}

// The replica of a session's partition hosted here, or nullptr: remembered in the session
// while no replica was added or removed here (an offline replica is removed), so that an
// idle round does not look every partition up.
replication::partition* hosted(services& s, const fetch::session_partition& p) {
    if (p.where_generation != s.replicas.generation()) {
        p.where = s.replicas.partition(p.tp);
        p.where_generation = s.replicas.generation();
    }
    return static_cast<replication::partition*>(p.where);
}

// One pass over an incremental fetch's session, in its round order: the response holds only
// the partitions the fetcher must be told about (records, errors, changed offsets), so an
// idle follower's answer is empty. The pass reads only the partitions the session plans
// for this round (those that changed here or at the fetcher, and a slice of the rest): a
// partition whose fetcher is at its end and was told everything rests.
std::pair<fetch_response, std::size_t> read_session(services& s, request_context& ctx,
                                                    fetch::session& session, model::node_id replica,
                                                    std::int32_t max_bytes) {
    ctx.file_slices.clear();
    const pass r = pass_of(s, ctx, replica);
    fetch_response out;
    std::size_t total = 0;
    auto budget = static_cast<std::size_t>(std::max(max_bytes, 0));
    // A session exists only in a cache: s.fetch_sessions is set.
    for (std::uint32_t i :
         session.plan_round(s.replicas.changes(), std::chrono::steady_clock::now(),
                            s.fetch_sessions->config().sweep)) {
        const fetch::session_partition& p = session.at(i);
        bool at_end = false;
        partition_data d = read_partition(r, p.tp, p.fetch, limit(budget, total, p.fetch.max_bytes),
                                          hosted(s, p), &at_end);
        const bool answer = fetch::session::must_answer(p, d);
        session.settle(i, at_end && !answer);
        if (!answer) {
            continue;
        }
        total += d.records ? d.records->size() : 0;
        if (out.responses.empty() || out.responses.back().topic != p.tp.topic) {
            out.responses.emplace_back().topic = p.tp.topic;
        }
        out.responses.back().partitions.push_back(std::move(d));
    }
    return {std::move(out), total};
}

// The request's session fields (KIP-227). Without a session cache every request is served
// without a session, and an incremental one is not found.
fetch::context open_session(services& s, const protocol::fetch_request& req) {
    if (s.fetch_sessions != nullptr) {
        return s.fetch_sessions->open(req, std::chrono::steady_clock::now());
    }
    fetch::context c;
    if (req.session_epoch == fetch::initial_epoch || req.session_epoch == fetch::final_epoch) {
        c.mode = fetch::context::kind::sessionless;
    } else {
        c.error = kafka_error::fetch_session_id_not_found;
    }
    return c;
}

// The answer is going out: its session learns what it told, or a full request gets one.
void close_round(services& s, const protocol::fetch_request& req, const fetch::context& session,
                 fetch_response& out, bool follower) {
    if (session.incremental) {
        session.incremental->answered(out);
        out.session_id = session.incremental->id();
    } else if (session.mode == fetch::context::kind::full && s.fetch_sessions != nullptr) {
        out.session_id =
            s.fetch_sessions->create(req, out, follower, std::chrono::steady_clock::now());
    }
}

// Record bytes out per topic (to consumers or, for a follower, replication), and consumer
// fetch requests per topic partition.
void count(services& s, const protocol::fetch_request& req, const fetch_response& out) {
    if (s.metrics == nullptr) {
        return;
    }
    const bool follower = fetching_replica(req) >= model::node_id(0);
    for (const auto& t : out.responses) {
        for (const auto& p : t.partitions) {
            if (p.records && p.records->size() > 0) {
                s.metrics->topics().fetched(t.topic, p.records->size(), follower);
            }
            if (!follower) {
                s.metrics->topics().fetch_request(
                    t.topic, p.error_code != 0,
                    s.replicas.partition({t.topic, p.partition_index}) != nullptr);
            }
        }
    }
}

bool has_error(const fetch_response& r) {
    return std::any_of(r.responses.begin(), r.responses.end(), [](const auto& t) {
        return std::any_of(t.partitions.begin(), t.partitions.end(),
                           [](const auto& p) { return p.error_code != 0; });
    });
}

// A follower's parked fetch that lacks a partition this broker just began leading with it as
// a replica is answered this soon: its next fetch carries the partition (a new topic's
// first records then become visible in milliseconds, not at replica.fetch.wait.max.ms).
// Not at once: a follower that has not applied its LeaderAndIsr yet would fetch in a loop.
constexpr std::chrono::milliseconds lacking_answer_after{5};

}  // namespace

// Long polling: answer at once if MinBytes are available, an error occurred, or MaxWaitMs is
// zero; otherwise sleep on a timer that an append (or the client going away) wakes early,
// then read again, until MinBytes arrive or the deadline passes.
handler_result<fetch_response> handle(services& s, request_context& ctx,
                                      protocol::fetch_request req) {
    const model::node_id replica = fetching_replica(req);
    ctx.follower_fetch = replica >= model::node_id(0);
    const fetch::context session = open_session(s, req);
    if (session.error != kafka_error::none) {
        fetch_response out;
        out.error_code = model::to_wire(session.error);
        co_return std::move(out);
    }
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
    auto min_bytes = static_cast<std::size_t>(std::max(req.min_bytes, 0));
    // The request's partitions, gathered the first time a recent leadership is checked
    // against them (a new topic may bring thousands of both); a session has them sorted.
    std::optional<std::set<model::topic_partition>> held;
    auto fetched = [&](const model::topic_partition& tp) {
        if (session.incremental) {
            return session.incremental->find(tp) != nullptr;
        }
        if (!held) {
            held.emplace();
            for (const auto& t : req.topics) {
                for (const auto& p : t.partitions) {
                    held->insert({t.topic, p.partition});
                }
            }
        }
        return held->contains(tp);
    };
    while (true) {
        {
            // Dropped before parking: a follower's parked fetch would otherwise hold an empty
            // answer for every partition it follows (about 300 bytes each).
            auto [out, total] = session.incremental ? read_session(s, ctx, *session.incremental,
                                                                   replica, req.max_bytes)
                                                    : read_all(s, ctx, req);
            const auto now = std::chrono::steady_clock::now();
            if (total >= min_bytes || has_error(out) || ctx.request.cancelled() ||
                now >= deadline) {
                close_round(s, req, session, out, ctx.follower_fetch);
                count(s, req, out);
                co_return std::move(out);
            }
            // Only a fetch about to park pays for this check.
            if (ctx.follower_fetch && s.replicas.lacks_recent_leadership(replica, fetched, now)) {
                deadline = std::min(deadline, now + lacking_answer_after);
            }
        }
        co_await wait_for_change(s, ctx, deadline);
    }
}

}  // namespace gregor::broker

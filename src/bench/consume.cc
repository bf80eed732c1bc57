// The consume workload: one librdkafka consumer reads a topic from the beginning of every
// partition (assign, not subscribe: no group coordinator needed) until --records or the high
// watermarks seen at the start, in batches from the consumer queue.
#include "bench/consume.h"

#include "base/assert.h"
#include "bench/errc.h"
#include "bench/progress.h"
#include "bench/workloads.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <thread>
#include <unistd.h>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;

}  // namespace

result<std::vector<partition_goal>> watermarks(rd_kafka_t* rk, const options& o,
                                               const topic_layout& layout) {
    std::vector<partition_goal> goals(layout.leaders.size());
    for (std::size_t p = 0; p < goals.size(); ++p) {
        auto err = rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), static_cast<int>(p),
                                                    &goals[p].low, &goals[p].high,
                                                    static_cast<int>(timeout_of(o).count()));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return error(errc::topic_unavailable,
                         fmt::format("watermarks of {}-{}: {}", o.topic, p, rd_kafka_err2str(err)));
        }
        goals[p].done = goals[p].high <= goals[p].low;
    }
    return goals;
}

std::int64_t records_to_read(const std::vector<partition_goal>& goals) {
    std::int64_t n = 0;
    for (const auto& g : goals) {
        n += g.high - g.low;
    }
    return n;
}

result<void> assign_all(rd_kafka_t* rk, const std::string& topic,
                        const std::vector<std::int64_t>& start_offsets) {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(start_offsets.size()));
    for (std::size_t p = 0; p < start_offsets.size(); ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), static_cast<int>(p))->offset =
            start_offsets[p];
    }
    auto err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return error(errc::client_error,
                     fmt::format("assign {}: {}", topic, rd_kafka_err2str(err)));
    }
    return ok();
}

std::size_t next_batch(rd_kafka_t* rk, rd_kafka_queue_t* queue, rd_kafka_message_t** out,
                       std::size_t capacity, int wait_ms) {
    GREGOR_ASSERT(capacity > 0, "next_batch needs room for one message");
    rd_kafka_message_t* first = rd_kafka_consumer_poll(rk, wait_ms);
    if (first == nullptr) {
        return 0;
    }
    out[0] = first;
    ssize_t more = rd_kafka_consume_batch_queue(queue, 0, out + 1, capacity - 1);
    return 1 + static_cast<std::size_t>(std::max<ssize_t>(more, 0));
}

result<kafka_handle> make_consumer(const options& o, client_log& log) {
    // A group id is needed by librdkafka's assign(); with assign and no commits it never
    // joins a group, so the broker needs no group coordinator.
    GREGOR_TRY(conf_handle conf,
               make_conf(o, log,
                         {{"group.id", fmt::format("gregor-bench-{}", ::getpid())},
                          {"enable.auto.commit", "false"},
                          {"enable.auto.offset.store", "false"}}));
    GREGOR_TRY(kafka_handle rk, make_client(RD_KAFKA_CONSUMER, std::move(conf)));
    rd_kafka_poll_set_consumer(rk.get());
    return rk;
}

namespace {

struct consume_totals {
    std::int64_t target = 0;  // records beyond it (the rest of a batch) are not counted
    std::int64_t records = 0;
    std::int64_t bytes = 0;
    std::int64_t errors = 0;
    std::string first_error;
    clock_type::time_point last_record;
};

// Counts one batch into `t`; marks partitions whose high watermark was reached.
void count_batch(rd_kafka_message_t** msgs, std::size_t n, std::vector<partition_goal>& goals,
                 consume_totals& t) {
    for (std::size_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = msgs[i];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (t.records < t.target) {
                ++t.records;
                t.bytes += static_cast<std::int64_t>(m->len);
            }
            auto p = static_cast<std::size_t>(m->partition);
            if (p < goals.size() && m->offset + 1 >= goals[p].high) {
                goals[p].done = true;
            }
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ++t.errors;
            if (t.first_error.empty()) {
                t.first_error = rd_kafka_message_errstr(m);
            }
        }
        rd_kafka_message_destroy(m);
    }
}

bool all_done(const std::vector<partition_goal>& goals) {
    for (const auto& g : goals) {
        if (!g.done) {
            return false;
        }
    }
    return true;
}

}  // namespace

result<report> run_consume(const options& o) {
    client_log log;
    report r;
    r.workload = "consume";
    GREGOR_TRY(kafka_handle rk, make_consumer(o, log));
    // A topic handle makes the client cache the topic's leaders from the metadata fetched
    // below; without it assign() waits for a timer before looking the leader up.
    topic_handle known(rd_kafka_topic_new(rk.get(), o.topic.c_str(), nullptr));
    GREGOR_TRY(topic_layout layout, ensure_topic(rk.get(), o, log, r.notes));
    GREGOR_TRY(auto goals, watermarks(rk.get(), o, layout));
    std::int64_t target = records_to_read(goals);
    if (o.records) {
        target = std::min(target, *o.records);
    }
    std::vector<std::int64_t> starts(goals.size(), RD_KAFKA_OFFSET_BEGINNING);
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk.get());
    auto assigned = clock_type::now();
    GREGOR_TRY_VOID(assign_all(rk.get(), o.topic, starts));
    consume_totals t;
    t.target = target;
    t.last_record = assigned;
    std::optional<clock_type::time_point> first_record;
    progress bar("records", target, std::nullopt);
    std::array<rd_kafka_message_t*, batch_records_max> msgs{};
    while (t.records < target && !all_done(goals)) {
        std::size_t n = next_batch(rk.get(), queue, msgs.data(), msgs.size(), batch_wait_ms);
        if (n > 0) {
            // The clock starts at the first record: connecting and finding the start
            // offsets is reported apart (first_record_ms), not averaged into the rate.
            first_record = first_record.value_or(clock_type::now());
            count_batch(msgs.data(), n, goals, t);
            t.last_record = clock_type::now();
        } else if (clock_type::now() - t.last_record > timeout_of(o)) {
            break;
        }
        bar.update(t.records);
    }
    bar.finish();
    rd_kafka_queue_destroy(queue);
    (void)rd_kafka_assign(rk.get(), nullptr);  // on the way out: cannot change the figures
    auto start = first_record.value_or(assigned);
    double seconds = std::chrono::duration<double>(t.last_record - start).count();
    r.parameters = {{"bootstrap", o.bootstrap},
                    {"topic", o.topic},
                    {"partitions", goals.size()},
                    {"records_at_start", records_to_read(goals)}};
    r.results = rate_figures(t.records, t.bytes, seconds);
    r.results.push_back({"errors", static_cast<double>(t.errors), "consumer errors"});
    r.results.push_back({"first_record_ms",
                         std::chrono::duration<double, std::milli>(start - assigned).count(),
                         "ms from assign() to the first record"});
    if (t.records < target) {
        r.failure = fmt::format("read {} of {} record(s) before {} s without progress{}", t.records,
                                target, o.timeout_s,
                                t.first_error.empty() ? "" : "; first error: " + t.first_error);
    }
    return r;
}

}  // namespace gregor::bench

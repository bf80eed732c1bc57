// The e2e workload: a producer thread sends at --rate records/s with its send time in each
// record, and the main thread consumes them (assigned at the high watermarks seen at the
// start, so only this run's records) and measures send-to-receive latency. Both ends use the
// same monotonic clock, as they run in one process.
#include "bench/clock.h"
#include "bench/consume.h"
#include "bench/errc.h"
#include "bench/progress.h"
#include "bench/workloads.h"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr double default_duration_s = 10;
constexpr int latency_batch_wait_ms = 10;
constexpr auto consumer_warm_up = std::chrono::milliseconds(500);

// A client_log itself, so the one opaque pointer serves log and delivery callbacks.
struct sender : client_log {
    kafka_handle rk;
    topic_handle topic;
    std::int64_t to_send = 0;
    std::atomic<std::int64_t> sent{0};
    std::atomic<std::int64_t> failed{0};
    std::atomic<bool> finished{false};
};

void on_e2e_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        static_cast<sender*>(static_cast<client_log*>(opaque))->failed.fetch_add(1);
    }
}

result<void> open_sender(const options& o, sender& s) {
    std::vector<std::pair<std::string, std::string>> settings{{"acks", acks_setting(o.acks)},
                                                              {"compression.type", o.compression}};
    if (o.linger_ms) {
        settings.emplace_back("linger.ms", std::to_string(*o.linger_ms));
    }
    GREGOR_TRY(conf_handle conf, make_conf(o, s, settings));
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_e2e_delivery);
    GREGOR_TRY(s.rk, make_client(RD_KAFKA_PRODUCER, std::move(conf)));
    s.topic.reset(rd_kafka_topic_new(s.rk.get(), o.topic.c_str(), nullptr));
    GREGOR_TRY(metadata_handle md, fetch_metadata(s.rk.get(), o.bootstrap, timeout_of(o), s));
    return ok();
}

// Sends s.to_send records paced at o.rate: every record due by now goes out at once, then
// the thread sleeps until the next one is due.
void send_paced(const options& o, sender& s) {
    std::vector<char> payload(static_cast<std::size_t>(o.record_size), 'e');
    auto start = clock_type::now();
    std::int64_t i = 0;
    while (i < s.to_send) {
        auto due = start + std::chrono::duration_cast<clock_type::duration>(
                               std::chrono::duration<double>(static_cast<double>(i) / o.rate));
        std::this_thread::sleep_until(due);
        std::uint64_t stamp = now_ns();
        std::memcpy(payload.data(), &stamp, sizeof stamp);
        std::memcpy(payload.data() + sizeof stamp, &i, sizeof i);
        if (rd_kafka_produce(s.topic.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             payload.data(), payload.size(), nullptr, 0, nullptr) != 0) {
            if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(s.rk.get(), 1);
                continue;
            }
            s.failed.fetch_add(1);
        }
        ++i;
        s.sent.store(i, std::memory_order_relaxed);
        rd_kafka_poll(s.rk.get(), 0);
    }
    rd_kafka_flush(s.rk.get(), static_cast<int>(timeout_of(o).count()));
    s.finished.store(true);
}

struct received {
    histogram latency;
    std::int64_t records = 0;
    std::int64_t errors = 0;
};

void count_batch(rd_kafka_message_t** msgs, std::size_t n, received& got) {
    std::uint64_t now = now_ns();
    for (std::size_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = msgs[i];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->len >= sizeof(std::uint64_t)) {
            std::uint64_t stamp = 0;
            std::memcpy(&stamp, m->payload, sizeof stamp);
            got.latency.record(now - std::min(now, stamp));
            ++got.records;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ++got.errors;
        }
        rd_kafka_message_destroy(m);
    }
}

// Consumes until the sender is done and every record it sent arrived, or nothing arrives
// for --timeout.
received receive(const options& o, rd_kafka_t* consumer, sender& s) {
    received got;
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer);
    std::array<rd_kafka_message_t*, batch_records_max> msgs{};
    auto last = clock_type::now();
    progress bar("records", s.to_send, std::nullopt);
    while (!(s.finished.load() && got.records >= s.sent.load() - s.failed.load())) {
        std::size_t n =
            next_batch(consumer, queue, msgs.data(), msgs.size(), latency_batch_wait_ms);
        if (n > 0) {
            count_batch(msgs.data(), n, got);
            last = clock_type::now();
        } else if (clock_type::now() - last > timeout_of(o)) {
            break;
        }
        bar.update(got.records);
    }
    bar.finish();
    rd_kafka_queue_destroy(queue);
    return got;
}

result<std::vector<std::int64_t>> high_watermarks(rd_kafka_t* rk, const options& o,
                                                  std::size_t partitions) {
    std::vector<std::int64_t> highs(partitions);
    for (std::size_t p = 0; p < partitions; ++p) {
        std::int64_t low = 0;
        auto err =
            rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), static_cast<int>(p), &low,
                                             &highs[p], static_cast<int>(timeout_of(o).count()));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return error(errc::topic_unavailable,
                         fmt::format("watermarks of {}-{}: {}", o.topic, p, rd_kafka_err2str(err)));
        }
    }
    return highs;
}

}  // namespace

result<report> run_e2e(const options& o) {
    client_log log;
    report r;
    r.workload = "e2e";
    GREGOR_TRY(kafka_handle consumer, make_consumer(o, log));
    topic_handle known(rd_kafka_topic_new(consumer.get(), o.topic.c_str(), nullptr));
    GREGOR_TRY(topic_layout layout, ensure_topic(consumer.get(), o, log, r.notes));
    GREGOR_TRY(auto highs, high_watermarks(consumer.get(), o, layout.leaders.size()));
    GREGOR_TRY_VOID(assign_all(consumer.get(), o.topic, highs));
    rd_kafka_message_t* warm =
        rd_kafka_consumer_poll(consumer.get(), static_cast<int>(consumer_warm_up.count()));
    if (warm != nullptr) {
        rd_kafka_message_destroy(warm);
    }
    sender s;
    GREGOR_TRY_VOID(open_sender(o, s));
    double duration = o.duration_s.value_or(default_duration_s);
    s.to_send = o.records ? *o.records : static_cast<std::int64_t>(o.rate * duration);
    s.to_send = std::max<std::int64_t>(s.to_send, 1);
    auto start = clock_type::now();
    std::thread producer([&] { send_paced(o, s); });
    received got = receive(o, consumer.get(), s);
    producer.join();
    double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    (void)rd_kafka_assign(consumer.get(), nullptr);
    r.parameters = {{"bootstrap", o.bootstrap},
                    {"topic", o.topic},
                    {"partitions", layout.leaders.size()},
                    {"rate", o.rate},
                    {"records", s.to_send},
                    {"record_size", o.record_size},
                    {"acks", o.acks},
                    {"linger_ms", o.linger_ms ? nlohmann::ordered_json(*o.linger_ms)
                                              : nlohmann::ordered_json("librdkafka default")}};
    r.results = rate_figures(got.records, got.records * o.record_size, seconds);
    r.results.push_back({"send_errors", static_cast<double>(s.failed.load()), "records"});
    r.results.push_back({"receive_errors", static_cast<double>(got.errors), "consumer errors"});
    r.latency = summarize("e2e_latency_ms", got.latency);
    if (got.records < s.to_send || s.failed.load() > 0) {
        r.failure = fmt::format("{} of {} record(s) arrived; {} send error(s)", got.records,
                                s.to_send, s.failed.load());
    }
    return r;
}

}  // namespace gregor::bench

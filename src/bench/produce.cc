// The produce workload: --producers threads, each with its own librdkafka producer, send
// fixed-size records as fast as librdkafka takes them; the delivery report callback measures
// each record's acknowledgement latency (produce() call to delivery report) into the
// thread's own histogram.
#include "bench/clock.h"
#include "bench/errc.h"
#include "bench/kafka.h"
#include "bench/progress.h"
#include "bench/workloads.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <random>
#include <thread>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr int poll_every_records = 1000;
constexpr auto progress_interval = std::chrono::milliseconds(100);

// One producer thread's state. The delivery callback runs on this thread (inside poll and
// flush), so only the atomics are read by others.
// It is a client_log so that one opaque pointer serves both the log callbacks (which see
// the client_log) and the delivery callback (which sees the slot).
struct producer_slot : client_log {
    kafka_handle rk;
    topic_handle topic;
    histogram latency;
    std::atomic<std::int64_t> acked{0};
    std::atomic<std::int64_t> failed{0};
    std::uint64_t last_ack_ns = 0;
    std::string first_error;
    std::int64_t quota = 0;  // records to send; 0 = until the deadline
    std::int64_t first_key = 0;  // --keys: this producer's round-robin starts here
};

void on_produce_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
    (void)rk;
    auto* slot = static_cast<producer_slot*>(static_cast<client_log*>(opaque));
    std::uint64_t now = now_ns();
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (slot->first_error.empty()) {
            slot->first_error = rd_kafka_err2str(m->err);
        }
        slot->failed.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    auto sent = reinterpret_cast<std::uintptr_t>(m->_private);
    slot->latency.record(now - std::min<std::uint64_t>(now, sent));
    slot->last_ack_ns = now;
    slot->acked.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::pair<std::string, std::string>> producer_settings(const options& o) {
    std::vector<std::pair<std::string, std::string>> s{{"acks", acks_setting(o.acks)},
                                                       {"compression.type", o.compression}};
    if (o.idempotent) {
        s.emplace_back("enable.idempotence", "true");
    }
    if (o.linger_ms) {
        s.emplace_back("linger.ms", std::to_string(*o.linger_ms));
    }
    if (o.batch_size) {
        s.emplace_back("batch.size", std::to_string(*o.batch_size));
    }
    return s;
}

result<void> open_slot(const options& o, producer_slot& slot) {
    GREGOR_TRY(conf_handle conf, make_conf(o, slot, producer_settings(o)));
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_produce_delivery);
    GREGOR_TRY(slot.rk, make_client(RD_KAFKA_PRODUCER, std::move(conf)));
    slot.topic.reset(rd_kafka_topic_new(slot.rk.get(), o.topic.c_str(), nullptr));
    if (!slot.topic) {
        return error(errc::client_error, fmt::format("topic handle for {}", o.topic));
    }
    // Connect before the clock starts: connection set-up is not throughput.
    GREGOR_TRY(metadata_handle md, fetch_metadata(slot.rk.get(), o.bootstrap, timeout_of(o), slot));
    return ok();
}

std::vector<char> make_payload(std::int64_t size, std::uint64_t seed) {
    // Random upper-case letters, like Kafka's own producer benchmark: some entropy, so
    // compression has realistic work to do.
    std::vector<char> p(static_cast<std::size_t>(size));
    std::mt19937_64 rng(seed);
    for (auto& c : p) {
        c = static_cast<char>('A' + rng() % 26);
    }
    return p;
}

void produce_loop(const options& o, producer_slot& slot, clock_type::time_point deadline,
                  std::atomic<bool>& stop) {
    std::vector<char> payload =
        make_payload(o.record_size, reinterpret_cast<std::uintptr_t>(&slot));
    std::int64_t sent = 0;
    std::int64_t key = slot.first_key;
    std::array<char, 32> key_buf{};
    while (!stop.load(std::memory_order_relaxed)) {
        if (slot.quota > 0 ? sent >= slot.quota : clock_type::now() >= deadline) {
            break;
        }
        void* stamp = reinterpret_cast<void*>(static_cast<std::uintptr_t>(now_ns()));
        std::size_t key_len = 0;
        if (o.keys) {  // librdkafka copies the key
            key_len = static_cast<std::size_t>(
                fmt::format_to_n(key_buf.data(), key_buf.size(), "key-{}", key).out -
                key_buf.data());
        }
        // No copy flag: the payload outlives every message of this producer.
        if (rd_kafka_produce(slot.topic.get(), RD_KAFKA_PARTITION_UA, 0, payload.data(),
                             payload.size(), o.keys ? key_buf.data() : nullptr, key_len,
                             stamp) != 0) {
            auto err = rd_kafka_last_error();
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(slot.rk.get(), 1);
                continue;
            }
            slot.failed.fetch_add(1, std::memory_order_relaxed);
            if (slot.first_error.empty()) {
                slot.first_error = rd_kafka_err2str(err);
            }
        }
        if (o.keys && ++key == *o.keys) {
            key = 0;
        }
        if (++sent % poll_every_records == 0) {
            rd_kafka_poll(slot.rk.get(), 0);
        }
    }
    auto left = std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(timeout_of(o)).count());
    if (rd_kafka_flush(slot.rk.get(), static_cast<int>(left)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        slot.failed.fetch_add(rd_kafka_outq_len(slot.rk.get()), std::memory_order_relaxed);
        if (slot.first_error.empty()) {
            slot.first_error = "records still unacknowledged at the end of --timeout";
        }
    }
}

struct produce_totals {
    histogram latency;
    std::int64_t acked = 0;
    std::int64_t failed = 0;
    std::uint64_t last_ack_ns = 0;
    std::string first_error;
};

produce_totals add_up(const std::vector<std::unique_ptr<producer_slot>>& slots) {
    produce_totals t;
    for (const auto& s : slots) {
        t.latency.merge(s->latency);
        t.acked += s->acked.load();
        t.failed += s->failed.load();
        t.last_ack_ns = std::max(t.last_ack_ns, s->last_ack_ns);
        if (t.first_error.empty()) {
            t.first_error = s->first_error;
        }
    }
    return t;
}

// Starts one thread per slot and shows progress until they are all done.
void drive(const options& o, std::vector<std::unique_ptr<producer_slot>>& slots) {
    auto deadline =
        clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                std::chrono::duration<double>(o.duration_s.value_or(0)));
    std::atomic<bool> stop{false};
    std::atomic<int> running{static_cast<int>(slots.size())};
    std::vector<std::thread> threads;
    for (auto& s : slots) {
        threads.emplace_back([&, slot = s.get()] {
            produce_loop(o, *slot, deadline, stop);
            running.fetch_sub(1);
        });
    }
    progress bar("records", o.records, o.duration_s);
    while (running.load() > 0) {
        std::int64_t acked = 0;
        for (const auto& s : slots) {
            acked += s->acked.load(std::memory_order_relaxed);
        }
        bar.update(acked);
        std::this_thread::sleep_for(progress_interval);
    }
    bar.finish();
    for (auto& t : threads) {
        t.join();
    }
}

nlohmann::ordered_json produce_parameters(const options& o, const topic_layout& layout) {
    nlohmann::ordered_json p;
    p["bootstrap"] = o.bootstrap;
    p["topic"] = o.topic;
    p["partitions"] = layout.leaders.size();
    if (o.duration_s) {
        p["duration_s"] = *o.duration_s;
    } else {
        p["records"] = o.records.value_or(0);
    }
    p["record_size"] = o.record_size;
    p["acks"] = o.acks;
    p["producers"] = o.producers;
    p["linger_ms"] = o.linger_ms ? nlohmann::ordered_json(*o.linger_ms) : "librdkafka default";
    p["batch_size"] = o.batch_size ? nlohmann::ordered_json(*o.batch_size) : "librdkafka default";
    p["compression"] = o.compression;
    p["idempotent"] = o.idempotent;
    if (o.keys) {
        p["keys"] = *o.keys;  // "key-<i>", round-robin
    }
    return p;
}

}  // namespace

result<report> run_produce(const options& raw) {
    options o = raw;
    if (!o.records && !o.duration_s) {
        o.records = default_records;
    }
    client_log log;
    GREGOR_TRY(conf_handle conf, make_conf(o, log, {}));
    GREGOR_TRY(kafka_handle admin, make_client(RD_KAFKA_PRODUCER, std::move(conf)));
    report r;
    r.workload = "produce";
    GREGOR_TRY(topic_layout layout, ensure_topic(admin.get(), o, log, r.notes));
    std::vector<std::unique_ptr<producer_slot>> slots;
    for (int i = 0; i < o.producers; ++i) {
        slots.push_back(std::make_unique<producer_slot>());
        if (o.keys) {
            slots.back()->first_key = *o.keys * i / o.producers;
        }
        if (o.records) {
            slots.back()->quota = *o.records / o.producers + (i < *o.records % o.producers);
        }
        GREGOR_TRY_VOID(open_slot(o, *slots.back()));
    }
    std::uint64_t start_ns = now_ns();
    drive(o, slots);
    produce_totals t = add_up(slots);
    double seconds = static_cast<double>(std::max(t.last_ack_ns, start_ns) - start_ns) / 1e9;
    r.parameters = produce_parameters(o, layout);
    r.results = rate_figures(t.acked, t.acked * o.record_size, seconds);
    r.results.push_back({"errors", static_cast<double>(t.failed), "records not acknowledged"});
    r.latency = summarize("ack_latency_ms", t.latency);
    if (t.failed > 0 || t.acked == 0) {
        r.failure = fmt::format("{} record(s) failed, {} acknowledged; first error: {}", t.failed,
                                t.acked, t.first_error.empty() ? "none" : t.first_error);
    }
    return r;
}

}  // namespace gregor::bench

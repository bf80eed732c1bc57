#include "bench/failover_producer.h"

#include "bench/errc.h"
#include "bench/kafka.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace gregor::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto wait_step = std::chrono::milliseconds(10);

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
        .count();
}

}  // namespace

// A client_log itself, so the one opaque pointer serves log and delivery callbacks.
struct failover_producer::state : client_log {
    options opts;
    kafka_handle rk;
    topic_handle topic;
    // Per partition, in ns: the latest acknowledgement (0 = none yet), and the longest gap
    // between two acknowledgements that ends after the kill.
    std::vector<std::int64_t> last_ack;
    std::vector<std::int64_t> window;
    // Per partition: a record sent after the failover was seen to be over was acknowledged
    // (the window is closed).
    std::vector<char> recovered_flag;
    std::atomic<std::int64_t> killed_ns{0};
    std::atomic<std::int64_t> settled_ns{0};  // 0 = not yet
    std::atomic<std::size_t> recovered{0};
    std::atomic<bool> stop{false};
    std::int64_t failed = 0;
    std::thread thread;
};

namespace {

// Each record carries its send time (ns) as librdkafka's per-message opaque. A partition's
// window is the longest gap between its acknowledgements that ends after the kill, observed
// until a record sent after the failover was over is acknowledged. Measuring from the kill
// itself would be wrong twice: records in flight at the kill (or sent while a kill command
// or a controlled shutdown is still under way) are acknowledged after it, and the outage only
// starts once the broker is really gone.
void on_failover_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* s = static_cast<failover_producer::state*>(static_cast<client_log*>(opaque));
    auto p = static_cast<std::size_t>(m->partition);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || p >= s->last_ack.size()) {
        ++s->failed;
        return;
    }
    std::int64_t now = steady_ns();
    std::int64_t killed = s->killed_ns.load();
    if (s->recovered_flag[p] != 0) {
        return;
    }
    if (killed != 0 && now >= killed && s->last_ack[p] != 0) {
        s->window[p] = std::max(s->window[p], now - s->last_ack[p]);
        auto sent = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(m->_private));
        std::int64_t settled = s->settled_ns.load();
        if (settled != 0 && sent >= settled) {
            s->recovered_flag[p] = 1;
            s->recovered.fetch_add(1);
        }
    }
    s->last_ack[p] = now;
}

void send_round_robin(failover_producer::state& s) {
    std::vector<char> payload(static_cast<std::size_t>(s.opts.record_size), 'f');
    auto partitions = static_cast<std::int64_t>(s.last_ack.size());
    auto start = clock_type::now();
    for (std::int64_t i = 0; !s.stop.load(); ++i) {
        std::this_thread::sleep_until(
            start + std::chrono::duration_cast<clock_type::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) / s.opts.rate)));
        auto partition = static_cast<std::int32_t>(i % partitions);
        auto sent = reinterpret_cast<void*>(static_cast<std::intptr_t>(steady_ns()));
        while (rd_kafka_produce(s.topic.get(), partition, 0, payload.data(), payload.size(),
                                nullptr, 0, sent) != 0 &&
               !s.stop.load()) {
            rd_kafka_poll(s.rk.get(), 1);  // queue full: wait for room
        }
        rd_kafka_poll(s.rk.get(), 0);
    }
    (void)rd_kafka_flush(s.rk.get(), 1000);  // stragglers do not change the windows
}

}  // namespace

failover_producer::failover_producer(std::unique_ptr<state> s) : state_(std::move(s)) {}

failover_producer::~failover_producer() {
    state_->stop.store(true);
    if (state_->thread.joinable()) {
        state_->thread.join();
    }
}

result<std::unique_ptr<failover_producer>> failover_producer::start(const options& o,
                                                                    std::size_t partitions) {
    auto s = std::make_unique<state>();
    s->opts = o;
    s->last_ack.assign(partitions, 0);
    s->window.assign(partitions, 0);
    s->recovered_flag.assign(partitions, 0);
    GREGOR_TRY(conf_handle conf, make_conf(o, *s, {{"acks", acks_setting(o.acks)}}));
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_failover_delivery);
    GREGOR_TRY(s->rk, make_client(RD_KAFKA_PRODUCER, std::move(conf)));
    s->topic.reset(rd_kafka_topic_new(s->rk.get(), o.topic.c_str(), nullptr));
    if (!s->topic) {
        return error(errc::client_error, fmt::format("topic handle for {}", o.topic));
    }
    state* raw = s.get();
    s->thread = std::thread([raw] { send_round_robin(*raw); });
    return std::unique_ptr<failover_producer>(new failover_producer(std::move(s)));
}

void failover_producer::mark_kill(clock_type::time_point killed) {
    state_->killed_ns.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(killed.time_since_epoch()).count());
}

void failover_producer::finish(report& r) {
    state& s = *state_;
    s.settled_ns.store(steady_ns());
    auto deadline = clock_type::now() + timeout_of(s.opts);
    while (s.recovered.load() < s.last_ack.size() && clock_type::now() < deadline) {
        std::this_thread::sleep_for(wait_step);
    }
    s.stop.store(true);
    s.thread.join();
    // An outage is a window longer than four rounds of the producer over the partitions (and
    // at least 200 ms): shorter ones are the round-robin itself.
    double round_ms = 1000.0 * static_cast<double>(s.last_ack.size()) / s.opts.rate;
    auto outage_ns = static_cast<std::int64_t>(std::max(200.0, 4 * round_ms) * 1e6);
    histogram windows;
    std::size_t never = 0;
    std::size_t unavailable = 0;
    for (std::size_t p = 0; p < s.last_ack.size(); ++p) {
        if (s.recovered_flag[p] == 0) {
            ++never;
            continue;
        }
        windows.record(static_cast<std::uint64_t>(s.window[p]));
        if (s.window[p] > outage_ns) {
            ++unavailable;
        }
    }
    latency_summary w = summarize("unavailability_ms", windows);
    r.results.push_back({"partitions_measured", static_cast<double>(windows.count()), ""});
    r.results.push_back({"partitions_unavailable", static_cast<double>(unavailable), ""});
    r.results.push_back({"partitions_not_recovered", static_cast<double>(never), ""});
    r.results.push_back({"produce_errors", static_cast<double>(s.failed), "records"});
    r.latency = w;
    if (never > 0) {
        r.failure = fmt::format("{} partition(s) had no acknowledged record after the kill", never);
    }
}

}  // namespace gregor::bench

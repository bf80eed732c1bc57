#include "integration/replication/acked_producer.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace gregor::test {

namespace {

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(fmt::format("producer setting {}={}: {}", key, value, err));
    }
}

// librdkafka's own log lines would drown the test output; the delivery reports say enough.
void quiet_log(const rd_kafka_t*, int, const char*, const char*) {}

}  // namespace

acked_producer::acked_producer(producer_options o) : options_(std::move(o)) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", options_.bootstrap);
    set(conf, "acks", "all");
    set(conf, "enable.idempotence", options_.idempotent ? "true" : "false");
    // Without idempotence, one request in flight per connection: librdkafka keeps a
    // partition's records in send order through retries (the log's order; the order of
    // acknowledgements can still differ across a leader change, see check_acknowledged).
    // With it, the broker's sequence checks keep the order with five in flight.
    set(conf, "max.in.flight.requests.per.connection", options_.idempotent ? "5" : "1");
    set(conf, "retries", "1000000");
    set(conf, "retry.backoff.ms", "100");
    set(conf, "linger.ms", "5");
    set(conf, "request.timeout.ms", "5000");
    // librdkafka waits socket.timeout.ms (60 s by default) for any answer, Metadata
    // included: a request sent to a paused broker would stall the producer that long.
    set(conf, "socket.timeout.ms", "5000");
    set(conf, "message.timeout.ms", std::to_string(options_.message_timeout.count()));
    set(conf, "topic.metadata.refresh.interval.ms", "2000");
    set(conf, "queue.buffering.max.messages", std::to_string(options_.unreported_max + 100));
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rd_kafka_conf_set_opaque(conf, this);
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(fmt::format("cannot create a producer: {}", err));
    }
    topic_ = rd_kafka_topic_new(rk_, options_.topic.c_str(), nullptr);
    if (topic_ == nullptr) {
        rd_kafka_destroy(rk_);
        throw std::runtime_error("cannot create a topic handle for " + options_.topic);
    }
    thread_ = std::thread([this] { run(); });
}

acked_producer::~acked_producer() {
    stop_.store(true);
    if (thread_.joinable()) {
        thread_.join();
    }
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_, 5000);
    rd_kafka_topic_destroy(topic_);
    rd_kafka_destroy(rk_);
}

bool acked_producer::stop(std::chrono::milliseconds limit) {
    stop_.store(true);
    if (thread_.joinable()) {
        thread_.join();
    }
    rd_kafka_flush(rk_, static_cast<int>(limit.count()));
    return reported_.load() == sent_.load();
}

void acked_producer::run() {
    auto next = std::chrono::steady_clock::now();
    while (!stop_.load()) {
        bool can_send = sent_.load() != options_.records_max &&
                        std::chrono::steady_clock::now() >= next &&
                        sent_.load() - reported_.load() < options_.unreported_max;
        // Waits (up to 1 ms) for delivery reports only when there is nothing to send.
        rd_kafka_poll(rk_, can_send ? 0 : 1);
        if (!can_send) {
            continue;
        }
        if (send_one(sent_.load())) {
            sent_.fetch_add(1);
        }
        // After a stall (the unreported bound), resume the pace instead of bursting.
        next = std::max(next + options_.pace, std::chrono::steady_clock::now() - options_.pace);
    }
}

bool acked_producer::send_one(std::int64_t n) {
    std::string value = fmt::format("{}-{}", options_.prefix, n);
    // rd_kafka_producev's argument macros are C casts (-Wold-style-cast): use the plain call.
    int rc = rd_kafka_produce(topic_, options_.partition, RD_KAFKA_MSG_F_COPY, value.data(),
                              value.size(), nullptr, 0,
                              reinterpret_cast<void*>(static_cast<std::intptr_t>(n)));
    return rc == 0;
}

void acked_producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<acked_producer*>(opaque);
    auto n = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(m->_private));
    {
        std::lock_guard lock(self->mutex_);
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            self->acked_.push_back({n, m->offset});
        } else {
            ++self->failures_[rd_kafka_err2str(m->err)];
        }
    }
    self->reported_.fetch_add(1);
}

void acked_producer::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        return;  // transient (a broker down): librdkafka retries on its own
    }
    auto* self = static_cast<acked_producer*>(opaque);
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    std::lock_guard lock(self->mutex_);
    ++self->failures_[fmt::format("fatal: {} ({})", fatal, reason)];
}

std::int64_t acked_producer::acked_count() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::int64_t>(acked_.size());
}

std::vector<acked_record> acked_producer::acked() const {
    std::lock_guard lock(mutex_);
    return acked_;
}

std::map<std::string, std::int64_t> acked_producer::failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
}

}  // namespace gregor::test

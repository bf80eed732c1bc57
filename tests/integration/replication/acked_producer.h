// acked_producer: a librdkafka producer (acks=all; by default no idempotence and one request
// in flight)
// that sends numbered records to one partition from its own thread and remembers which
// ones the cluster acknowledged and at which offset.
//
// Record n has the value "<prefix>-<n>" (n = 0, 1, 2, ...), so a record read back names
// the send it came from, and a value the producer never sent is recognisable. Sends are
// paced (one every `pace`) and bounded: at most `unreported_max` records wait for their
// delivery report at any time. librdkafka retries each record until message.timeout.ms;
// a record whose report carries no error is "acknowledged" (acks=all: the leader saw it
// committed to min.insync.replicas replicas), one with an error is "failed".
//
// Threads: the sending thread owns the librdkafka handle (it runs the delivery callbacks
// through rd_kafka_poll); the test thread reads the results through the mutex-guarded
// accessors. stop() joins the thread; the destructor stops it too.
#pragma once

#include "integration/replication/replication_checks.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gregor::test {

struct producer_options {
    std::string bootstrap;
    std::string topic;
    std::int32_t partition = 0;
    std::string prefix = "r";
    std::chrono::milliseconds pace{5};
    std::int64_t unreported_max = 2000;
    std::chrono::milliseconds message_timeout{30000};
    // Stop sending after this many records (-1: until stop()).
    std::int64_t records_max = -1;
    // enable.idempotence with up to 5 requests in flight, as Kafka producers run it; a fatal
    // error of the idempotent producer counts as a failure named "fatal: <reason>".
    bool idempotent = false;
};

class acked_producer {
public:
    // Creates the client and starts sending. Throws std::runtime_error if librdkafka
    // refuses the configuration.
    explicit acked_producer(producer_options o);
    ~acked_producer();
    acked_producer(const acked_producer&) = delete;
    acked_producer& operator=(const acked_producer&) = delete;

    // Stops sending, then waits up to `limit` for the delivery reports of every record
    // sent. Returns true iff none is left unreported.
    bool stop(std::chrono::milliseconds limit);

    // Records handed to librdkafka so far (their numbers are 0 .. sent()-1).
    std::int64_t sent() const { return sent_.load(); }
    std::int64_t acked_count() const;
    // Acknowledged records in the order their reports arrived.
    std::vector<acked_record> acked() const;
    // Failed records per error name (e.g. "Local: Message timed out").
    std::map<std::string, std::int64_t> failures() const;
    const std::string& prefix() const { return options_.prefix; }

private:
    static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
    static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
    void run();
    bool send_one(std::int64_t n);

    producer_options options_;
    rd_kafka_t* rk_ = nullptr;
    rd_kafka_topic_t* topic_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<std::int64_t> sent_{0};
    std::atomic<std::int64_t> reported_{0};
    mutable std::mutex mutex_;
    std::vector<acked_record> acked_;
    std::map<std::string, std::int64_t> failures_;
};

}  // namespace gregor::test

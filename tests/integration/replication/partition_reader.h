// Reading one partition back, the ways a test needs: as a consumer does (Fetch from the
// leader, which serves only records below the high watermark), continuously while the
// cluster fails and heals (tailing_reader), and straight from a broker's log directory on
// disk (to compare replicas).
//
// Records are identified by offset and value; batches are parsed with model's batch
// reader and protocol/records, and a torn or malformed batch ends the record set (a log
// being written, a fetch cut at max bytes). Blocking helpers for the test thread, except
// tailing_reader, which runs its own thread and is read through its accessors.
#pragma once

#include "base/bytes.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gregor::test {

// Offset -> value of the records of one partition.
using partition_log = std::map<std::int64_t, std::string>;

// The records of a record set (consecutive v2 batches), in order; stops at the first batch
// that is incomplete or malformed.
std::vector<std::pair<std::int64_t, std::string>> parse_record_set(bytes_view data);

// The records in the partition's directory `dir` (<log.dirs>/<topic>-<partition>): every
// *.log segment in name order, each parsed up to its first torn batch.
partition_log read_log_dir(const std::filesystem::path& dir);

// The leader of the partition as broker `port`'s Metadata names it: (broker id, port), or
// nullopt if that broker is unreachable or names no live leader.
struct leader_address {
    int id = -1;
    std::uint16_t port = 0;
};
std::optional<leader_address> leader_of(std::uint16_t port, const std::string& topic,
                                        std::int32_t partition);

// One consumer Fetch (v4, replica id -1) of the partition from `offset`.
struct fetch_result {
    std::int16_t error = 0;
    std::int64_t high_watermark = -1;
    std::vector<std::pair<std::int64_t, std::string>> records;
};
// Throws on connection errors and timeouts (a dead or paused broker).
fetch_result fetch_once(std::uint16_t port, const std::string& topic, std::int32_t partition,
                        std::int64_t offset, std::chrono::milliseconds max_wait);

// Everything the leader at `port` serves from offset 0 to its high watermark, as a
// consumer sees it. `error` says why not (a Kafka error code or a connection failure).
struct read_back {
    std::int64_t high_watermark = -1;
    partition_log records;
    std::string error;  // empty iff the whole range was read
};
read_back read_to_high_watermark(std::uint16_t port, const std::string& topic,
                                 std::int32_t partition);

// A consumer that follows the partition from offset 0 on its own thread, through leader
// changes: it asks the brokers in `ports` for the leader, fetches from it, and on any
// error looks for the leader again. It remembers every record it was served.
class tailing_reader {
public:
    tailing_reader(std::vector<std::uint16_t> ports, std::string topic, std::int32_t partition);
    ~tailing_reader();
    tailing_reader(const tailing_reader&) = delete;
    tailing_reader& operator=(const tailing_reader&) = delete;

    // Stops the thread; the records seen so far stay readable.
    void stop();
    // Offset -> value of every record served so far.
    partition_log seen() const;
    // The offset it will fetch next.
    std::int64_t position() const { return next_.load(); }
    // Oddities met on the way (a record served twice with different values, an offset
    // going backwards), one line each; empty when all was well.
    std::vector<std::string> anomalies() const;
    // Fetch error codes met (a leader moving causes NOT_LEADER_OR_FOLLOWER, 6).
    std::map<std::int16_t, std::int64_t> errors() const;

private:
    void run();
    void follow(const leader_address& leader);

    std::vector<std::uint16_t> ports_;
    std::string topic_;
    std::int32_t partition_;
    std::atomic<bool> stop_{false};
    std::atomic<std::int64_t> next_{0};
    mutable std::mutex mutex_;
    partition_log seen_;
    std::vector<std::string> anomalies_;
    std::map<std::int16_t, std::int64_t> errors_;
    std::thread thread_;
};

}  // namespace gregor::test

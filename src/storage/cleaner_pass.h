// One cleaning pass over one log (Kafka's Cleaner.clean), run on a cleaner thread.
//
// Input: a snapshot of the log's sealed segments taken on the owner loop (their files are
// immutable while sealed: appends go to the active segment, and truncation or deletion
// of a snapshotted segment makes the owner discard this pass's output), the first dirty
// offset and the first uncleanable offset (a segment boundary).
//
// 1. Index: reads the dirty segments batch by batch and records, per key, the offset of
//    its latest record in the offset_map. When the map fills, the pass ends at the last
//    whole batch it covers; the rest waits for the next pass.
// 2. Clean: recopies every segment from the log start up to that end (the clean section
//    too: newer keys obsolete records there), grouped so that each output stays within
//    segment.bytes and the index limits, into `<base>.log.cleaned` files (plus indexes)
//    named after each group's first segment. A record survives iff it is the latest of
//    its key (or beyond what the map covers) and is not a tombstone whose delete horizon
//    passed; keyless records go. The last batch of every output keeps at least its last
//    record with a value (a stale one if need be; empty if it holds only tombstones: no fetch then answers with empty batches alone, which
//    kafka-python 2.0.2 cannot take), so every output ends exactly where its successor
//    begins (offsets never change, and recovery can still tell a cleaned segment from one
//    whose tail vanished), and so
//    is the last batch of every producer still in the producer state (Kafka's
//    RETAIN_EMPTY: sequence numbers survive). Tombstones kept for the first time get the
//    delete horizon now + delete.retention.ms (KIP-534).
//    A batch wholly inside the indexed section that holds none of the offsets the map
//    holds is dropped without being decompressed or parsed (every key there is in the map,
//    so none of its records is a latest one), when the map can list them.
// 3. The outputs are fsynced. The owner swaps them in (log::finish_clean).
//
// The pass never touches the live segments' files and never writes outside `.cleaned`
// names; on any error or abort it removes what it wrote. Reads and writes are throttled.
// Threading: any thread; the job's files may be read while the owner appends elsewhere.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "storage/file_system.h"
#include "storage/log_config.h"
#include "storage/offset_map.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gregor::storage {

// Caps the cleaners' combined read and write rate (log.cleaner.io.max.bytes.per.second):
// consume() sleeps the calling thread as long as the bytes so far are ahead of the rate.
// Idle time earns at most one second of credit, so a cleaner that slept an hour does not
// then run unthrottled. Thread-safe. stop() wakes every sleeper (shutdown).
class io_throttle {
public:
    using clock = std::chrono::steady_clock;
    explicit io_throttle(double bytes_per_second);
    void consume(std::uint64_t bytes);
    void stop();
    // Accounts `bytes` at `now`; returns when the caller may go on (the pure part of
    // consume, for tests). REQUIRES: a limited rate.
    clock::time_point reserve(std::uint64_t bytes, clock::time_point now);
    bool unlimited() const { return !(rate_ < std::numeric_limits<double>::max() / 2); }

private:
    double rate_;
    std::mutex mu_;
    std::condition_variable cv_;
    clock::time_point start_;  // the rate is counted from here (the first reserve)
    bool started_ = false;
    double bytes_ = 0;
    bool stopped_ = false;
};

// A sealed segment as the pass sees it.
struct clean_source {
    model::offset base;
    std::uint64_t size = 0;
    std::shared_ptr<file> log_file;
};

struct clean_job {
    model::topic_partition tp;
    std::string dir;
    log_config cfg;
    // Every sealed segment from the log start up to first_uncleanable, oldest first.
    std::vector<clean_source> segments;
    model::offset first_dirty;
    model::offset first_uncleanable;  // the base of a segment (or of the active one)
    // Producers in the producer state: the last offset of each one's last batch.
    std::unordered_map<std::int64_t, model::offset> producer_last;
    model::timestamp_ms now;
    std::uint64_t generation = 0;  // the log's truncation count when snapshotted
    std::shared_ptr<std::atomic<bool>> abort = std::make_shared<std::atomic<bool>>(false);
};

// One output segment replacing consecutive input segments.
struct cleaned_group {
    std::vector<model::offset> replaced;  // bases of the replaced segments, oldest first
    model::offset base;                   // == replaced.front()
    std::uint64_t size = 0;
};

struct clean_stats {
    std::uint64_t bytes_read = 0;      // both phases
    std::uint64_t bytes_recopied = 0;  // read by phase 2
    std::uint64_t bytes_written = 0;
    std::uint64_t dirty_bytes = 0;  // bytes of the dirty section indexed
    std::uint64_t records_indexed = 0;  // phase 1: the dirty section's records
    std::uint64_t records_read = 0;     // phase 2: the records recopied
    std::uint64_t records_kept = 0;
    // Phase 2's batches dropped without decompressing or parsing them: none of their
    // records was the latest of its key (key_offset_map::held_offsets).
    std::uint64_t batches_dropped_unread = 0;
    std::uint64_t keys_indexed = 0;  // map entries after indexing
    double map_utilization = 0;
    std::uint64_t tombstones_kept = 0;
    std::int64_t index_ms = 0;
    std::int64_t clean_ms = 0;
    bool read_on_thread = false;  // phase 1 read and decompressed on a thread of its own
};

struct clean_result {
    std::vector<cleaned_group> groups;
    model::offset end_offset;  // the new first dirty offset
    // The earliest delete horizon of a batch written with tombstones (nullopt: none): the
    // log should be cleaned again then, to drop them.
    std::optional<model::timestamp_ms> next_horizon;
    clean_stats stats;
};

// What log::cleanable() measured of one log (Kafka's LogToClean).
struct cleanable_range {
    model::offset first_dirty;
    model::offset first_uncleanable;  // a segment base
    std::uint64_t clean_bytes = 0;
    std::uint64_t dirty_bytes = 0;
    // max.compaction.lag.ms passed for the oldest dirty record: clean regardless of ratio.
    bool overdue = false;
    double dirty_ratio() const {
        auto total = clean_bytes + dirty_bytes;
        return total == 0 ? 0.0 : static_cast<double>(dirty_bytes) / static_cast<double>(total);
    }
};

struct clean_buffers {
    std::size_t io_bytes = 256 * 1024;  // read buffer; grows to the largest batch
    std::size_t max_batch_bytes = 16 * 1024 * 1024;
    // Phase 1 reads and decompresses on a thread of its own when the dirty section has at
    // least read_thread_bytes_min bytes, at most read_ahead_bytes of records ahead of the
    // indexing (and one batch more when a single one is larger).
    std::size_t read_ahead_bytes = 2 * 1024 * 1024;
    std::uint64_t read_thread_bytes_min = 1024 * 1024;
};

// Removes the `.cleaned` files of the output segment at `base` in `dir`, if any (an abandoned
// or dropped pass; whatever cannot be removed now goes at the next open).
void remove_cleaned_files(file_system& fs, const std::string& dir, model::offset base);

// Runs the pass (see the file comment). Returns errc::closed when aborted, errc::corrupt_segment
// for a batch that fails its CRC or does not parse, errc::invalid_config when the map cannot
// hold the keys of one batch, or the file system's error. `map` is cleared first.
result<clean_result> run_clean(file_system& fs, const clean_job& job, key_offset_map& map,
                               const clean_buffers& buffers, io_throttle& throttle);

}  // namespace gregor::storage

// log_cleaner: Kafka's LogCleaner and LogCleanerManager for one broker.
//
// On the owner loop, tick() (the broker calls it every second, and the cleaner re-ticks
// itself when a pass ends) looks at every compacted log (log_manager::for_each_compacted_log:
// the others cost nothing) that no pass is cleaning, measures
// its dirty section (log::cleanable, below the partition's high watermark), and starts a
// pass on each idle cleaner thread for the dirtiest eligible log: dirty ratio above
// min.cleanable.dirty.ratio, or max.compaction.lag.ms passed, or tombstones whose delete
// horizon passed. The pass (cleaner_pass.h) runs on that thread with the thread's own offset
// map (log.cleaner.dedupe.buffer.size / threads) and the shared I/O throttle; its result
// comes back to the loop, which swaps the output in (log::finish_clean), moves the log's
// first dirty offset, writes `cleaner-offset-checkpoint` of the log's dir (Kafka's format)
// on the I/O worker, and logs the pass. A log whose pass fails (a corrupt batch) is
// skipped until the broker restarts, as Kafka marks it uncleanable; an aborted pass (the
// log was truncated, deleted or shut) is simply dropped.
// After the pass: `compact,delete` logs also get time/size retention from the retention
// timer (log_manager::run_retention), as in Kafka.
//
// Threading: every public method on the owner loop. Passes run on `threads` workers.
#pragma once

#include "base/result.h"
#include "model/fundamental.h"
#include "storage/checkpoint.h"
#include "storage/cleaner_pass.h"
#include "storage/io_worker.h"
#include "storage/log_config.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace gregor::storage {

class log_manager;

// What the cleaner did last for one log (logged; shown by tools and metrics).
struct cleaner_log_status {
    model::offset first_dirty;
    std::optional<clean_stats> last;  // the last finished pass
    model::timestamp_ms last_ms{-1};  // when it finished
    std::uint64_t passes = 0;
    bool in_progress = false;
    bool uncleanable = false;
    std::string last_error;
    std::optional<model::timestamp_ms> next_horizon;  // tombstones to drop then
    std::uint64_t dirty_bytes = 0;  // the dirty section when the last pass started
    std::weak_ptr<int> log;  // the log this is about (a recreated log starts afresh)
    bool log_seen = false;
};

// What Kafka's LogCleaner and LogCleanerManager gauges report (kafka.log:type=LogCleaner and
// type=LogCleanerManager).
struct cleaner_summary {
    // Over each thread's last finished pass (0 before any):
    double max_buffer_utilization = 0;  // the fullest offset map, 0..1
    double recopy_ratio = 0;            // bytes written / bytes recopied (read in phase 2)
    double max_clean_time_s = 0;        // the longest pass (index + clean)
    model::timestamp_ms last_look{-1};  // the last tick (-1: none yet)
    // Per log dir (every online one, zeros included): logs given up on until restart, and
    // their dirty bytes when their failed pass started.
    struct uncleanable_dir {
        std::size_t partitions = 0;
        std::uint64_t bytes = 0;
    };
    std::map<std::string, uncleanable_dir> uncleanable;
};

class log_cleaner {
public:
    // The offset below which a log may be cleaned (its high watermark); nullopt: the log
    // end (a log no partition replicates, tests).
    using bound_source = std::function<std::optional<model::offset>(const model::topic_partition&)>;

    // `worker`: the I/O worker that writes checkpoints. `mode`: thread (broker) or manual
    // (tests: passes run in run_pending()).
    log_cleaner(log_manager& logs, file_system& fs, io_worker& worker, executor exec,
                cleaner_config cfg, bound_source bound,
                io_worker::mode mode = io_worker::mode::thread);
    ~log_cleaner();
    log_cleaner(const log_cleaner&) = delete;
    log_cleaner& operator=(const log_cleaner&) = delete;

    // Reads every online dir's cleaner-offset-checkpoint (a corrupt one: everything dirty).
    void load();
    // Starts passes on idle threads (see the file comment). Returns how many started.
    std::size_t tick(model::timestamp_ms now);
    // Manual mode: runs the queued passes on the calling thread. Returns how many ran.
    std::size_t run_pending();
    // Aborts running passes, waits for the threads and writes the checkpoints (shutdown).
    void stop();

    const cleaner_config& config() const { return cfg_; }
    std::optional<cleaner_log_status> status(const model::topic_partition& tp) const;
    // The dirty ratio of the dirtiest compacted log at the last tick (Kafka's max-dirty-percent).
    double max_dirty_ratio() const { return max_dirty_ratio_; }
    cleaner_summary summary() const;

private:
    struct worker_slot {
        std::unique_ptr<io_worker> thread;
        std::unique_ptr<key_offset_map> map;  // created on the first pass
        std::shared_ptr<std::atomic<bool>> abort;
        std::optional<model::topic_partition> busy;
        std::optional<clean_stats> last;  // of its last finished pass
    };

    // A compacted log's dirty section, and whether it is eligible now; nullopt when the log
    // is not one to look at (not compacted, offline, being cleaned, uncleanable).
    std::optional<std::pair<cleanable_range, bool>> measure(const model::topic_partition& tp,
                                                            class log& l, model::timestamp_ms now);
    // Returns false when the pass could not start (tried again next round).
    bool start(worker_slot& slot, std::size_t index, class log& l, const cleanable_range& range,
               model::timestamp_ms now);
    void finished(std::size_t index, std::shared_ptr<clean_job> job, result<clean_result> r);
    void write_checkpoint(const std::string& log_dir);

    log_manager& logs_;
    file_system& fs_;
    io_worker& io_;
    executor exec_;
    cleaner_config cfg_;
    bound_source bound_;
    io_worker::mode mode_;
    io_throttle throttle_;
    std::vector<worker_slot> slots_;
    std::map<model::topic_partition, cleaner_log_status> status_;
    std::map<std::string, std::shared_ptr<checkpoint_writer>> writers_;
    model::timestamp_ms last_now_{0};
    double max_dirty_ratio_ = 0;
    bool stopped_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gregor::storage

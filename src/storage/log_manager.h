// log_manager: owns every partition log of a broker across its log dirs (log.dirs).
//
// Start-up (load): for each dir, reads the per-dir checkpoints (recovery points, log start
// offsets, replication offsets) and the clean-shutdown marker, removes directories left
// `-delete`, opens every `<topic>-<partition>` directory (recovering those that need it),
// then removes the marker so that a crash from here on is detected at the next start.
// Running: creates logs in the dir holding the fewest, deletes them, runs retention and the
// flush.ms policy when the broker's timers ask, and writes the checkpoints through the I/O
// worker. Shutdown: closes every log, writes checkpoints and the clean-shutdown markers.
//
// A corrupt checkpoint is a warning and falls back to full recovery, never a crash.
// Disk failures (Kafka's "offline log dir"): any I/O error of a log in a dir (append, roll,
// flush, read, truncation, index or epoch checkpoint write) or of the dir's own checkpoint
// writes takes the WHOLE dir offline at once: its logs refuse every call from then on, and,
// on the next turn of the loop, the dir-failure listener hears the dir and its partitions
// and the logs are dropped (never closed: nothing is written there again until a restart).
// Partitions of an offline dir are never re-created in another dir. A dir that fails at
// start-up is offline from the start; load() fails only if every dir does.
// Threading: the owner loop only; the io_worker does the blocking parts of checkpoints.
// The file_system and io_worker must outlive the manager.
#pragma once

#include "base/result.h"
#include "model/fundamental.h"
#include "storage/checkpoint.h"
#include "storage/io_worker.h"
#include "storage/log.h"
#include "storage/log_config.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace gregor::storage {

class log_manager {
public:
    // Returns the config of a topic's logs (broker defaults plus the topic's overrides).
    using config_source = std::function<log_config(const std::string& topic)>;

    // Told (on the owner loop, after the call that hit the failure has returned) that `dir`
    // went offline with `partitions`; `healthy_dirs` is how many dirs are still online.
    // The logs are destroyed right after it returns: drop every pointer to them.
    using dir_failure_listener = std::function<void(
        const std::string& dir, const std::vector<model::topic_partition>& partitions,
        std::size_t healthy_dirs)>;

    log_manager(const log_context& ctx, std::vector<std::string> log_dirs, config_source configs);
    ~log_manager();
    log_manager(const log_manager&) = delete;
    log_manager& operator=(const log_manager&) = delete;

    // Threads per log dir that open the logs at start-up and close them at shutdown (Kafka's
    // num.recovery.threads.per.data.dir; 1: the calling thread alone). Opening and closing a
    // log is a few milliseconds of system calls and fsyncs, minutes at 300,000 logs.
    void set_recovery_threads(std::size_t n) {
        recovery_threads_ = std::clamp<std::size_t>(n, 1, 64);
    }

    // Opens every log found in the log dirs. Blocking (start-up).
    result<void> load(model::timestamp_ms now);

    // Returns the log of `tp`, creating it (empty, in the least loaded online dir) if needed.
    // Returns errc::io_error, creating nothing, when `tp` lived in an offline dir, or when
    // the log is missing, `is_new` is false and some dir is offline (the log may be there:
    // Kafka's rule against silently starting an empty replica elsewhere).
    result<log*> get_or_create(const model::topic_partition& tp, model::timestamp_ms now,
                               bool is_new = true);
    // nullptr when the broker holds no log for `tp`.
    log* get(const model::topic_partition& tp);
    // Removes the log and its directory (topic deletion, StopReplica with delete).
    result<void> remove(const model::topic_partition& tp);
    std::vector<model::topic_partition> partitions() const;
    // Calls `fn` with every log, in no particular order (no copy, no sort: the cleaner's
    // per-second look at a broker with many partitions). `fn` must not add or remove logs.
    void for_each_log(const std::function<void(const model::topic_partition&, storage::log&)>& fn);

    void set_dir_failure_listener(dir_failure_listener fn) { on_dir_failure_ = std::move(fn); }
    // Takes `dir_index`'s dir offline because of `cause` (idempotent). Called by the logs'
    // failure reports and the checkpoint writes; public for tests and the broker.
    void fail_dir(std::size_t dir_index, const error& cause);
    // Whether `tp`'s log was in a dir that is now offline.
    bool offline(const model::topic_partition& tp) const { return offline_partitions_.contains(tp); }
    std::vector<std::string> offline_dirs() const;
    std::size_t healthy_dir_count() const;
    const std::vector<std::string>& dirs() const { return dirs_; }

    // Expires every log's idle producers (log::expire_producers), then applies retention.
    // Returns the number of segments deleted.
    result<std::size_t> run_retention(model::timestamp_ms now);
    // Applies the flush.ms policy to every log.
    void run_flush_checks(model::timestamp_ms now);
    // Every idle_file_sweep_interval: closes the segment files no read or append used since
    // the last call (log::release_idle_files), so a broker's descriptors follow its busy
    // partitions, not all of them (300,000 idle replicas need none). Returns how many.
    static constexpr std::chrono::seconds idle_file_sweep_interval{30};
    std::size_t release_idle_files();
    // Segment files open across every log (tests, tools).
    std::size_t open_files() const;
    // Re-reads every log's config (after a topic config change).
    void reload_configs();

    // The high watermarks the replication layer wants kept (replication-offset-checkpoint).
    void set_replication_offset(const model::topic_partition& tp, model::offset hw);
    // The replication offset read at load, or set since; nullopt when unknown.
    std::optional<model::offset> replication_offset(const model::topic_partition& tp) const;

    // Writes the three per-dir checkpoints on the I/O worker; `done` runs on the owner loop.
    void write_checkpoints(std::function<void(result<void>)> done);
    // Closes every log, writes checkpoints and clean-shutdown markers on the calling thread.
    result<void> shutdown();

private:
    struct dir_checkpoints {
        offset_map recovery_points;
        offset_map log_starts;
        offset_map replication;
    };
    struct entry {
        std::unique_ptr<storage::log> log;
        std::size_t dir_index = 0;
    };

    result<void> load_dir(std::size_t dir_index, model::timestamp_ms now);
    offset_map read_checkpoint(const std::string& dir, std::string_view name);
    std::vector<dir_checkpoints> snapshot() const;
    // The least loaded online dir; nullopt when every dir is offline.
    std::optional<std::size_t> least_loaded_dir() const;
    // Shared by every log of the dir.
    std::shared_ptr<const log_context> dir_context(std::size_t dir_index) const;
    void drop_offline_dir(std::size_t dir_index);

    log_context ctx_;
    std::vector<std::string> dirs_;
    config_source configs_;
    std::unordered_map<model::topic_partition, entry> logs_;
    std::unordered_map<model::topic_partition, model::offset> replication_;
    std::vector<bool> offline_;  // per dir
    // Logs per dir, kept with logs_: choosing the dir of a new partition must not walk every
    // log (creating N partitions would cost N^2).
    std::vector<std::size_t> dir_log_counts_;
    std::vector<std::shared_ptr<const log_context>> dir_contexts_;  // per dir
    std::size_t recovery_threads_ = 1;
    std::set<model::topic_partition> offline_partitions_;
    dir_failure_listener on_dir_failure_;
    // One writer per dir orders the async and shutdown writes of its three checkpoints.
    std::vector<std::shared_ptr<checkpoint_writer>> writers_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gregor::storage

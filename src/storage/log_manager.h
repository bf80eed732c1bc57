// log_manager: owns every partition log of a broker across its log dirs (log.dirs).
//
// Start-up (load): for each dir, reads the per-dir checkpoints (recovery points, log start
// offsets, replication offsets) and the clean-shutdown marker, removes directories left
// `-delete`, opens every `<topic>-<partition>` directory (recovering those that need it),
// then removes the marker so that a crash from here on is detected at the next start.
// Running: creates logs in the dir holding the fewest, deletes them, runs retention and the
// flush.ms policy when the broker's timers ask, and writes the checkpoints through the I/O
// worker: each file only when its content changed since it was last written (an idle broker
// writes nothing). Shutdown: closes every log, writes the checkpoints not durable yet and the
// clean-shutdown markers.
// Cost: the per-second visits (flush.ms, the cleaner) go to the logs whose config asks for
// them, not to every log: a broker holding 300,000 idle replicas does nearly nothing.
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
#include <array>
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
    // Calls `fn` with every log whose cleanup.policy includes compact (the cleaner's
    // per-second look), in partition order. `fn` must not add or remove logs.
    void for_each_compacted_log(
        const std::function<void(const model::topic_partition&, storage::log&)>& fn);

    void set_dir_failure_listener(dir_failure_listener fn) { on_dir_failure_ = std::move(fn); }
    // Takes `dir_index`'s dir offline if `cause` is a disk failure (is_disk_failure; out of
    // descriptors is not). Idempotent; returns whether the dir is offline. Called by the
    // logs' failure reports, log creation and the checkpoint writes; public for tests.
    bool fail_dir(std::size_t dir_index, const error& cause);
    // Whether `tp`'s log was in a dir that is now offline.
    bool offline(const model::topic_partition& tp) const { return offline_partitions_.contains(tp); }
    std::vector<std::string> offline_dirs() const;
    std::size_t healthy_dir_count() const;
    const std::vector<std::string>& dirs() const { return dirs_; }

    // Expires every log's idle producers (log::expire_producers), then applies retention.
    // Returns the number of segments deleted.
    result<std::size_t> run_retention(model::timestamp_ms now);
    // Applies the flush.ms policy to the logs that have one (a finite flush.ms).
    void run_flush_checks(model::timestamp_ms now);
    // Closes the segment files no read or append used since the last call (log::
    // release_idle_files), so a broker's descriptors follow its busy partitions, not all of
    // them (300,000 idle replicas need none). Returns how many.
    std::size_t release_idle_files();
    // Every second (the broker's timer): release_idle_files() once idle_file_sweep_interval
    // has passed since the last time, or at once while the file system holds more open
    // files than the budget (then files unused for a second go). Returns how many closed.
    static constexpr std::chrono::seconds idle_file_sweep_interval{30};
    std::size_t sweep_idle_files(std::chrono::steady_clock::time_point now);
    // The open files above which sweep_idle_files() does not wait (0: no budget). The broker
    // gives half its descriptor limit: the rest is for connections and transient files.
    void set_open_file_budget(std::size_t files) { open_file_budget_ = files; }
    // Segment files open across every log (tests, tools).
    std::size_t open_files() const;
    // Re-reads every log's config (after a topic config change).
    void reload_configs();

    // The high watermark kept for `tp` (replication-offset-checkpoint; log::
    // set_replication_offset without the lookup). Ignored when the broker holds no log for it.
    void set_replication_offset(const model::topic_partition& tp, model::offset hw);
    // The replication offset read at load, or set since; nullopt when unknown.
    std::optional<model::offset> replication_offset(const model::topic_partition& tp) const;

    // The per-dir checkpoint files, each written on its own timer (Kafka's
    // log.flush.offset.checkpoint.interval.ms, log.flush.start.offset.checkpoint.interval.ms
    // and replica.high.watermark.checkpoint.interval.ms).
    struct checkpoint_set {
        bool recovery_points = true;  // recovery-point-offset-checkpoint
        bool log_starts = true;       // log-start-offset-checkpoint
        bool replication = true;      // replication-offset-checkpoint
    };
    // Writes the files of `which` whose content changed since their last write, on the I/O
    // worker; `done` runs on the owner loop.
    void write_checkpoints(checkpoint_set which, std::function<void(result<void>)> done);
    void write_checkpoints(std::function<void(result<void>)> done) {
        write_checkpoints(checkpoint_set{}, std::move(done));
    }

    // Closes every log, writes checkpoints and clean-shutdown markers on the calling thread.
    result<void> shutdown();

private:
    static constexpr std::size_t checkpoint_kinds = 3;  // in checkpoint_set's order
    struct entry {
        std::unique_ptr<storage::log> log;
        std::size_t dir_index = 0;
    };
    // One checkpoint file of one dir.
    struct checkpoint_file {
        // Orders the async and shutdown writes of the file.
        std::shared_ptr<checkpoint_writer> writer = std::make_shared<checkpoint_writer>();
        // What the content last handed to the writer hashed to (see digest()), and that
        // snapshot's sequence number (0: none).
        std::uint64_t digest = 0;
        std::uint64_t seq = 0;
        // The dir's set of logs changed since: written whatever the digest says.
        bool stale = true;
    };
    // The encoded files of `which` (per dir, per kind) whose content differs from what was
    // last handed to their writer; empty where unchanged. Marks them handed over.
    // `durable_only`: also those handed over but not yet written.
    std::vector<std::array<std::optional<bytes>, checkpoint_kinds>> changed_checkpoints(
        checkpoint_set which, bool durable_only);
    void mark_checkpoints_stale(std::size_t dir_index);
    struct checkpoint_failure {
        std::size_t dir_index;
        std::size_t kind;
        error cause;
    };
    // On the owner loop: a disk failure takes the dir offline (fail_dir); any other (out of
    // descriptors) is logged and the file rewritten at its next turn.
    void checkpoint_failed(const checkpoint_failure& f);
    // Logs to visit on the per-second timers, by config (flush.ms, compaction).
    void track(storage::log* l);
    void untrack(storage::log* l);

    result<void> load_dir(std::size_t dir_index, model::timestamp_ms now);
    offset_map read_checkpoint(const std::string& dir, std::string_view name);
    // The least loaded online dir; nullopt when every dir is offline.
    std::optional<std::size_t> least_loaded_dir() const;
    // Shared by every log of the dir.
    std::shared_ptr<const log_context> dir_context(std::size_t dir_index) const;
    void drop_offline_dir(std::size_t dir_index);
    // The topic's config, one object shared by its logs while it is unchanged (a log config
    // is ~120 bytes: memory counts at a million partitions).
    std::shared_ptr<const log_config> topic_config(const std::string& topic);
    // Forgets the topic's shared config once no log holds it.
    void release_topic_config(const std::string& topic);

    log_context ctx_;
    std::vector<std::string> dirs_;
    config_source configs_;
    std::unordered_map<std::string, std::shared_ptr<const log_config>> topic_configs_;
    std::unordered_map<model::topic_partition, entry> logs_;
    struct by_partition {
        bool operator()(const storage::log* a, const storage::log* b) const {
            return a->topic_partition() < b->topic_partition();
        }
    };
    std::set<storage::log*, by_partition> flush_timed_;  // a finite flush.ms
    std::set<storage::log*, by_partition> compacted_;
    std::vector<bool> offline_;  // per dir
    // Logs per dir, kept with logs_: choosing the dir of a new partition must not walk every
    // log (creating N partitions would cost N^2).
    std::vector<std::size_t> dir_log_counts_;
    std::vector<std::shared_ptr<const log_context>> dir_contexts_;  // per dir
    std::size_t recovery_threads_ = 1;
    std::size_t open_file_budget_ = 0;
    std::chrono::steady_clock::time_point next_sweep_{};  // {}: at the first call + interval
    std::set<model::topic_partition> offline_partitions_;
    dir_failure_listener on_dir_failure_;
    std::vector<std::array<checkpoint_file, checkpoint_kinds>> checkpoints_;  // per dir
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gregor::storage

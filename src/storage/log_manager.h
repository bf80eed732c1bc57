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
// Threading: the owner loop only; the io_worker does the blocking parts of checkpoints.
// The file_system and io_worker must outlive the manager.
#pragma once

#include "base/result.h"
#include "model/fundamental.h"
#include "storage/checkpoint.h"
#include "storage/io_worker.h"
#include "storage/log.h"
#include "storage/log_config.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace gregor::storage {

class log_manager {
public:
    // Returns the config of a topic's logs (broker defaults plus the topic's overrides).
    using config_source = std::function<log_config(const std::string& topic)>;

    log_manager(const log_context& ctx, std::vector<std::string> log_dirs, config_source configs);
    ~log_manager();
    log_manager(const log_manager&) = delete;
    log_manager& operator=(const log_manager&) = delete;

    // Opens every log found in the log dirs. Blocking (start-up).
    result<void> load(model::timestamp_ms now);

    // Returns the log of `tp`, creating it (empty, in the least loaded dir) if needed.
    result<log*> get_or_create(const model::topic_partition& tp, model::timestamp_ms now);
    // nullptr when the broker holds no log for `tp`.
    log* get(const model::topic_partition& tp);
    // Removes the log and its directory (topic deletion, StopReplica with delete).
    result<void> remove(const model::topic_partition& tp);
    std::vector<model::topic_partition> partitions() const;

    // Applies retention to every log. Returns the number of segments deleted.
    result<std::size_t> run_retention(model::timestamp_ms now);
    // Applies the flush.ms policy to every log.
    void run_flush_checks(model::timestamp_ms now);
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
    std::size_t least_loaded_dir() const;

    log_context ctx_;
    std::vector<std::string> dirs_;
    config_source configs_;
    std::unordered_map<model::topic_partition, entry> logs_;
    std::unordered_map<model::topic_partition, model::offset> replication_;
    // One writer per dir orders the async and shutdown writes of its three checkpoints.
    std::vector<std::shared_ptr<checkpoint_writer>> writers_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gregor::storage

// The log of one partition replica: a directory `<topic>-<partition>` of segments in
// Kafka's layout, the leader epoch cache, and the offsets that bound it (log start offset,
// log end offset, recovery point).
//
// Writes: append_as_leader() validates a produce payload, assigns offsets by rewriting base
// offset and leader epoch in place and stamps LogAppendTime if the topic asks;
// append_as_follower() keeps the leader's offsets. Bytes reach the page cache with one
// pwrite on the calling thread; fsync happens only on the I/O worker, with group commit
// (one fsync covers every batch appended meanwhile), per the flush.messages / flush.ms
// policy or when a caller waits with when_flushed().
// Reads: read() returns a file slice (file, position, length) ending on a batch boundary,
// ready for sendfile; find_by_timestamp() serves ListOffsets.
// Maintenance: truncate_to() (followers), set_log_start_offset() (DeleteRecords), and
// apply_retention() (time and size) delete whole segments, renaming them `.deleted` and
// removing them on the I/O worker.
// Idempotent producers: the log keeps the partition's producer_state (producer_state.h).
// A leader append checks every batch that carries a producer id before anything is
// written (a retried batch is answered with its original offsets, `duplicate`, and nothing
// is written; a sequence gap, a stale epoch or a bad base sequence is refused); every
// appended batch, leader's or follower's, then updates the state. The state is persisted in
// Kafka's `<offset>.snapshot` files (producer_snapshot.h): one at each segment roll (at the
// new segment's base; fsync on the I/O worker) and one at close() (at the log end), written
// to a temp file and renamed. Opening loads the newest valid snapshot <= the log end (a
// corrupt one is deleted and the previous one tried) and replays the batches after it;
// truncation deletes the snapshots above the new end and rebuilds the same way; snapshots
// <= the log start offset go with the segments retention or DeleteRecords remove.
//
// Threading: a log is owned by one event loop and every method must be called on the thread
// that opened it (asserted). Completions of worker jobs come back through the executor.
// The file_system and io_worker must outlive the log.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "storage/cleaner_pass.h"
#include "storage/file_system.h"
#include "storage/io_worker.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_config.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

#include <boost/container/flat_set.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gregor::storage {

// Where and how a log lives; everything it needs from its owner.
struct log_context {
    file_system* fs = nullptr;
    io_worker* worker = nullptr;
    executor exec;  // posts completions to the owner's loop
    // Told, on the owner's loop, of every disk failure of the log (a failed write, read,
    // roll, flush, truncation or checkpoint); the log_manager takes the log's whole dir
    // offline. Empty: a failure only fails the call that hit it.
    std::function<void(const error&)> on_disk_failure;
    // Told, on the owner's loop, how long each successful flush took on the I/O worker (the
    // fsyncs of the log's files and directory): Kafka's LogFlushRateAndTimeMs. Optional.
    std::function<void(std::chrono::steady_clock::duration)> on_flushed;
    // The wall clock, for the calls that take no `now` (truncations stamp the segments they
    // create). Empty: the newest `now` passed to maybe_flush().
    std::function<model::timestamp_ms()> clock;
};

// Whether `e` says the disk under a log failed (EIO, ENOSPC, files or directories vanished),
// as opposed to bad input such as an invalid batch or an offset out of range.
bool is_disk_failure(const error& e);

// What a log remembers across restarts outside its own directory (the per-dir
// checkpoints kept by the log_manager).
struct log_open_state {
    model::offset recovery_point{0};
    model::offset log_start_offset{0};
    bool clean_shutdown = false;
};

// Bytes of a segment file ready to send. The file stays readable while the slice lives,
// even if retention deletes the segment meanwhile.
struct file_slice {
    std::shared_ptr<file> source;
    std::uint64_t position = 0;
    std::uint64_t length = 0;

    // Copies the bytes out (memory file systems, tests, small reads).
    result<bytes> read_all() const;
};

struct read_result {
    file_slice slice;            // empty (length 0) when nothing is readable
    model::offset first_offset;  // base offset of the first batch in the slice
    model::offset next_offset;   // where the next read continues
};

struct append_result {
    model::offset first_offset;
    model::offset last_offset;
    model::timestamp_ms log_append_time{-1};  // the stamp, when the topic uses LogAppendTime
    std::uint32_t batch_count = 0;  // batches written (0 for a duplicate)
    // The payload repeated a batch an idempotent producer already wrote (a retry): nothing
    // was written; first/last offset are the original batch's, and log_append_time its
    // timestamp when the topic uses LogAppendTime (else -1). Answer it as a success.
    bool duplicate = false;
};

struct timestamp_lookup {
    model::offset batch_offset;  // base offset of the batch (at least log start)
    model::timestamp_ms max_timestamp;
    file_slice batch;  // the batch; the caller finds the exact record in it
};

class log {
public:
    using flush_callback = std::function<void(result<void>)>;

    // Opens (or creates) the log in `dir`, running recovery unless the last shutdown was
    // clean. Blocking: call at start-up or when a partition is created, not per request.
    static result<std::unique_ptr<log>> open(const log_context& ctx, std::string dir,
                                             model::topic_partition tp, log_config cfg,
                                             const log_open_state& state, model::timestamp_ms now);
    // The same with a context and a config shared by many logs (the log_manager's: one
    // context per dir, one config per topic): an idle log's memory counts at a million
    // partitions.
    static result<std::unique_ptr<log>> open(std::shared_ptr<const log_context> ctx,
                                             std::string dir, model::topic_partition tp,
                                             std::shared_ptr<const log_config> cfg,
                                             const log_open_state& state, model::timestamp_ms now);
    ~log();
    log(const log&) = delete;
    log& operator=(const log&) = delete;

    // Validates `records` (one or more v2 batches; the CRC pass is skipped iff
    // `already_validated`), assigns offsets from the log end offset, checks the batches
    // with a producer id against the producer state (all of them before writing any),
    // stamps `epoch` and, for LogAppendTime topics, `now`, rewriting `records` in place,
    // then appends it and records its batches in the producer state.
    // Returns errc::invalid_batch / batch_too_large, errc::out_of_order_sequence /
    // invalid_producer_epoch / invalid_record (`origin` client: a control batch, or a
    // producer id with base sequence < 0) with nothing written, a duplicate (see
    // append_result; nothing written), or a storage I/O error (nothing visible, log end
    // offset unchanged). A payload with several batches is answered as Kafka does: the
    // first batch that repeats a retained one makes the whole call a duplicate of it.
    result<append_result> append_as_leader(mutable_bytes_view records, model::leader_epoch epoch,
                                           model::timestamp_ms now, bool already_validated = false,
                                           append_origin origin = append_origin::client);
    // Appends replicated batches with their own offsets and epochs, recording each in the
    // producer state without any producer check. Returns
    // errc::offset_out_of_order unless the first base offset >= log end offset and each
    // batch starts after the previous one ends.
    result<append_result> append_as_follower(bytes_view records, model::timestamp_ms now,
                                             bool already_validated = false);

    // Calls `done` once an fsync covers every offset <= `last` (at once if it already
    // has), starting one if none runs. `done` runs on the owner's loop. After a failed
    // fsync every waiter fails and the log refuses writes (errc::io_error) until reopened.
    void when_flushed(model::offset last, flush_callback done);
    // Starts a flush if flush.ms has passed since the last one and data is unflushed.
    void maybe_flush(model::timestamp_ms now);

    // Reads whole batches from the one containing `start`, at most `max_bytes` (but at
    // least one batch), stopping before any batch whose last offset >= `upper_bound`
    // (the high watermark or log end offset). Returns errc::offset_out_of_range unless
    // log_start_offset() <= start <= log_end_offset().
    result<read_result> read(model::offset start, std::size_t max_bytes, model::offset upper_bound);
    // The first batch holding a record with timestamp >= `target`; nullopt when none.
    result<std::optional<timestamp_lookup>> find_by_timestamp(model::timestamp_ms target);

    // Removes every offset >= `target`. When target >= log end offset no data goes, but
    // leader epochs starting at the log end (empty epochs) are dropped, as Kafka does.
    result<void> truncate_to(model::offset target);
    // Empties the log and restarts it at `start` (a follower far behind the leader).
    result<void> truncate_fully(model::offset start);
    // Moves the log start offset forward (DeleteRecords). Returns offset_out_of_range iff
    // `start` > log_end_offset(). Segments wholly below it are deleted.
    result<void> set_log_start_offset(model::offset start);
    // Deletes the oldest segments past retention.ms / retention.bytes (never the active
    // segment). Returns the number of segments deleted.
    result<std::size_t> apply_retention(model::timestamp_ms now);

    // Drops the producers idle for producer.id.expiration.ms (by their last timestamp) with
    // no open transaction; returns how many. log_manager::run_retention calls it.
    std::size_t expire_producers(model::timestamp_ms now);
    // The partition's idempotent producers (DescribeProducers; find() for one id).
    const producer_state& producers() const { return producers_; }
    // Offsets of the `.snapshot` files in the directory, oldest first (tests, tools).
    std::vector<model::offset> snapshot_offsets() const {
        return {snapshots_.begin(), snapshots_.end()};
    }

    // Log compaction (log_cleaning.cc; the pass itself is cleaner_pass.h). cleanable()
    // measures the dirty section (from `checkpoint`, the cleaner's first dirty offset) below
    // min(`upper_bound` (the high watermark), the active segment, min.compaction.lag.ms),
    // rounded down to a segment boundary. make_clean_job() snapshots the segments a pass over
    // that range reads. finish_clean() swaps the pass's `.cleaned` outputs in for the
    // segments they replace (`.cleaned` -> `.swap`, old -> `.deleted`, `.swap` -> final
    // names; opening a log completes or discards a swap a crash interrupted), or discards
    // them when the log changed meanwhile (truncated, segments deleted: errc::closed).
    cleanable_range cleanable(model::offset checkpoint, model::offset upper_bound,
                              model::timestamp_ms now);
    result<clean_job> make_clean_job(const cleanable_range& range, model::timestamp_ms now);
    result<void> finish_clean(const clean_job& job, const clean_result& done);
    // Expires when the log object goes (a cleaner's record of a deleted log is stale).
    std::weak_ptr<int> lifetime() const { return token(); }
    // The lowest offset the log was truncated to since the last call (nullopt: none): the
    // cleaner's checkpoint must not stay above it.
    std::optional<model::offset> take_truncation_point() {
        auto to = std::exchange(truncated_to_, model::no_offset);
        return to == model::no_offset ? std::nullopt : std::optional(to);
    }

    // Records `epoch` starting at `start` (a new leader that appends nothing yet). At the log
    // end the checkpoint follows with the first batch appended.
    void assign_epoch(model::leader_epoch epoch, model::offset start);
    const leader_epoch_cache& epochs() const { return epochs_; }

    // Clean close: trims indexes, fsyncs everything and writes the producer snapshot and the
    // epoch checkpoint on the calling thread (shutdown path), skipping each file the disk
    // already holds durably, so an idle log's close writes and syncs nothing. The log accepts
    // nothing afterwards.
    result<void> close();
    // Closes and removes the whole directory (topic deletion): renamed `-delete`, removed
    // on the I/O worker.
    result<void> remove();

    // The log's dir went offline: every later call fails with errc::io_error, pending
    // flush waiters fail, and nothing touches the disk again (no flush, no checkpoint).
    void take_offline();
    bool offline() const { return offline_; }
    // Whether a flush() caller still waits for its callback.
    bool has_flush_waiters() const { return waiters_ && !waiters_->empty(); }

    // Closes the segment files unused since the last call (a clock sweep over descriptors, so
    // that idle partitions hold none; the next read or append reopens them), starting a flush
    // for idle ones with unsynced bytes so that a later call closes them. `even_if_used`: every
    // file nobody holds (after start-up). Returns how many it closed.
    std::size_t release_idle_files(bool even_if_used = false);
    // Segment files open now (tests, the log_manager's count).
    std::size_t open_files() const;

    // Hands the log to the calling thread (a log opened at start-up, then run by a loop).
    void adopt_thread() { owner_ = std::this_thread::get_id(); }
    void set_config(const log_config& cfg) { cfg_ = std::make_shared<const log_config>(cfg); }
    void set_config(std::shared_ptr<const log_config> cfg) { cfg_ = std::move(cfg); }
    const log_config& config() const { return *cfg_; }
    // The high watermark kept across restarts (replication-offset-checkpoint, written by the
    // log_manager): the replication layer sets it each time it moves; no_offset: unknown.
    void set_replication_offset(model::offset hw) { replication_offset_ = hw; }
    model::offset replication_offset() const { return replication_offset_; }
    const model::topic_partition& topic_partition() const { return tp_; }
    const std::string& dir() const { return dir_; }
    model::offset log_start_offset() const { return log_start_; }
    model::offset log_end_offset() const { return log_end_; }
    // Every offset below it is durable.
    model::offset recovery_point() const { return flushed_; }
    std::uint64_t size_bytes() const;
    std::size_t segment_count() const { return segments_.size(); }
    // Base offsets of the segments, oldest first (tests, tools).
    std::vector<model::offset> segment_bases() const;

private:
    log(std::shared_ptr<const log_context> ctx, std::string dir, model::topic_partition tp,
        std::shared_ptr<const log_config> cfg);
    void assert_owner() const;
    segment_options seg_options() const;
    segment& active() { return *segments_.rbegin()->second; }

    result<void> load(const log_open_state& state, model::timestamp_ms now);
    result<void> load_segments(model::timestamp_ms now);
    // Opening: removes `.cleaned` files, completes every `.swap` segment (log_cleaning.cc).
    result<void> recover_swaps(const std::vector<std::string>& names);
    result<void> recover_from(model::offset recovery_point, model::timestamp_ms now);
    result<void> delete_segments_after(model::offset base);
    void remove_leftovers(const std::vector<std::string>& names);
    result<void> sync_all();

    result<append_result> append_batches(bytes_view data,
                                         const std::vector<batch_summary>& batches,
                                         model::timestamp_ms now);
    void assign_offsets(std::vector<batch_summary>& batches, model::leader_epoch epoch,
                        model::timestamp_ms now) const;

    // Producer state (log_producers.cc).
    result<std::optional<append_result>> check_producers(const std::vector<batch_summary>& batches,
                                                         append_origin origin) const;
    void apply_producers(const std::vector<batch_summary>& batches);
    result<void> load_producers(model::timestamp_ms now, bool clean_shutdown);
    result<std::size_t> rebuild_producers(model::offset end, model::timestamp_ms now);
    result<model::offset> load_newest_snapshot(model::offset end, model::timestamp_ms now);
    result<bool> load_snapshot(model::offset at, model::timestamp_ms now);
    result<std::size_t> replay_producers(model::offset from, model::offset end,
                                         bool from_snapshot);
    // Writes `<at>.snapshot` of the current state (temp file + rename). `durable`: fsync
    // before the rename and of the directory, on this thread; else the fsyncs go to the
    // I/O worker.
    result<void> write_snapshot(model::offset at, bool durable);
    void sync_snapshot_later(std::shared_ptr<file> f);
    // Removes the snapshots with offset > `above` or <= `at_or_below`.
    result<void> delete_snapshots(model::offset above, model::offset at_or_below);
    std::string snapshot_path(model::offset at) const;
    result<void> maybe_roll(std::size_t incoming_bytes, const batch_summary& first,
                            const batch_summary& last, model::timestamp_ms now);
    result<void> roll(model::offset new_base, model::timestamp_ms now);
    void after_append(const append_result& r, model::timestamp_ms now);

    void request_flush();
    void start_flush();
    void on_flush_done(model::offset target, std::uint64_t generation, result<void> r);
    void fail_waiters(model::offset from, const error& e);

    result<void> delete_segment(std::map<model::offset, std::unique_ptr<segment>>::iterator it);
    void persist_epochs();
    // Writes the epoch checkpoint on this thread.
    result<void> persist_epochs_now();
    std::string epoch_path() const;

    std::shared_ptr<const log_context> ctx_;
    std::string dir_;
    model::topic_partition tp_;
    std::shared_ptr<const log_config> cfg_;  // never null
    std::thread::id owner_;
    std::map<model::offset, std::unique_ptr<segment>> segments_;
    leader_epoch_cache epochs_;
    producer_state producers_;
    boost::container::flat_set<model::offset> snapshots_;  // the .snapshot files in dir_
    model::offset log_start_{0};
    model::offset log_end_{0};
    model::offset flushed_{0};

    // Group commit state.
    struct waiter {
        model::offset last;
        flush_callback done;
    };
    // Sorted by `last`; null while there are none (an idle log's memory counts at a million
    // partitions: an empty deque held 576 bytes, an empty vector 24 inline).
    std::unique_ptr<std::vector<waiter>> waiters_;
    // Changes to the directory's entries (files created, renamed, removed), and how many of
    // them a completed directory fsync covers (close() syncs the directory iff they differ).
    std::uint32_t dir_changes_ = 0;
    std::uint32_t dir_synced_ = 0;
    // The flags together: an idle log's memory counts at a million partitions (the object
    // stays in the allocator's 512-byte class).
    bool flush_in_flight_ = false;
    bool flush_again_ = false;
    bool closed_ = false;
    // Set by a failed fsync. The kernel may have dropped the dirty pages, so a later fsync
    // proves nothing ("fsyncgate"): like Kafka taking the log dir offline, the log then
    // refuses writes until it is reopened (and recovered).
    bool io_failed_ = false;
    // Set by take_offline(): the dir failed, the log is dead until the broker restarts.
    bool offline_ = false;
    // epochs_ holds an epoch starting at the log end that the checkpoint does not: written
    // with the first batch after it (every open drops such an epoch anyway, as Kafka's trim
    // at load does, so a new leader of an idle partition costs no checkpoint write).
    bool epochs_unpersisted_ = false;
    std::uint64_t flush_generation_ = 0;  // bumped by truncation: stale fsyncs prove nothing
    std::int64_t unflushed_messages_ = 0;
    model::timestamp_ms last_flush_ms_{0};
    model::timestamp_ms latest_now_{0};  // the newest `now` passed to maybe_flush()
    model::offset replication_offset_ = model::no_offset;
    // The time for calls given none: log_context::clock, else latest_now_.
    model::timestamp_ms clock_now() const { return ctx_->clock ? ctx_->clock() : latest_now_; }
    model::offset truncated_to_ = model::no_offset;  // none since the last take
    void note_truncation(model::offset to) {
        truncated_to_ = truncated_to_ == model::no_offset ? to : std::min(truncated_to_, to);
    }
    // What close() may skip because the disk already holds it durably (with the directory
    // counters above): the offset of a durable `.snapshot` holding producers_ (no_offset
    // after any change; producers expired since are dropped again by the next open), and the
    // epoch_writer_ sequence whose write holds epochs_ (0: the file read at open).
    model::offset durable_snapshot_{model::no_offset};
    std::uint64_t epochs_seq_ = 0;
    result<void> check_writable() const;
    result<void> check_online() const;
    // Reports a disk failure among `r`'s errors to the owner, then returns `r`.
    template <class T>
    result<T> watched(result<T> r) {
        if (!r) {
            report_disk_failure(r.err());
        }
        return r;
    }
    // Tells the owner iff `e` is a disk failure (is_disk_failure); anything else is left to
    // the call that hit it.
    void report_disk_failure(const error& e);
    result<void> truncate_to_unwatched(model::offset target);
    result<void> truncate_fully_unwatched(model::offset start);
    result<std::size_t> apply_retention_unwatched(model::timestamp_ms now);
    // Made on first use, as alive_ is: most idle logs never need them.
    std::shared_ptr<checkpoint_writer> epoch_writer_;
    checkpoint_writer& epoch_writer();
    // Lets worker completions detect that the log is gone (they run on the owner loop).
    mutable std::shared_ptr<int> alive_;
    std::weak_ptr<int> token() const;
};

}  // namespace gregor::storage

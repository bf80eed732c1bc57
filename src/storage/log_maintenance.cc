// log: truncation, log start offset, retention, segment deletion, epoch persistence.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/logger.h"
#include "storage/names.h"

#include <fmt/format.h>

#include <limits>
#include <random>

namespace gregor::storage {

result<void> log::delete_segment(std::map<model::offset, std::unique_ptr<segment>>::iterator it) {
    GREGOR_ASSERT(it != segments_.end(), "delete of a missing segment");
    auto seg = std::move(it->second);
    segments_.erase(it);
    ++dir_changes_;
    GREGOR_TRY(auto paths, seg->rename_to_deleted());
    auto* fs = ctx_->fs;
    auto submitted = ctx_->worker->submit([fs, paths = std::move(paths)] {
        for (const auto& p : paths) {
            ignore_error(fs->remove(p), "a .deleted file left behind is removed at next open");
        }
    });
    if (!submitted) {
        GREGOR_LOG_RATE_LIMITED(storage_log, warn, std::chrono::seconds(10),
                                "{}: removal of segment {} deferred to next open: {}", tp_,
                                seg->base_offset(), submitted.err().to_string());
    }
    return ok();
}

std::string log::epoch_path() const {
    return path_join(dir_, std::string(leader_epoch_checkpoint_name));
}

void log::persist_epochs() {
    if (offline_) {
        return;
    }
    auto seq = epoch_writer().next_seq();
    epochs_seq_ = seq;
    epochs_unpersisted_ = false;
    auto task = [fs = ctx_->fs, path = epoch_path(), writer = epoch_writer_, seq,
                 content = encode_epoch_checkpoint(epochs_.entries()), exec = ctx_->exec,
                 token = token(), this] {
        auto w = writer->write(*fs, path, content, seq);
        if (!w) {
            GREGOR_LOG_RATE_LIMITED(storage_log, err, std::chrono::seconds(10),
                                    "writing {} failed: {}", path, w.err().to_string());
            exec([token, this, e = w.err()] {
                if (token.lock()) {
                    report_disk_failure(e);
                }
            });
        }
    };
    auto submitted = ctx_->worker->submit(std::move(task));
    if (!submitted) {
        // Recovery re-derives epochs from batch headers, so a lost write costs a rescan.
        GREGOR_LOG_RATE_LIMITED(storage_log, warn, std::chrono::seconds(10),
                                "{}: epoch checkpoint not queued: {}", tp_,
                                submitted.err().to_string());
    }
}

result<void> log::persist_epochs_now() {
    auto seq = epoch_writer().next_seq();
    epochs_seq_ = seq;
    epochs_unpersisted_ = false;
    return epoch_writer_->write(*ctx_->fs, epoch_path(), encode_epoch_checkpoint(epochs_.entries()),
                                seq);
}

result<void> log::truncate_to(model::offset target) {
    assert_owner();
    GREGOR_TRY_VOID(check_online());
    return watched(truncate_to_unwatched(target));
}

result<void> log::truncate_to_unwatched(model::offset target) {
    if (target >= log_end_) {
        // No data goes, but an epoch that starts at the log end and holds nothing (a leader
        // that appended nothing before it was deposed) conflicts with the leader we now
        // follow; keeping it would make every fetch report that epoch and diverge again.
        if (epochs_.truncate_from_end(log_end_)) {
            persist_epochs();
        }
        return ok();
    }
    if (target < log_start_) {
        return truncate_fully_unwatched(target);
    }
    GREGOR_LOG(storage_log, info, "{}: truncating to {} (log end {})", tp_, target, log_end_);
    note_truncation(target);
    while (segments_.size() > 1 && segments_.rbegin()->first > target) {
        GREGOR_TRY_VOID(delete_segment(std::prev(segments_.end())));
    }
    auto& seg = active();
    GREGOR_TRY(auto removed, seg.truncate_to(target));
    (void)removed;
    GREGOR_TRY(log_end_, seg.next_offset());
    ++flush_generation_;
    flushed_ = std::min(flushed_, log_end_);
    fail_waiters(log_end_, error(errc::offset_out_of_range, "truncated"));
    if (epochs_.truncate_from_end(log_end_)) {
        persist_epochs();
    }
    // Kafka's truncateAndReload: the snapshots above the cut go, and the state is rebuilt
    // from the newest one left plus the batches up to the new end.
    GREGOR_TRY(auto replayed, rebuild_producers(log_end_, clock_now()));
    (void)replayed;
    // Makes the cut durable soon, so a crash does not bring the removed batches back.
    request_flush();
    return ok();
}

result<void> log::truncate_fully(model::offset start) {
    assert_owner();
    GREGOR_TRY_VOID(check_online());
    return watched(truncate_fully_unwatched(start));
}

result<void> log::truncate_fully_unwatched(model::offset start) {
    GREGOR_ASSERT(start() >= 0, "truncate_fully to {}", start);
    GREGOR_LOG(storage_log, info, "{}: truncating fully, restarting at {}", tp_, start);
    note_truncation(start);
    ++dir_changes_;
    GREGOR_TRY(auto fresh, segment::create(*ctx_->fs, dir_, start, seg_options(), clock_now()));
    // Every old segment goes, except that one starting at `start` shares its file names
    // with the fresh segment (which already emptied them), so it is only dropped.
    for (auto it = segments_.begin(); it != segments_.end();) {
        auto next = std::next(it);
        if (it->first != start) {
            GREGOR_TRY_VOID(delete_segment(it));
        }
        it = next;
    }
    segments_.clear();
    segments_.emplace(start, std::move(fresh));
    log_start_ = start;
    log_end_ = start;
    ++flush_generation_;
    flushed_ = std::min(flushed_, start);
    fail_waiters(model::offset(0), error(errc::offset_out_of_range, "truncated"));
    epochs_.clear();
    persist_epochs();
    producers_.clear();
    durable_snapshot_ = model::no_offset;
    GREGOR_TRY_VOID(delete_snapshots(model::offset(-1), model::offset(-1)));
    request_flush();
    return ok();
}

result<void> log::set_log_start_offset(model::offset start) {
    assert_owner();
    if (start > log_end_) {
        return error(errc::offset_out_of_range,
                     fmt::format("{}: log start {} beyond log end {}", tp_, start, log_end_));
    }
    if (start <= log_start_) {
        return ok();
    }
    log_start_ = start;
    if (epochs_.truncate_from_start(start)) {
        persist_epochs();
    }
    while (segments_.size() > 1 && std::next(segments_.begin())->first <= start) {
        GREGOR_TRY_VOID(delete_segment(segments_.begin()));
    }
    return delete_snapshots(model::offset(std::numeric_limits<std::int64_t>::max()), log_start_);
}

result<std::size_t> log::apply_retention(model::timestamp_ms now) {
    assert_owner();
    GREGOR_TRY_VOID(check_online());
    return watched(apply_retention_unwatched(now));
}

result<std::size_t> log::apply_retention_unwatched(model::timestamp_ms now) {
    auto total = size_bytes();
    std::size_t deleted = 0;
    while (segments_.size() > 1) {
        auto it = segments_.begin();
        auto& seg = *it->second;
        bool below_start = std::next(it)->first <= log_start_;
        GREGOR_TRY(auto max_ts, seg.max_timestamp());
        auto newest = max_ts.timestamp() >= 0 ? max_ts.timestamp : seg.roll_base();
        // Without "delete" in cleanup.policy only the log start offset removes segments.
        bool expired =
            cfg_->delete_ && cfg_->retention_ms >= 0 && now() - newest() > cfg_->retention_ms;
        bool oversize =
            cfg_->delete_ && cfg_->retention_bytes >= 0 &&
            total - seg.size_bytes() >= static_cast<std::uint64_t>(cfg_->retention_bytes);
        if (!below_start && !expired && !oversize) {
            break;
        }
        GREGOR_LOG(storage_log, info, "{}: deleting segment {} ({})", tp_, it->first,
                   below_start ? "below log start"
                   : expired   ? "retention.ms"
                               : "retention.bytes");
        total -= seg.size_bytes();
        GREGOR_TRY_VOID(delete_segment(it));
        ++deleted;
    }
    auto first = segments_.begin()->first;
    if (first > log_start_) {
        log_start_ = first;
        if (epochs_.truncate_from_start(first)) {
            persist_epochs();
        }
        GREGOR_TRY_VOID(
            delete_snapshots(model::offset(std::numeric_limits<std::int64_t>::max()), log_start_));
    }
    return deleted;
}

result<void> log::remove() {
    assert_owner();
    fail_waiters(model::offset(0), error(errc::closed, "log deleted"));
    segments_.clear();
    closed_ = true;
    // Kafka renames to "<dir>.<unique id>-delete"; a random id keeps repeats apart.
    auto target = fmt::format("{}.{:016x}{}", dir_, std::random_device{}(), dir_delete_suffix);
    GREGOR_TRY_VOID(ctx_->fs->rename(dir_, target));
    auto* fs = ctx_->fs;
    auto submitted = ctx_->worker->submit([fs, target] {
        ignore_error(fs->remove_all(target), "a -delete dir left behind is removed at start-up");
    });
    if (!submitted) {
        GREGOR_LOG(storage_log, warn, "{}: {} left for removal at next start-up", tp_, target);
    }
    return ok();
}

}  // namespace gregor::storage

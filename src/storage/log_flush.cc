// log: the flush policy and group commit, and clean close.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/logger.h"
#include "storage/names.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <vector>

namespace gregor::storage {

void log::when_flushed(model::offset last, flush_callback done) {
    assert_owner();
    if (last < flushed_) {
        done(ok());
        return;
    }
    if (io_failed_ || offline_) {
        done(check_writable());
        return;
    }
    if (!waiters_) {
        waiters_ = std::make_unique<std::vector<waiter>>();
    }
    auto pos = std::upper_bound(waiters_->begin(), waiters_->end(), last,
                                [](model::offset o, const waiter& w) { return o < w.last; });
    waiters_->insert(pos, waiter{last, std::move(done)});
    request_flush();
}

void log::maybe_flush(model::timestamp_ms now) {
    assert_owner();
    latest_now_ = std::max(latest_now_, now);
    if (cfg_->flush_ms != no_limit && log_end_ > flushed_ &&
        now() - last_flush_ms_() >= cfg_->flush_ms) {
        request_flush();
    }
}

void log::request_flush() {
    if (closed_ || io_failed_ || offline_) {
        return;
    }
    if (flush_in_flight_) {
        flush_again_ = true;
        return;
    }
    start_flush();
}

void log::start_flush() {
    GREGOR_ASSERT(!flush_in_flight_, "{}: two flushes in flight", tp_);
    auto target = log_end_;
    // From the segment holding the last flushed offset: a segment sealed since, even one
    // ending exactly where the last flush did, gives its index files to this fsync.
    auto first = segments_.upper_bound(flushed_ - 1);
    if (first != segments_.begin()) {
        --first;
    }
    std::vector<std::shared_ptr<file>> files;
    for (auto it = first; it != segments_.end(); ++it) {
        auto f = it->second->files_to_sync();
        files.insert(files.end(), f.begin(), f.end());
    }
    flush_in_flight_ = true;
    unflushed_messages_ = 0;
    last_flush_ms_ = clock_now();
    auto generation = flush_generation_;
    auto task = [fs = ctx_->fs, dir = dir_, files = std::move(files), exec = ctx_->exec,
                 token = token(), this, target, generation, dir_changes = dir_changes_]() mutable {
        const auto began = std::chrono::steady_clock::now();
        result<void> r = ok();
        for (const auto& f : files) {
            r = f->sync();
            if (!r) {
                break;
            }
        }
        if (r) {
            r = fs->sync_dir(dir);  // new segment files' directory entries
        }
        // Closed (if no one else holds them) before the owner hears of it: a segment file
        // released by the sweep holds no descriptor once its flush is done.
        files.clear();
        exec([token, this, target, generation, r, dir_changes,
              took = std::chrono::steady_clock::now() - began] {
            if (token.lock()) {
                if (r) {
                    // A newer synchronous sync may have covered more: then this only costs
                    // close() one directory fsync.
                    dir_synced_ = dir_changes;
                }
                if (r && ctx_->on_flushed) {
                    ctx_->on_flushed(took);
                }
                on_flush_done(target, generation, r);
            }
        });
    };
    auto submitted = ctx_->worker->submit(std::move(task));
    if (!submitted) {
        flush_in_flight_ = false;
        fail_waiters(model::offset(0), submitted.err());
    }
}

void log::on_flush_done(model::offset target, std::uint64_t generation, result<void> r) {
    flush_in_flight_ = false;
    if (closed_ || offline_) {
        return;
    }
    if (!r) {
        // A disk failure (a failed fsync) makes the log refuse writes (io_failed_). Anything
        // else only fails the waiters: out of descriptors, the directory could not be opened
        // for its fsync after every file synced (the task opens nothing else), and the next
        // flush covers their offsets.
        bool disk = is_disk_failure(r.err());
        GREGOR_LOG_RATE_LIMITED(
            storage_log, err, std::chrono::seconds(10), "{}: {}: {}", tp_,
            disk ? "fsync failed, refusing writes until reopened" : "flush failed",
            r.err().to_string());
        io_failed_ = io_failed_ || disk;
        flush_again_ = false;
        fail_waiters(model::offset(0), r.err());
        report_disk_failure(r.err());
    } else if (generation == flush_generation_) {
        flushed_ = std::max(flushed_, std::min(target, log_end_));
        std::vector<waiter> ready;
        if (waiters_) {
            auto durable = std::find_if(waiters_->begin(), waiters_->end(),
                                        [this](const waiter& w) { return w.last >= flushed_; });
            ready.assign(std::make_move_iterator(waiters_->begin()),
                         std::make_move_iterator(durable));
            waiters_->erase(waiters_->begin(), durable);
            if (waiters_->empty()) {
                waiters_.reset();
            }
        }
        for (auto& w : ready) {
            w.done(ok());
        }
    }
    if (flush_again_) {
        flush_again_ = false;
        start_flush();
    }
}

void log::fail_waiters(model::offset from, const error& e) {
    if (!waiters_) {
        return;
    }
    auto keep = std::vector<waiter>{};
    auto failing = std::vector<waiter>{};
    for (auto& w : *waiters_) {
        (w.last >= from ? failing : keep).push_back(std::move(w));
    }
    if (keep.empty()) {
        waiters_.reset();
    } else {
        *waiters_ = std::move(keep);
    }
    for (auto& w : failing) {
        w.done(e);
    }
}

result<void> log::close() {
    assert_owner();
    auto sealed = active().seal();
    if (!sealed) {
        GREGOR_LOG(storage_log, warn, "{}: trimming indexes at close failed: {}", tp_,
                   sealed.err().to_string());
    }
    // The next open loads the producer state from here instead of replaying the log. An
    // empty log needs none: opening deletes every snapshot at or below the log start.
    if (log_end_ > log_start_ && durable_snapshot_ != log_end_) {
        GREGOR_TRY_VOID(write_snapshot(log_end_, /*durable=*/true));
    }
    GREGOR_TRY_VOID(sync_all());
    if (epoch_writer_ && !epoch_writer_->written(epochs_seq_)) {  // none: never written
        GREGOR_TRY_VOID(persist_epochs_now());
    }
    flushed_ = log_end_;
    auto done = std::move(waiters_);
    closed_ = true;
    if (done) {
        for (auto& w : *done) {
            w.done(ok());
        }
    }
    return ok();
}

result<void> log::sync_all() {
    // A flush still in flight holds files it took: sync every file again rather than wait.
    bool all = flush_in_flight_;
    for (auto& [base, seg] : segments_) {
        std::vector<std::shared_ptr<file>> files;
        if (all) {
            GREGOR_TRY(files, seg->all_files_to_sync());
        } else {
            files = seg->files_to_sync();
        }
        for (auto& f : files) {
            GREGOR_TRY_VOID(f->sync());
        }
    }
    if (all || dir_synced_ != dir_changes_) {
        auto changes = dir_changes_;
        GREGOR_TRY_VOID(ctx_->fs->sync_dir(dir_));
        dir_synced_ = changes;
    }
    return ok();
}

}  // namespace gregor::storage

#include "storage/log_cleaner.h"

#include "base/limits.h"
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "storage/logger.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::storage {

inline constexpr std::string_view cleaner_checkpoint_name = "cleaner-offset-checkpoint";

log_cleaner::log_cleaner(log_manager& logs, file_system& fs, io_worker& worker, executor exec,
                         cleaner_config cfg, bound_source bound, io_worker::mode mode)
    : logs_(logs),
      fs_(fs),
      io_(worker),
      exec_(std::move(exec)),
      cfg_(cfg),
      bound_(std::move(bound)),
      mode_(mode),
      throttle_(cfg.io_max_bytes_per_second) {
    auto threads = cfg_.enable ? std::max(cfg_.threads, std::int32_t{0}) : 0;
    for (std::int32_t i = 0; i < threads; ++i) {
        worker_slot slot;
        slot.thread = std::make_unique<io_worker>(mode, 1);
        slots_.push_back(std::move(slot));
    }
}

log_cleaner::~log_cleaner() {
    stop();
}

void log_cleaner::load() {
    for (const auto& dir : logs_.dirs()) {
        auto path = path_join(dir, std::string(cleaner_checkpoint_name));
        auto read = read_offset_checkpoint(fs_, path);
        if (!read) {
            GREGOR_LOG(storage_log, warn, "{} unreadable ({}): every compacted log is dirty", path,
                       read.err().to_string());
            continue;
        }
        for (const auto& [tp, offset] : *read) {
            status_[tp].first_dirty = offset;
        }
    }
}

std::optional<cleaner_log_status> log_cleaner::status(const model::topic_partition& tp) const {
    auto it = status_.find(tp);
    if (it == status_.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<std::pair<cleanable_range, bool>> log_cleaner::measure(
    const model::topic_partition& tp, log& l, model::timestamp_ms now) {
    if (l.offline() || !l.config().compact) {
        return std::nullopt;
    }
    auto& st = status_[tp];
    if (st.in_progress) {
        return std::nullopt;
    }
    auto lifetime = l.lifetime();
    if (st.log_seen && st.log.lock() != lifetime.lock()) {
        st = cleaner_log_status{};  // deleted and created again: nothing is clean
    }
    st.log_seen = true;
    st.log = lifetime;
    if (st.uncleanable) {
        return std::nullopt;
    }
    if (auto cut = l.take_truncation_point()) {
        st.first_dirty = std::min(st.first_dirty, *cut);
    }
    auto upper = bound_ ? bound_(tp).value_or(l.log_end_offset()) : l.log_end_offset();
    auto range = l.cleanable(st.first_dirty, upper, now);
    bool horizon_due = st.next_horizon && now >= *st.next_horizon;
    bool due = range.dirty_bytes > 0 &&
               (range.overdue || range.dirty_ratio() > l.config().min_cleanable_dirty_ratio);
    bool eligible = due || (horizon_due && range.clean_bytes + range.dirty_bytes > 0);
    return std::pair{range, eligible};
}

std::size_t log_cleaner::tick(model::timestamp_ms now) {
    last_now_ = now;
    if (stopped_ || slots_.empty()) {
        return 0;
    }
    struct candidate {
        double ratio;
        model::topic_partition tp;
        cleanable_range range;
    };
    std::vector<candidate> eligible;
    double max_ratio = 0;
    logs_.for_each_compacted_log([&](const model::topic_partition& tp, log& l) {
        if (auto range = measure(tp, l, now)) {
            max_ratio = std::max(max_ratio, range->first.dirty_ratio());
            if (range->second) {
                eligible.push_back({range->first.dirty_ratio(), tp, range->first});
            }
        }
    });
    max_dirty_ratio_ = max_ratio;
    std::sort(eligible.begin(), eligible.end(),
              [](const candidate& a, const candidate& b) { return a.ratio > b.ratio; });
    std::size_t started = 0;
    auto next = eligible.begin();
    for (std::size_t i = 0; i < slots_.size() && next != eligible.end(); ++i) {
        if (slots_[i].busy) {
            continue;
        }
        auto* l = logs_.get(next->tp);
        started += start(slots_[i], i, *l, next->range, now) ? 1U : 0U;
        ++next;
    }
    return started;
}

bool log_cleaner::start(worker_slot& slot, std::size_t index, log& l, const cleanable_range& range,
                        model::timestamp_ms now) {
    auto made = l.make_clean_job(range, now);
    if (!made) {
        // The segments could not be opened (out of descriptors, say): tried again next round.
        GREGOR_LOG_RATE_LIMITED(storage_log, warn, std::chrono::seconds(10),
                                "{}: cleaning not started: {}", l.topic_partition(),
                                made.err().to_string());
        return false;
    }
    auto job = std::make_shared<clean_job>(std::move(*made));
    slot.abort = job->abort;
    slot.busy = job->tp;
    status_[job->tp].in_progress = true;
    status_[job->tp].dirty_bytes = range.dirty_bytes;
    if (!slot.map) {
        slot.map = std::make_unique<key_offset_map>(cfg_.map_bytes_per_thread(), cfg_.load_factor);
    }
    clean_buffers buffers;
    buffers.io_bytes = std::max<std::size_t>(
        static_cast<std::size_t>(cfg_.io_buffer_size) / slots_.size() / 2, 4096);
    buffers.max_batch_bytes = static_cast<std::size_t>(limits::request_bytes_max);
    buffers.read_ahead_bytes = buffers.io_bytes * 8;
    GREGOR_LOG(storage_log, info,
               "{}: cleaning from {} to {} ({} clean, {} dirty bytes, ratio {:.2f})", job->tp,
               range.first_dirty, range.first_uncleanable, range.clean_bytes, range.dirty_bytes,
               range.dirty_ratio());
    auto* map = slot.map.get();
    auto submitted = slot.thread->submit([this, index, job, map, buffers] {
        auto r = run_clean(fs_, *job, *map, buffers, throttle_);
        exec_([this, index, job, r = std::move(r), token = std::weak_ptr<int>(alive_)]() mutable {
            if (token.lock()) {
                finished(index, job, std::move(r));
            }
        });
    });
    if (!submitted) {
        slot.busy.reset();
        status_[job->tp].in_progress = false;
        return false;
    }
    return true;
}

void log_cleaner::finished(std::size_t index, std::shared_ptr<clean_job> job,
                           result<clean_result> r) {
    slots_[index].busy.reset();
    auto& st = status_[job->tp];
    st.in_progress = false;
    auto* l = logs_.get(job->tp);
    if (l == nullptr || stopped_) {
        return;  // deleted meanwhile: the outputs went with the directory
    }
    if (r) {
        auto swapped = l->finish_clean(*job, *r);
        if (!swapped) {
            r = swapped.err();
        }
    }
    if (!r) {
        if (r.err().code == make_error_code(errc::closed)) {
            GREGOR_LOG(storage_log, info, "{}: {}", job->tp, r.err().to_string());
        } else {
            st.uncleanable = true;
            st.last_error = r.err().to_string();
            GREGOR_LOG(storage_log, err, "{}: cleaning failed, not cleaned again until restart: {}",
                       job->tp, st.last_error);
        }
        tick(last_now_);
        return;
    }
    const auto& s = r->stats;
    slots_[index].last = s;
    st.first_dirty = r->end_offset;
    st.last = s;
    st.last_ms = last_now_;
    st.next_horizon = r->next_horizon;
    ++st.passes;
    auto recopied = s.bytes_recopied;
    GREGOR_LOG(storage_log, info,
               "{}: cleaned up to {}: indexed {} bytes ({} records, {} keys, {:.1f}% of the map), "
               "recopied {} bytes / {} records into {} segments, kept {} bytes / {} records "
               "({:.1f}% smaller), {} tombstones kept, index {} ms, clean {} ms",
               job->tp, r->end_offset, s.dirty_bytes, s.records_indexed, s.keys_indexed,
               100.0 * s.map_utilization, recopied, s.records_read, r->groups.size(),
               s.bytes_written, s.records_kept,
               recopied == 0 ? 0.0
                             : 100.0 * (1.0 - static_cast<double>(s.bytes_written) /
                                                  static_cast<double>(recopied)),
               s.tombstones_kept, s.index_ms, s.clean_ms);
    write_checkpoint(path_parent(l->dir()));
    tick(last_now_);
}

cleaner_summary log_cleaner::summary() const {
    cleaner_summary out;
    std::uint64_t written = 0;
    std::uint64_t recopied = 0;
    for (const auto& slot : slots_) {
        if (!slot.last) {
            continue;
        }
        const clean_stats& s = *slot.last;
        out.max_buffer_utilization = std::max(out.max_buffer_utilization, s.map_utilization);
        out.max_clean_time_s =
            std::max(out.max_clean_time_s, static_cast<double>(s.index_ms + s.clean_ms) / 1e3);
        written += s.bytes_written;
        recopied += s.bytes_recopied;
    }
    out.recopy_ratio =
        recopied == 0 ? 0.0 : static_cast<double>(written) / static_cast<double>(recopied);
    out.last_look = last_now_() > 0 ? last_now_ : model::timestamp_ms{-1};
    for (const auto& d : logs_.dirs()) {
        out.uncleanable[d];
    }
    for (const auto& d : logs_.offline_dirs()) {
        out.uncleanable.erase(d);
    }
    for (const auto& [tp, st] : status_) {
        const auto* l = st.uncleanable ? logs_.get(tp) : nullptr;
        if (l == nullptr) {
            continue;
        }
        auto& dir = out.uncleanable[path_parent(l->dir())];
        ++dir.partitions;
        dir.bytes += st.dirty_bytes;
    }
    return out;
}

void log_cleaner::write_checkpoint(const std::string& log_dir) {
    offset_map entries;
    for (const auto& [tp, st] : status_) {
        auto* l = logs_.get(tp);
        if (l != nullptr && path_parent(l->dir()) == log_dir && st.first_dirty > model::offset(0)) {
            entries[tp] = st.first_dirty;
        }
    }
    auto& writer = writers_[log_dir];
    if (!writer) {
        writer = std::make_shared<checkpoint_writer>();
    }
    auto path = path_join(log_dir, std::string(cleaner_checkpoint_name));
    auto content = encode_offset_checkpoint(entries);
    auto seq = writer->next_seq();
    if (stopped_) {
        ignore_error(writer->write(fs_, path, content, seq),
                     "the cleaner re-cleans from an older point");
        return;
    }
    auto submitted = io_.submit([fs = &fs_, writer, path, content = std::move(content), seq] {
        auto w = writer->write(*fs, path, content, seq);
        if (!w) {
            GREGOR_LOG_RATE_LIMITED(storage_log, warn, std::chrono::seconds(10),
                                    "writing {} failed: {}", path, w.err().to_string());
        }
    });
    ignore_error(std::move(submitted), "the next pass writes the checkpoint again");
}

std::size_t log_cleaner::run_pending() {
    std::size_t ran = 0;
    for (auto& slot : slots_) {
        ran += slot.thread->run_pending();
    }
    return ran;
}

void log_cleaner::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    for (auto& slot : slots_) {
        if (slot.abort) {
            slot.abort->store(true);
        }
    }
    throttle_.stop();
    for (auto& slot : slots_) {
        slot.thread->stop();
    }
    std::set<std::string> dirs;
    for (const auto& [tp, st] : status_) {
        if (auto* l = logs_.get(tp); l != nullptr && !l->offline()) {
            dirs.insert(path_parent(l->dir()));
        }
    }
    for (const auto& d : dirs) {
        write_checkpoint(d);
    }
}

}  // namespace gregor::storage

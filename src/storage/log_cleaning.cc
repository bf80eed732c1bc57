// log: what the cleaner may clean, the snapshot a pass reads, the swap of its output, and
// the completion of an interrupted swap when the log opens.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/logger.h"
#include "storage/names.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::storage {

cleanable_range log::cleanable(model::offset checkpoint, model::offset upper_bound,
                               model::timestamp_ms now) {
    assert_owner();
    cleanable_range r;
    r.first_dirty = checkpoint;
    if (checkpoint < log_start_ || checkpoint > log_end_) {
        // Kafka resets a checkpoint outside the log to its start (a full re-clean).
        r.first_dirty = log_start_;
    }
    auto limit = std::min(upper_bound, active().base_offset());
    // min.compaction.lag.ms: records newer than the lag stay as they are.
    if (cfg_->min_compaction_lag_ms > 0) {
        for (auto it = segments_.begin(); it != segments_.end() && it->first < limit; ++it) {
            if (std::next(it)->first <= r.first_dirty) {
                continue;  // (never the last segment: limit is at most the active one's base)
            }
            auto ts = it->second->max_timestamp();
            if (!ts || ts->timestamp() > now() - cfg_->min_compaction_lag_ms) {
                limit = std::min(limit, it->first);
                break;
            }
        }
    }
    // Rounded down to a segment boundary.
    auto it = segments_.upper_bound(limit);
    r.first_uncleanable = it == segments_.begin() ? limit : std::prev(it)->first;
    if (r.first_uncleanable < r.first_dirty) {
        r.first_uncleanable = r.first_dirty;
    }
    bool first_dirty_seen = false;
    for (auto seg_it = segments_.begin(); seg_it != segments_.end(); ++seg_it) {
        auto next = std::next(seg_it);
        if (next == segments_.end() || seg_it->first >= r.first_uncleanable) {
            break;
        }
        auto& seg = *seg_it->second;
        if (next->first <= r.first_dirty) {
            r.clean_bytes += seg.size_bytes();
            continue;
        }
        r.dirty_bytes += seg.size_bytes();
        if (!first_dirty_seen && cfg_->max_compaction_lag_ms < no_limit) {
            first_dirty_seen = true;
            auto first = seg.batch_at(0);
            if (first && *first && (*first)->first_timestamp() >= 0 &&
                (*first)->first_timestamp() < now() - cfg_->max_compaction_lag_ms) {
                r.overdue = true;
            }
        }
    }
    return r;
}

result<clean_job> log::make_clean_job(const cleanable_range& range, model::timestamp_ms now) {
    assert_owner();
    clean_job job;
    job.tp = tp_;
    job.dir = dir_;
    job.cfg = *cfg_;
    job.first_dirty = range.first_dirty;
    job.first_uncleanable = range.first_uncleanable;
    job.now = now;
    for (const auto& [base, seg] : segments_) {
        if (base >= range.first_uncleanable || seg->active()) {
            break;
        }
        GREGOR_TRY(auto file, seg->log_file());
        job.segments.push_back({base, seg->size_bytes(), std::move(file)});
    }
    for (const auto* entry : producers_.entries()) {
        if (const auto* last = entry->last_batch()) {
            job.producer_last.emplace(entry->id(), last->last_offset);
        }
    }
    job.generation = flush_generation_;
    return job;
}

namespace {

constexpr segment_file_kind kinds_log_last[] = {
    segment_file_kind::index, segment_file_kind::time_index, segment_file_kind::log};

std::string file_of(const std::string& dir, model::offset base, segment_file_kind kind,
                    std::string_view suffix) {
    return path_join(dir, segment_file_name(base, kind) + std::string(suffix));
}

// Renames the files of segment `base` from one suffix to another, the `.log` last: its
// presence under the new name says the whole segment is there.
result<void> rename_segment(file_system& fs, const std::string& dir, model::offset base,
                            std::string_view from, std::string_view to) {
    for (auto kind : kinds_log_last) {
        auto src = file_of(dir, base, kind, from);
        if (kind != segment_file_kind::log && !fs.exists(src)) {
            continue;  // an index is rebuilt from the log when missing
        }
        GREGOR_TRY_VOID(fs.rename(src, file_of(dir, base, kind, to)));
    }
    return ok();
}

}  // namespace

result<void> log::finish_clean(const clean_job& job, const clean_result& done) {
    assert_owner();
    GREGOR_TRY_VOID(check_writable());
    // The pass read a snapshot: every segment it replaces must still be the one it read.
    bool same = job.generation == flush_generation_;
    for (const auto& s : job.segments) {
        auto it = segments_.find(s.base);
        same = same && it != segments_.end() && !it->second->active() &&
               it->second->size_bytes() == s.size && it->second->holds_file(s.log_file);
    }
    if (!same) {
        for (const auto& g : done.groups) {
            remove_cleaned_files(*ctx_->fs, dir_, g.base);
        }
        return error(errc::closed,
                     fmt::format("{}: the log changed while it was cleaned; result dropped", tp_));
    }
    ++dir_changes_;
    return watched([&]() -> result<void> {
        for (const auto& g : done.groups) {
            GREGOR_TRY_VOID(rename_segment(*ctx_->fs, dir_, g.base, cleaned_suffix, swap_suffix));
            // Durable before any old segment goes: from here on, opening completes the swap.
            GREGOR_TRY_VOID(ctx_->fs->sync_dir(dir_));
            for (auto base : g.replaced) {
                GREGOR_TRY_VOID(delete_segment(segments_.find(base)));
            }
            GREGOR_TRY_VOID(rename_segment(*ctx_->fs, dir_, g.base, swap_suffix, {}));
            GREGOR_TRY(auto seg,
                       segment::open(*ctx_->fs, dir_, g.base, seg_options(), clock_now()));
            segments_.emplace(g.base, std::move(seg));
        }
        auto* fs = ctx_->fs;
        auto submitted = ctx_->worker->submit([fs, dir = dir_] {
            ignore_error(fs->sync_dir(dir), "the renames are redone from .swap files if lost");
        });
        ignore_error(std::move(submitted), "a swap whose renames are lost is redone at open");
        return ok();
    }());
}

result<void> log::recover_swaps(const std::vector<std::string>& names) {
    std::vector<model::offset> swaps;
    for (const auto& name : names) {
        auto parsed = parse_segment_file_name(name);
        if (parsed && parsed->cleaned) {
            // An unfinished clean: the old segments are intact.
            ignore_error(ctx_->fs->remove(path_join(dir_, name)), "removed at next open");
        } else if (parsed && parsed->swap && parsed->kind == segment_file_kind::log) {
            swaps.push_back(parsed->base);
        }
    }
    for (auto base : swaps) {
        // A complete, synced output: it replaces every segment starting inside its range.
        model::offset end;
        {
            GREGOR_TRY(auto seg, segment::open(*ctx_->fs, dir_, base, seg_options(), clock_now(),
                                               swap_suffix));
            GREGOR_TRY(end, seg->next_offset());
        }
        GREGOR_LOG(storage_log, warn, "{}: completing the swap of cleaned segment {} (to {})", tp_,
                   base, end);
        for (const auto& name : names) {
            auto parsed = parse_segment_file_name(name);
            if (parsed && parsed->plain() && parsed->base >= base && parsed->base < end) {
                GREGOR_TRY_VOID(ctx_->fs->remove(path_join(dir_, name)));
            }
        }
        GREGOR_TRY_VOID(rename_segment(*ctx_->fs, dir_, base, swap_suffix, {}));
    }
    // Index files of a swap whose log was already renamed (or never was): rebuilt instead.
    GREGOR_TRY(auto now_names, ctx_->fs->list_dir(dir_));
    for (const auto& name : now_names) {
        auto parsed = parse_segment_file_name(name);
        if (parsed && parsed->swap) {
            ignore_error(ctx_->fs->remove(path_join(dir_, name)), "removed at next open");
        }
    }
    if (!swaps.empty()) {
        GREGOR_TRY_VOID(ctx_->fs->sync_dir(dir_));
    }
    return ok();
}

}  // namespace gregor::storage

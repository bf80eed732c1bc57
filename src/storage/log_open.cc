// log: opening an existing directory and crash recovery.
#include "base/assert.h"
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/logger.h"
#include "storage/names.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::storage {

result<std::unique_ptr<log>> log::open(const log_context& ctx, std::string dir,
                                       model::topic_partition tp, log_config cfg,
                                       const log_open_state& state, model::timestamp_ms now) {
    return open(std::make_shared<const log_context>(ctx), std::move(dir), std::move(tp),
                std::make_shared<const log_config>(cfg), state, now);
}

result<std::unique_ptr<log>> log::open(std::shared_ptr<const log_context> ctx, std::string dir,
                                       model::topic_partition tp,
                                       std::shared_ptr<const log_config> cfg,
                                       const log_open_state& state, model::timestamp_ms now) {
    GREGOR_ASSERT(ctx != nullptr && cfg != nullptr, "log needs a context and a config");
    std::unique_ptr<log> l(new log(std::move(ctx), std::move(dir), std::move(tp), std::move(cfg)));
    GREGOR_TRY_VOID(l->ctx_->fs->create_dirs(l->dir_));
    GREGOR_TRY_VOID(l->load(state, now));
    return l;
}

void log::remove_leftovers(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        auto parsed = parse_segment_file_name(name);
        bool tmp = name.ends_with(tmp_suffix);
        if ((parsed && parsed->deleted) || tmp) {
            ++dir_changes_;
            ignore_error(ctx_->fs->remove(path_join(dir_, name)),
                         "a leftover that cannot be removed now is retried at next open");
        }
    }
}

result<void> log::load_segments(model::timestamp_ms now) {
    GREGOR_TRY(auto names, ctx_->fs->list_dir(dir_));
    remove_leftovers(names);
    bool cleaner_files = std::any_of(names.begin(), names.end(), [](const std::string& n) {
        auto parsed = parse_segment_file_name(n);
        return parsed && (parsed->cleaned || parsed->swap);
    });
    if (cleaner_files) {
        ++dir_changes_;
        GREGOR_TRY_VOID(recover_swaps(names));
        GREGOR_TRY(names, ctx_->fs->list_dir(dir_));
    }
    std::map<model::offset, bool> logs;
    std::vector<std::string> orphans;
    for (const auto& name : names) {
        auto parsed = parse_segment_file_name(name);
        if (parsed && parsed->plain() && parsed->kind == segment_file_kind::log) {
            logs[parsed->base] = true;
        }
    }
    for (const auto& name : names) {
        auto parsed = parse_segment_file_name(name);
        if (parsed && parsed->plain() && parsed->kind != segment_file_kind::log &&
            !logs.contains(parsed->base)) {
            // An index without its log (a crash during deletion or creation).
            ++dir_changes_;
            ignore_error(ctx_->fs->remove(path_join(dir_, name)), "orphan index; harmless");
        }
    }
    for (const auto& [base, unused] : logs) {
        GREGOR_TRY(auto seg, segment::open(*ctx_->fs, dir_, base, seg_options(), now));
        segments_.emplace(base, std::move(seg));
    }
    return ok();
}

result<void> log::load(const log_open_state& state, model::timestamp_ms now) {
    GREGOR_TRY_VOID(load_segments(now));
    auto epoch_path = path_join(dir_, std::string(leader_epoch_checkpoint_name));
    auto recovery_point = state.recovery_point;
    bool clean = state.clean_shutdown;
    auto entries = read_epoch_checkpoint(*ctx_->fs, epoch_path);
    if (!entries || !leader_epoch_cache::is_valid(*entries)) {
        GREGOR_LOG(storage_log, warn, "{}: leader epoch checkpoint unreadable ({}), rescanning",
                   tp_, entries ? "entries out of order" : entries.err().to_string());
        recovery_point = model::offset(0);
        clean = false;
    } else {
        epochs_ = leader_epoch_cache(std::move(*entries));
    }
    if (segments_.empty()) {
        // Not yet a directory change close() must sync: if a crash loses the new files, the
        // next open creates the same empty segment again (the first append counts it).
        auto base = std::max(state.log_start_offset, model::offset(0));
        GREGOR_TRY(auto seg, segment::create(*ctx_->fs, dir_, base, seg_options(), now));
        segments_.emplace(base, std::move(seg));
        clean = true;
    }
    // Whether recovery re-derived epochs from the batches (the checkpoint must follow).
    bool recovered = !clean;
    if (!clean) {
        GREGOR_TRY_VOID(recover_from(recovery_point, now));
    }
    auto activated = active().activate(now);
    if (!activated && clean) {
        // The marker vouched for a log that does not parse: recover it instead of failing.
        GREGOR_LOG(storage_log, warn,
                   "{}: active segment unreadable after a clean shutdown "
                   "({}), recovering it",
                   tp_, activated.err().to_string());
        GREGOR_TRY_VOID(recover_from(active().base_offset(), now));
        recovered = true;
        activated = active().activate(now);
    }
    GREGOR_TRY_VOID(activated);
    GREGOR_TRY(log_end_, active().next_offset());
    log_start_ = std::min(std::max(state.log_start_offset, segments_.begin()->first), log_end_);
    // Kafka's trim at load: epochs starting at or past the log end hold nothing, and the log
    // start bounds the first. After a clean shutdown the file needs no rewrite for it: every
    // open trims the same entries again, and the next change of the epochs writes them all.
    // (An empty partition's restart would otherwise cost two fsyncs.)
    epochs_.truncate_from_end(log_end_);
    epochs_.truncate_from_start(log_start_);
    if (recovered) {
        GREGOR_TRY_VOID(persist_epochs_now());
    }
    flushed_ = log_end_;
    last_flush_ms_ = now;
    GREGOR_TRY_VOID(load_producers(now, clean));
    if (recovered) {
        // The snapshot at the new log end, if any, is not one a clean close wrote.
        durable_snapshot_ = model::no_offset;
    }
    return ok();
}

result<void> log::recover_from(model::offset recovery_point, model::timestamp_ms now) {
    auto it = segments_.upper_bound(recovery_point);
    if (it != segments_.begin()) {
        --it;
    }
    GREGOR_LOG(storage_log, info, "{}: recovering from segment {} (recovery point {})", tp_,
               it->first, recovery_point);
    // Epochs are re-derived from the batches themselves: the checkpoint may lag them.
    epochs_.truncate_from_end(it->first);
    auto on_batch = [this](const batch_summary& b) {
        auto latest = epochs_.latest();
        if (b.epoch() >= 0 && (!latest || b.epoch > latest->epoch)) {
            epochs_.assign(b.epoch, b.base_offset);
        }
    };
    for (; it != segments_.end(); ++it) {
        auto& seg = *it->second;
        GREGOR_TRY(auto removed, seg.recover(on_batch));
        bool last = std::next(it) == segments_.end();
        GREGOR_TRY(auto end, seg.next_offset());
        // A tail that never reached the disk leaves a segment ending short of its
        // successor's base (the rest vanished without torn bytes): same as a torn tail.
        bool hole = !last && end != std::next(it)->first;
        if ((removed > 0 || hole) && !last) {
            GREGOR_TRY_VOID(delete_segments_after(it->first));
            last = true;
        }
        if (!last) {
            GREGOR_TRY_VOID(seg.seal());
        }
        // What recovery kept (and cut) is made durable before anyone relies on it.
        for (auto& f : seg.files_to_sync()) {
            GREGOR_TRY_VOID(f->sync());
        }
        if (last) {
            break;
        }
    }
    (void)now;
    auto changes = dir_changes_;
    GREGOR_TRY_VOID(ctx_->fs->sync_dir(dir_));
    dir_synced_ = changes;
    return ok();
}

result<void> log::delete_segments_after(model::offset base) {
    auto it = segments_.upper_bound(base);
    while (it != segments_.end()) {
        GREGOR_LOG(storage_log, warn, "{}: deleting segment {} after a corrupt one", tp_,
                   it->first);
        auto next = std::next(it);
        GREGOR_TRY_VOID(delete_segment(it));
        it = next;
    }
    return ok();
}

}  // namespace gregor::storage

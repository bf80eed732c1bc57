#include "storage/log_manager.h"

#include "storage/errc.h"
#include "storage/logger.h"
#include "storage/names.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace gregor::storage {

log_manager::log_manager(const log_context& ctx, std::vector<std::string> log_dirs,
                         config_source configs)
    : ctx_(ctx), dirs_(std::move(log_dirs)), configs_(std::move(configs)) {
    GREGOR_ASSERT(!dirs_.empty(), "log_manager needs at least one log dir");
    GREGOR_ASSERT(static_cast<bool>(configs_), "log_manager needs a config source");
    for (std::size_t i = 0; i < dirs_.size(); ++i) {
        auto c = std::make_shared<log_context>(ctx_);
        c->on_disk_failure = [this, i](const error& e) { fail_dir(i, e); };
        dir_contexts_.push_back(std::move(c));
    }
    offline_.assign(dirs_.size(), false);
    dir_log_counts_.assign(dirs_.size(), 0);
    checkpoints_.resize(dirs_.size());
}

std::shared_ptr<const log_context> log_manager::dir_context(std::size_t dir_index) const {
    return dir_contexts_[dir_index];
}

bool log_manager::fail_dir(std::size_t dir_index, const error& cause) {
    GREGOR_ASSERT(dir_index < dirs_.size(), "no log dir {}", dir_index);
    if (offline_[dir_index] || !is_disk_failure(cause)) {
        return offline_[dir_index];
    }
    offline_[dir_index] = true;
    std::size_t count = 0;
    for (auto& [tp, e] : logs_) {
        if (e.dir_index == dir_index) {
            e.log->take_offline();
            offline_partitions_.insert(tp);
            ++count;
        }
    }
    GREGOR_LOG(storage_log, err,
               "LOG DIR OFFLINE: {} failed ({}); its {} partition(s) stop and the dir is not "
               "written again until the broker restarts ({} of {} log dirs still online)",
               dirs_[dir_index], cause.to_string(), count, healthy_dir_count(), dirs_.size());
    // The caller may be deep inside one of these logs: they go on the next turn of the loop.
    ctx_.exec([this, dir_index, token = std::weak_ptr<int>(alive_)] {
        if (token.lock()) {
            drop_offline_dir(dir_index);
        }
    });
    return true;
}

void log_manager::drop_offline_dir(std::size_t dir_index) {
    std::vector<model::topic_partition> gone;
    for (const auto& [tp, e] : logs_) {
        if (e.dir_index == dir_index) {
            gone.push_back(tp);
        }
    }
    std::sort(gone.begin(), gone.end());
    if (on_dir_failure_) {
        on_dir_failure_(dirs_[dir_index], gone, healthy_dir_count());
    }
    for (const auto& tp : gone) {
        if (auto it = logs_.find(tp); it != logs_.end()) {
            untrack(it->second.log.get());
            logs_.erase(it);
            release_topic_config(tp.topic);
        }
    }
    dir_log_counts_[dir_index] = 0;
}

std::vector<std::string> log_manager::offline_dirs() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < dirs_.size(); ++i) {
        if (offline_[i]) {
            out.push_back(dirs_[i]);
        }
    }
    return out;
}

std::size_t log_manager::healthy_dir_count() const {
    return static_cast<std::size_t>(std::count(offline_.begin(), offline_.end(), false));
}

log_manager::~log_manager() = default;

offset_map log_manager::read_checkpoint(const std::string& dir, std::string_view name) {
    auto path = path_join(dir, std::string(name));
    auto r = read_offset_checkpoint(*ctx_.fs, path);
    if (!r) {
        GREGOR_LOG(storage_log, warn, "{} is unreadable ({}); affected logs get a full recovery",
                   path, r.err().to_string());
        return {};
    }
    return std::move(*r);
}

result<void> log_manager::load(model::timestamp_ms now) {
    for (std::size_t i = 0; i < dirs_.size(); ++i) {
        auto loaded = load_dir(i, now);
        if (!loaded && !is_disk_failure(loaded.err())) {
            return loaded;
        }
        if (!loaded) {
            // Kafka starts with the dir offline and serves the others.
            GREGOR_LOG(storage_log, err, "LOG DIR OFFLINE at start-up: {} ({})", dirs_[i],
                       loaded.err().to_string());
            offline_[i] = true;
            std::erase_if(logs_, [this, i](const auto& kv) {
                if (kv.second.dir_index != i) {
                    return false;
                }
                untrack(kv.second.log.get());
                return true;
            });
            dir_log_counts_[i] = 0;
        }
    }
    if (healthy_dir_count() == 0) {
        return error(errc::io_error, "every log dir is offline");
    }
    // From now on a crash must be detected: the marker goes before any new write.
    for (std::size_t i = 0; i < dirs_.size(); ++i) {
        if (offline_[i]) {
            continue;
        }
        const auto& dir = dirs_[i];
        auto marker = path_join(dir, std::string(clean_shutdown_marker_name));
        if (ctx_.fs->exists(marker)) {
            GREGOR_TRY_VOID(ctx_.fs->remove(marker));
            GREGOR_TRY_VOID(ctx_.fs->sync_dir(dir));
        }
    }
    return ok();
}

namespace {

// Runs fn(0) .. fn(count - 1) on up to `threads` threads, the caller's among them; returns
// when every call has.
void run_spread(std::size_t count, std::size_t threads,
                const std::function<void(std::size_t)>& fn) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i = next++; i < count; i = next++) {
            fn(i);
        }
    };
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < std::min(threads, count); ++t) {
        helpers.emplace_back(work);
    }
    work();
    for (auto& h : helpers) {
        h.join();
    }
}

}  // namespace

result<void> log_manager::load_dir(std::size_t dir_index, model::timestamp_ms now) {
    const auto& dir = dirs_[dir_index];
    GREGOR_TRY_VOID(ctx_.fs->create_dirs(dir));
    bool clean = ctx_.fs->exists(path_join(dir, std::string(clean_shutdown_marker_name)));
    auto recovery = read_checkpoint(dir, recovery_point_checkpoint_name);
    auto starts = read_checkpoint(dir, log_start_offset_checkpoint_name);
    auto repl = read_checkpoint(dir, replication_offset_checkpoint_name);
    GREGOR_TRY(auto names, ctx_.fs->list_dir(dir));
    struct to_open {
        model::topic_partition tp;
        std::string path;
        log_open_state state;
        std::shared_ptr<const log_config> config;
        result<std::unique_ptr<log>> opened;
    };
    std::vector<to_open> found;
    for (const auto& name : names) {
        auto path = path_join(dir, name);
        if (name.ends_with(dir_delete_suffix)) {
            ignore_error(ctx_.fs->remove_all(path), "retried at next start-up");
            continue;
        }
        auto tp = parse_partition_dir_name(name);
        auto is_dir = ctx_.fs->is_dir(path);
        if (!tp || !is_dir || !*is_dir) {
            continue;
        }
        if (logs_.contains(*tp)) {
            return error(errc::already_exists, fmt::format("{} is in two log dirs ({} and {})", *tp,
                                                           dirs_[logs_[*tp].dir_index], dir));
        }
        log_open_state state;
        state.clean_shutdown = clean;
        state.recovery_point = recovery.contains(*tp) ? recovery[*tp] : model::offset(0);
        state.log_start_offset = starts.contains(*tp) ? starts[*tp] : model::offset(0);
        found.push_back(to_open{*tp, std::move(path), state, topic_config(tp->topic),
                                error(errc::io_error, "not opened")});
    }
    // Each log opens on its own (its files, its directory); they share only the context, whose
    // file system, I/O worker queue and executor take calls from any thread.
    run_spread(found.size(), recovery_threads_, [&](std::size_t i) {
        auto& f = found[i];
        f.opened = log::open(dir_context(dir_index), f.path, f.tp, f.config, f.state, now);
        if (f.opened) {
            // Idle until its first read or append: an open partition needs no descriptor.
            (*f.opened)->release_idle_files(/*even_if_used=*/true);
        }
    });
    for (auto& f : found) {
        if (!f.opened) {
            return f.opened.err();  // the first failure in directory order
        }
        auto l = std::move(*f.opened);
        l->adopt_thread();
        track(l.get());
        if (repl.contains(f.tp)) {
            l->set_replication_offset(repl[f.tp]);
        }
        logs_[f.tp] = entry{std::move(l), dir_index};
        ++dir_log_counts_[dir_index];
    }
    mark_checkpoints_stale(dir_index);
    GREGOR_LOG(storage_log, info, "loaded log dir {} ({} shutdown, {} logs, {} thread(s))", dir,
               clean ? "clean" : "unclean", found.size(), recovery_threads_);
    return ok();
}

std::optional<std::size_t> log_manager::least_loaded_dir() const {
    const auto& counts = dir_log_counts_;
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < dirs_.size(); ++i) {
        if (!offline_[i] && (!best || counts[i] < counts[*best])) {
            best = i;
        }
    }
    return best;
}

result<log*> log_manager::get_or_create(const model::topic_partition& tp, model::timestamp_ms now,
                                        bool is_new) {
    if (auto* l = get(tp)) {
        return l;
    }
    if (offline_partitions_.contains(tp) || (!is_new && healthy_dir_count() < dirs_.size())) {
        return error(errc::io_error, fmt::format("the log of {} may be in an offline log dir ({})",
                                                 tp, fmt::join(offline_dirs(), ",")));
    }
    auto chosen = least_loaded_dir();
    if (!chosen) {
        return error(errc::io_error, "every log dir is offline");
    }
    auto dir_index = *chosen;
    auto path = path_join(dirs_[dir_index], partition_dir_name(tp));
    log_open_state state;
    state.clean_shutdown = true;
    auto opened = log::open(dir_context(dir_index), path, tp, topic_config(tp.topic), state, now);
    if (opened) {
        if (auto synced = ctx_.fs->sync_dir(dirs_[dir_index]); !synced) {
            opened = synced.err();
        }
    }
    if (!opened) {
        fail_dir(dir_index, opened.err());
        release_topic_config(tp.topic);
        return opened.err();
    }
    auto l = std::move(*opened);
    // Reopened by its first append: creating 20,000 partitions needs no 20,000 descriptors.
    l->release_idle_files(/*even_if_used=*/true);
    auto* raw = l.get();
    track(raw);
    logs_[tp] = entry{std::move(l), dir_index};
    ++dir_log_counts_[dir_index];
    mark_checkpoints_stale(dir_index);
    GREGOR_LOG(storage_log, info, "created log {} in {}", tp, dirs_[dir_index]);
    return raw;
}

log* log_manager::get(const model::topic_partition& tp) {
    auto it = logs_.find(tp);
    return it == logs_.end() ? nullptr : it->second.log.get();
}

result<void> log_manager::remove(const model::topic_partition& tp) {
    auto it = logs_.find(tp);
    if (it == logs_.end()) {
        return error(errc::not_found, fmt::format("no log for {}", tp));
    }
    GREGOR_TRY_VOID(it->second.log->remove());
    --dir_log_counts_[it->second.dir_index];
    mark_checkpoints_stale(it->second.dir_index);
    untrack(it->second.log.get());
    logs_.erase(it);
    release_topic_config(tp.topic);
    return ok();
}

std::shared_ptr<const log_config> log_manager::topic_config(const std::string& topic) {
    auto cfg = configs_(topic);
    auto& shared = topic_configs_[topic];
    if (!shared || *shared != cfg) {
        shared = std::make_shared<const log_config>(cfg);  // logs holding the old one keep it
    }
    return shared;
}

void log_manager::release_topic_config(const std::string& topic) {
    if (auto it = topic_configs_.find(topic);
        it != topic_configs_.end() && it->second.use_count() == 1) {
        topic_configs_.erase(it);
    }
}

void log_manager::for_each_compacted_log(
    const std::function<void(const model::topic_partition&, storage::log&)>& fn) {
    for (auto* l : compacted_) {
        fn(l->topic_partition(), *l);
    }
}

void log_manager::track(storage::log* l) {
    if (l->config().flush_ms != no_limit) {
        flush_timed_.insert(l);
    }
    if (l->config().compact) {
        compacted_.insert(l);
    }
}

void log_manager::untrack(storage::log* l) {
    flush_timed_.erase(l);
    compacted_.erase(l);
}

std::vector<model::topic_partition> log_manager::partitions() const {
    std::vector<model::topic_partition> out;
    for (const auto& [tp, e] : logs_) {
        out.push_back(tp);
    }
    std::sort(out.begin(), out.end());
    return out;
}

result<std::size_t> log_manager::run_retention(model::timestamp_ms now) {
    std::size_t deleted = 0;
    for (auto& [tp, e] : logs_) {
        if (e.log->offline()) {
            continue;
        }
        // Kafka checks producer expiry on its own timer (producer.id.expiration.check.
        // interval.ms, 10 min); the retention check (5 min) is as good a cadence.
        e.log->expire_producers(now);
        auto r = e.log->apply_retention(now);
        if (!r) {
            GREGOR_LOG_RATE_LIMITED(storage_log, err, std::chrono::seconds(10),
                                    "{}: retention failed: {}", tp, r.err().to_string());
            continue;
        }
        deleted += *r;
    }
    return deleted;
}

void log_manager::run_flush_checks(model::timestamp_ms now) {
    for (auto* l : flush_timed_) {
        if (!l->offline()) {
            l->maybe_flush(now);
        }
    }
}

std::size_t log_manager::release_idle_files() {
    std::size_t closed = 0;
    for (auto& [tp, e] : logs_) {
        closed += e.log->release_idle_files();
    }
    return closed;
}

std::size_t log_manager::sweep_idle_files(std::chrono::steady_clock::time_point now) {
    if (next_sweep_ == std::chrono::steady_clock::time_point{}) {
        next_sweep_ = now + idle_file_sweep_interval;
    }
    auto open = ctx_.fs->open_files();
    bool over = open_file_budget_ != 0 && open > open_file_budget_;
    if (now < next_sweep_ && !over) {
        return 0;
    }
    next_sweep_ = now + idle_file_sweep_interval;
    auto closed = release_idle_files();
    if (over) {
        GREGOR_LOG_RATE_LIMITED(storage_log, info, std::chrono::seconds(60),
                                "{} files open, over the budget of {}: closed {} idle segment "
                                "files",
                                open, open_file_budget_, closed);
    }
    return closed;
}

std::size_t log_manager::open_files() const {
    std::size_t n = 0;
    for (const auto& [tp, e] : logs_) {
        n += e.log->open_files();
    }
    return n;
}

void log_manager::reload_configs() {
    flush_timed_.clear();
    compacted_.clear();
    topic_configs_.clear();
    for (auto& [tp, e] : logs_) {
        e.log->set_config(topic_config(tp.topic));
        track(e.log.get());
    }
}

void log_manager::set_replication_offset(const model::topic_partition& tp, model::offset hw) {
    if (auto it = logs_.find(tp); it != logs_.end()) {
        it->second.log->set_replication_offset(hw);
    }
}

std::optional<model::offset> log_manager::replication_offset(
    const model::topic_partition& tp) const {
    auto it = logs_.find(tp);
    if (it == logs_.end() || it->second.log->replication_offset() == model::no_offset) {
        return std::nullopt;
    }
    return it->second.log->replication_offset();
}

void log_manager::mark_checkpoints_stale(std::size_t dir_index) {
    for (auto& f : checkpoints_[dir_index]) {
        f.stale = true;
    }
}

namespace {

constexpr std::array<std::string_view, 3> checkpoint_names{recovery_point_checkpoint_name,
                                                           log_start_offset_checkpoint_name,
                                                           replication_offset_checkpoint_name};

// splitmix64's finalizer.
std::uint64_t mix(std::uint64_t x) {
    x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31U);
}

}  // namespace

// Whether a file's content changed is told by a digest over its entries, not by keeping a
// copy of what was written (three offsets per replica): the sum, over the dir's logs, of a
// mix of the entry's address (stable in an unordered_map) and its offset. Adding or removing
// a log marks the dir's files stale instead, so the digest only has to notice an offset
// moving; two moves cancelling out would take a 64-bit collision. Entries with no offset
// (an unknown high watermark) are left out of the file, as before.
std::vector<std::array<std::optional<bytes>, log_manager::checkpoint_kinds>>
log_manager::changed_checkpoints(checkpoint_set which, bool must_be_durable) {
    const std::array<bool, checkpoint_kinds> wanted{which.recovery_points, which.log_starts,
                                                    which.replication};
    auto value = [](const entry& e, std::size_t kind) {
        switch (kind) {
            case 0:
                return e.log->recovery_point();
            case 1:
                return e.log->log_start_offset();
            default:
                return e.log->replication_offset();
        }
    };
    std::vector<std::array<std::uint64_t, checkpoint_kinds>> digests(dirs_.size());
    for (const auto& [tp, e] : logs_) {
        for (std::size_t k = 0; k < checkpoint_kinds; ++k) {
            auto v = value(e, k);
            if (wanted[k] && v != model::no_offset) {
                auto addr = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&e));
                digests[e.dir_index][k] += mix(mix(addr) ^ static_cast<std::uint64_t>(v()));
            }
        }
    }
    std::vector<std::array<std::optional<bytes>, checkpoint_kinds>> out(dirs_.size());
    std::vector<std::array<std::optional<offset_checkpoint_builder>, checkpoint_kinds>> builders(
        dirs_.size());
    bool any = false;
    for (std::size_t d = 0; d < dirs_.size(); ++d) {
        for (std::size_t k = 0; k < checkpoint_kinds; ++k) {
            const auto& f = checkpoints_[d][k];
            bool pending = must_be_durable && f.seq != 0 && !f.writer->written(f.seq);
            if (wanted[k] && !offline_[d] && (f.stale || f.digest != digests[d][k] || pending)) {
                builders[d][k].emplace();
                any = true;
            }
        }
    }
    if (!any) {
        return out;
    }
    for (const auto& [tp, e] : logs_) {
        for (std::size_t k = 0; k < checkpoint_kinds; ++k) {
            auto& b = builders[e.dir_index][k];
            if (auto v = value(e, k); b && v != model::no_offset) {
                b->add(tp, v);
            }
        }
    }
    for (std::size_t d = 0; d < dirs_.size(); ++d) {
        for (std::size_t k = 0; k < checkpoint_kinds; ++k) {
            if (builders[d][k]) {
                out[d][k] = builders[d][k]->finish();
                auto& f = checkpoints_[d][k];
                f.digest = digests[d][k];
                f.stale = false;
                f.seq = f.writer->next_seq();
            }
        }
    }
    return out;
}

void log_manager::checkpoint_failed(const checkpoint_failure& f) {
    if (fail_dir(f.dir_index, f.cause)) {
        return;
    }
    // Out of descriptors, say: the dir is fine, and the file is written again at its next
    // turn whatever the digest says.
    checkpoints_[f.dir_index][f.kind].stale = true;
    GREGOR_LOG_RATE_LIMITED(storage_log, warn, std::chrono::seconds(10),
                            "writing {} of {} failed, retried at its next turn: {}",
                            checkpoint_names[f.kind], dirs_[f.dir_index], f.cause.to_string());
}

void log_manager::write_checkpoints(checkpoint_set which, std::function<void(result<void>)> done) {
    struct file_job {
        std::size_t dir_index;
        std::size_t kind;
        std::string path;
        bytes content;
        std::shared_ptr<checkpoint_writer> writer;
        std::uint64_t seq;
    };
    std::vector<file_job> jobs;
    auto changed = changed_checkpoints(which, /*must_be_durable=*/false);
    for (std::size_t d = 0; d < dirs_.size(); ++d) {
        for (std::size_t k = 0; k < checkpoint_kinds; ++k) {
            if (changed[d][k]) {
                const auto& f = checkpoints_[d][k];
                jobs.push_back({d, k, path_join(dirs_[d], std::string(checkpoint_names[k])),
                                std::move(*changed[d][k]), f.writer, f.seq});
            }
        }
    }
    if (jobs.empty()) {
        if (done) {
            ctx_.exec([done = std::move(done)] { done(ok()); });  // on the loop, as always
        }
        return;
    }
    auto task = [fs = ctx_.fs, jobs = std::move(jobs), exec = ctx_.exec,
                 token = std::weak_ptr<int>(alive_), this, done = std::move(done)]() mutable {
        // Each dir is written even when another fails: one bad disk stops only itself.
        std::vector<checkpoint_failure> failed;
        for (auto& j : jobs) {
            bool dir_failed = std::any_of(failed.begin(), failed.end(), [&](const auto& f) {
                return f.dir_index == j.dir_index && is_disk_failure(f.cause);
            });
            if (dir_failed) {
                continue;
            }
            if (auto w = j.writer->write(*fs, j.path, j.content, j.seq); !w) {
                failed.push_back({j.dir_index, j.kind, w.err()});
            }
        }
        exec([token, this, failed = std::move(failed), done = std::move(done)] {
            if (!token.lock()) {
                return;
            }
            for (const auto& f : failed) {
                checkpoint_failed(f);
            }
            if (done) {
                done(failed.empty() ? result<void>(ok()) : result<void>(failed.front().cause));
            }
        });
    };
    auto submitted = ctx_.worker->submit(std::move(task));
    if (!submitted && done) {
        done(submitted.err());
    }
}

result<void> log_manager::shutdown() {
    // Closed on the recovery threads, except a log with flush waiters: their callbacks belong
    // to the caller's thread.
    std::vector<log*> spread;
    for (auto& [tp, e] : logs_) {
        if (offline_[e.dir_index]) {
            continue;
        }
        if (recovery_threads_ > 1 && !e.log->has_flush_waiters()) {
            spread.push_back(e.log.get());
        } else {
            GREGOR_TRY_VOID(e.log->close());
        }
    }
    std::vector<result<void>> closed(spread.size(), ok());
    run_spread(spread.size(), recovery_threads_ * dirs_.size(), [&](std::size_t i) {
        spread[i]->adopt_thread();
        closed[i] = spread[i]->close();
    });
    for (std::size_t i = 0; i < spread.size(); ++i) {
        spread[i]->adopt_thread();
        GREGOR_TRY_VOID(closed[i]);
    }
    // Offline dirs are never written again: the next start finds them as they failed.
    auto changed = changed_checkpoints(checkpoint_set{}, /*must_be_durable=*/true);
    for (std::size_t i = 0; i < dirs_.size(); ++i) {
        if (offline_[i]) {
            continue;
        }
        for (std::size_t k = 0; k < checkpoint_kinds; ++k) {
            if (changed[i][k]) {
                const auto& f = checkpoints_[i][k];
                GREGOR_TRY_VOID(
                    f.writer->write(*ctx_.fs, path_join(dirs_[i], std::string(checkpoint_names[k])),
                                    *changed[i][k], f.seq));
            }
        }
        auto marker = path_join(dirs_[i], std::string(clean_shutdown_marker_name));
        GREGOR_TRY(auto f, ctx_.fs->open(marker, open_mode::create));
        GREGOR_TRY_VOID(f->sync());
        GREGOR_TRY_VOID(ctx_.fs->sync_dir(dirs_[i]));
    }
    GREGOR_LOG(storage_log, info, "log manager shut down cleanly ({} logs)", logs_.size());
    return ok();
}

}  // namespace gregor::storage

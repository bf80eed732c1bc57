// log: the idempotent producers' state: checks before a leader append, updates after every
// append, `.snapshot` files (written at roll and close, loaded at open and truncation),
// replay of the batches after a snapshot, expiry.
#include "storage/errc.h"
#include "storage/log.h"
#include "storage/logger.h"
#include "storage/names.h"
#include "storage/producer_snapshot.h"

#include <fmt/format.h>

#include <chrono>
#include <limits>
#include <optional>

namespace gregor::storage {
namespace {

producer_batch_info producer_info_of(const batch_summary& b) {
    producer_batch_info info;
    info.producer = b.producer;
    info.epoch = b.producer_epoch;
    info.base_sequence = b.base_sequence;
    info.first_offset = b.base_offset;
    info.last_offset = b.last_offset;
    info.max_timestamp = b.max_timestamp;
    info.control = b.is_control();
    return info;
}

}  // namespace

result<std::optional<append_result>> log::check_producers(
    const std::vector<batch_summary>& batches, append_origin origin) const {
    producer_append_checker checker(producers_, origin);
    for (const auto& b : batches) {
        if (origin == append_origin::client && b.is_control()) {
            return error(errc::invalid_record,
                         fmt::format("{}: clients may not write control batches", tp_));
        }
        if (!b.has_producer()) {
            continue;
        }
        GREGOR_TRY(auto duplicate, checker.check(producer_info_of(b)));
        if (duplicate) {
            append_result r;
            r.first_offset = duplicate->first_offset;
            r.last_offset = duplicate->last_offset;
            if (cfg_->timestamp_type == model::timestamp_type::log_append_time) {
                r.log_append_time = duplicate->timestamp;
            }
            r.duplicate = true;
            return std::optional(r);
        }
    }
    return std::optional<append_result>{};
}

void log::apply_producers(const std::vector<batch_summary>& batches) {
    for (const auto& b : batches) {
        if (b.has_producer()) {
            producers_.apply(producer_info_of(b));
            durable_snapshot_ = model::no_offset;
        }
    }
}

std::size_t log::expire_producers(model::timestamp_ms now) {
    assert_owner();
    auto dropped = producers_.expire(now, cfg_->producer_id_expiration_ms);
    if (dropped > 0) {
        durable_snapshot_ = model::no_offset;
        GREGOR_LOG(storage_log, debug, "{}: {} idle producers expired", tp_, dropped);
    }
    return dropped;
}

std::string log::snapshot_path(model::offset at) const {
    return path_join(dir_, snapshot_file_name(at));
}

result<void> log::write_snapshot(model::offset at, bool durable) {
    auto content = encode_producer_snapshot(producers_);
    auto path = snapshot_path(at);
    auto tmp = path + std::string(tmp_suffix);
    auto written = [&]() -> result<std::shared_ptr<file>> {
        GREGOR_TRY(auto f, ctx_->fs->open(tmp, open_mode::create));
        GREGOR_TRY_VOID(f->truncate(0));
        GREGOR_TRY_VOID(f->write_at(0, content));
        if (durable) {
            GREGOR_TRY_VOID(f->sync());
        }
        GREGOR_TRY_VOID(ctx_->fs->rename(tmp, path));
        return f;
    }();
    if (!written) {
        ignore_error(ctx_->fs->remove(tmp), "a leftover .tmp is removed at the next open");
        return written.err();
    }
    snapshots_.insert(at);
    ++dir_changes_;
    if (durable) {
        auto changes = dir_changes_;
        GREGOR_TRY_VOID(ctx_->fs->sync_dir(dir_));
        dir_synced_ = changes;
        durable_snapshot_ = at;
        return ok();
    }
    // Until the worker's fsync, a crash may leave the file short or torn: loading then
    // fails its CRC, deletes it and falls back to the previous snapshot.
    sync_snapshot_later(std::move(*written));
    return ok();
}

void log::sync_snapshot_later(std::shared_ptr<file> f) {
    auto task = [f = std::move(f), fs = ctx_->fs, dir = dir_, exec = ctx_->exec, token = token(),
                 this] {
        result<void> r = f->sync();
        if (r) {
            r = fs->sync_dir(dir);
        }
        if (!r) {
            GREGOR_LOG_RATE_LIMITED(storage_log, err, std::chrono::seconds(10),
                                    "{}: producer snapshot fsync failed: {}", dir,
                                    r.err().to_string());
            exec([token, this, e = r.err()] {
                if (token.lock()) {
                    report_disk_failure(e);
                }
            });
        }
    };
    auto submitted = ctx_->worker->submit(std::move(task));
    if (!submitted) {
        GREGOR_LOG_RATE_LIMITED(storage_log, warn, std::chrono::seconds(10),
                                "{}: producer snapshot fsync not queued: {}", tp_,
                                submitted.err().to_string());
    }
}

result<void> log::delete_snapshots(model::offset above, model::offset at_or_below) {
    for (auto it = snapshots_.begin(); it != snapshots_.end();) {
        if (*it <= above && *it > at_or_below) {
            ++it;
            continue;
        }
        ++dir_changes_;
        if (durable_snapshot_ == *it) {
            durable_snapshot_ = model::no_offset;
        }
        auto removed = ctx_->fs->remove(snapshot_path(*it));
        if (!removed && removed.err().code != make_error_code(errc::not_found)) {
            return removed.err();
        }
        it = snapshots_.erase(it);
    }
    return ok();
}

result<bool> log::load_snapshot(model::offset at, model::timestamp_ms now) {
    auto path = snapshot_path(at);
    GREGOR_TRY(auto f, ctx_->fs->open(path, open_mode::read_write));
    GREGOR_TRY(auto size, f->size());
    if (size > producer_snapshot_bytes_max) {
        GREGOR_LOG(storage_log, warn, "{}: {} holds {} bytes, more than {}; deleting it", tp_,
                   path, size, producer_snapshot_bytes_max);
        return false;
    }
    bytes data(static_cast<std::size_t>(size));
    GREGOR_TRY(auto n, f->read_at(0, data));
    data.resize(n);
    std::size_t expired = 0;
    auto decoded = decode_producer_snapshot(data, at, [&](const producer_entry& e) {
        if (producer_expired(e, now, cfg_->producer_id_expiration_ms)) {
            ++expired;
            return;
        }
        producers_.load(e);
    });
    if (!decoded) {
        if (decoded.err().code != make_error_code(errc::corrupt_snapshot)) {
            return decoded.err();
        }
        GREGOR_LOG(storage_log, warn, "{}: {} is corrupt ({}); deleting it", tp_, path,
                   decoded.err().to_string());
        return false;
    }
    GREGOR_LOG(storage_log, debug, "{}: loaded {} producers from {} ({} expired)", tp_,
               producers_.size(), path, expired);
    return true;
}

result<model::offset> log::load_newest_snapshot(model::offset end, model::timestamp_ms now) {
    while (!snapshots_.empty()) {
        auto at = *snapshots_.rbegin();
        GREGOR_ASSERT(at <= end && at > log_start_, "{}: snapshot {} outside ({}, {}]", tp_, at,
                      log_start_, end);
        GREGOR_TRY(auto loaded, load_snapshot(at, now));
        if (loaded) {
            return at;
        }
        producers_.clear();
        ++dir_changes_;
        auto removed = ctx_->fs->remove(snapshot_path(at));
        if (!removed && removed.err().code != make_error_code(errc::not_found)) {
            return removed.err();
        }
        snapshots_.erase(at);
    }
    return log_start_;
}

result<std::size_t> log::replay_producers(model::offset from, model::offset end,
                                          bool from_snapshot) {
    if (from >= end) {
        return std::size_t{0};
    }
    std::size_t batches = 0;
    auto expected = model::offset(-1);  // the least base offset the next batch may have
    std::optional<model::offset> disordered;
    auto on_batch = [&](const batch_summary& b) {
        // A snapshot is taken between batches: one straddling its offset is not Kafka's
        // and is skipped rather than applied twice. From the log start, the batch holding
        // it counts, as in Kafka.
        if (disordered || b.base_offset >= end || (from_snapshot && b.base_offset < from)) {
            return;
        }
        // Segments a clean shutdown vouched for were never re-validated: offsets that go
        // back are damage, never something to apply.
        if (b.base_offset < expected) {
            disordered = b.base_offset;
            return;
        }
        expected = b.last_offset + 1;
        ++batches;
        if (b.has_producer()) {
            producers_.apply(producer_info_of(b));
        }
    };
    auto it = segments_.upper_bound(from);
    if (it != segments_.begin()) {
        --it;
    }
    for (; it != segments_.end() && !disordered; ++it) {
        GREGOR_TRY_VOID(it->second->scan_batches(from, on_batch));
    }
    if (disordered) {
        return error(errc::corrupt_segment,
                     fmt::format("{}: batch offsets go back to {}", tp_, *disordered));
    }
    GREGOR_LOG(storage_log, info, "{}: producer state rebuilt from {} batches in [{}, {})", tp_,
               batches, from, end);
    return batches;
}

result<std::size_t> log::rebuild_producers(model::offset end, model::timestamp_ms now) {
    producers_.clear();
    durable_snapshot_ = model::no_offset;
    GREGOR_TRY_VOID(delete_snapshots(end, log_start_));
    GREGOR_TRY(auto from, load_newest_snapshot(end, now));
    auto replayed = replay_producers(from, end, /*from_snapshot=*/from > log_start_);
    if (!replayed && replayed.err().code == make_error_code(errc::corrupt_segment)) {
        // A damaged batch header that recovery did not cut (a segment below the recovery
        // point, or a clean shutdown vouching for it): the log still opens, and every
        // producer starts unknown, which accepts them at any sequence rather than refusing
        // them for batches nobody can read.
        GREGOR_LOG(storage_log, warn, "{}: producer state not rebuilt ({}); all producers "
                   "start unknown", tp_, replayed.err().to_string());
        producers_.clear();
        return std::size_t{0};
    }
    return replayed;
}

result<void> log::load_producers(model::timestamp_ms now, bool clean_shutdown) {
    GREGOR_TRY(auto names, ctx_->fs->list_dir(dir_));
    snapshots_.clear();
    for (const auto& name : names) {
        if (auto at = parse_snapshot_file_name(name)) {
            snapshots_.insert(*at);
        }
    }
    if (snapshots_.empty() && clean_shutdown) {
        // A clean close always leaves a snapshot at a non-empty log's end (an empty log's
        // would be deleted by the next open), so none means the log was
        // written before producer state existed (an upgrade): as Kafka does, skip the scan
        // (no producer ids can be in it) and start from a snapshot at the end, so a broker
        // with many large logs does not read them all once.
        producers_.clear();
        if (log_end_ > log_start_) {
            GREGOR_TRY_VOID(write_snapshot(log_end_, /*durable=*/false));
        }
        return ok();
    }
    GREGOR_TRY(auto replayed, rebuild_producers(log_end_, now));
    if (clean_shutdown && replayed == 0 && snapshots_.count(log_end_) != 0) {
        // Loaded from the snapshot the last clean close left (durable, at the log end).
        durable_snapshot_ = log_end_;
    }
    if (replayed > 0) {
        // As Kafka does after recovery: the next open starts here instead of replaying.
        GREGOR_TRY_VOID(write_snapshot(log_end_, /*durable=*/true));
    }
    return ok();
}

}  // namespace gregor::storage

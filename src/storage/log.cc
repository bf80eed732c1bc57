// log: construction, appends and reads. Opening/recovery is in log_open.cc, maintenance
// (truncation, retention, deletion) in log_maintenance.cc, group commit in log_flush.cc.
#include "storage/log.h"

#include "base/limits.h"
#include "storage/batch_filter.h"
#include "storage/errc.h"
#include "storage/logger.h"
#include "storage/names.h"

#include <fmt/format.h>

#include <chrono>
#include <vector>

namespace gregor::storage {
namespace {

// Walks a record set, checking every batch. Returns the summaries, errc::invalid_batch
// (with the batch error as detail) or errc::batch_too_large.
result<std::vector<batch_summary>> scan_record_set(bytes_view records, std::uint32_t max_bytes,
                                                   model::count_rule rule, bool validated) {
    if (records.empty()) {
        return error(errc::invalid_batch, "empty record set");
    }
    model::batch_reader reader(records, static_cast<std::size_t>(limits::request_bytes_max), rule);
    std::vector<batch_summary> out;
    for (;;) {
        auto next = reader.next(!validated);
        if (!next) {
            return error(errc::invalid_batch,
                         fmt::format("batch {} at byte {}: {}", out.size(), reader.position(),
                                     next.err().to_string()));
        }
        if (!*next) {
            return out;
        }
        const auto& h = (*next)->header;
        if (h.size_bytes() > max_bytes) {
            return error(
                errc::batch_too_large,
                fmt::format("batch of {} bytes, max.message.bytes {}", h.size_bytes(), max_bytes));
        }
        batch_summary b;
        b.base_offset = h.base_offset;
        b.last_offset = h.last_offset();
        b.max_timestamp = h.max_timestamp;
        b.epoch = h.partition_leader_epoch;
        b.size_bytes = static_cast<std::uint32_t>(h.size_bytes());
        b.producer = h.producer;
        b.producer_epoch = h.producer_epoch;
        b.base_sequence = h.base_sequence;
        b.attributes = h.attributes;
        out.push_back(b);
    }
}

// Kafka's message for records refused by validation (LogValidator.processRecordErrors),
// each named as RecordError(batchIndex=<index in its batch>, message='...').
std::string keyless_message(const std::vector<std::int32_t>& indexes,
                            const model::topic_partition& tp) {
    std::string shown;
    for (std::size_t i = 0; i < std::min<std::size_t>(indexes.size(), 3); ++i) {
        shown += fmt::format(
            "{}RecordError(batchIndex={}, message='Compacted topic cannot accept "
            "message without key in topic partition {}')",
            i == 0 ? "" : ", ", indexes[i], tp);
    }
    return fmt::format(
        "One or more records have been rejected due to {} record errors in total, "
        "and only showing the first three errors at most: [{}]",
        indexes.size(), shown);
}

// Kafka's LogValidator.validateKey: a compacted topic refuses the whole record set when a
// batch holds a record without a key (errc::invalid_record, Kafka's message as detail).
// Looks inside compressed batches; control batches are left to check_producers.
result<void> check_record_keys(bytes_view records, const model::topic_partition& tp) {
    model::batch_reader batches(records, records.size(), model::count_rule::exact);
    for (;;) {
        auto next = batches.next(/*validate_crc=*/false);
        if (!next || !*next) {
            return next ? ok() : error(errc::invalid_batch, next.err().to_string());
        }
        if ((*next)->header.is_control()) {
            continue;
        }
        auto keyless = records_without_key((*next)->header, (*next)->bytes,
                                           limits::decompressed_batch_bytes_max);
        if (!keyless) {
            return error(errc::invalid_batch, keyless.err().to_string());
        }
        if (!keyless->empty()) {
            return error(errc::invalid_record, keyless_message(*keyless, tp));
        }
    }
}

}  // namespace

result<bytes> file_slice::read_all() const {
    bytes out(static_cast<std::size_t>(length));
    if (length == 0) {
        return out;
    }
    GREGOR_TRY(auto n, source->read_at(position, out));
    if (n != out.size()) {
        return error(errc::io_error, "slice beyond end of file");
    }
    return out;
}

log::log(std::shared_ptr<const log_context> ctx, std::string dir, model::topic_partition tp,
         std::shared_ptr<const log_config> cfg)
    : ctx_(std::move(ctx)),
      dir_(std::move(dir)),
      tp_(std::move(tp)),
      cfg_(std::move(cfg)),
      owner_(std::this_thread::get_id()) {
    GREGOR_ASSERT(ctx_->fs != nullptr && ctx_->worker != nullptr, "log needs fs and worker");
    GREGOR_ASSERT(static_cast<bool>(ctx_->exec), "log needs an executor");
}

log::~log() = default;

checkpoint_writer& log::epoch_writer() {
    if (!epoch_writer_) {
        epoch_writer_ = std::make_shared<checkpoint_writer>();
    }
    return *epoch_writer_;
}

std::weak_ptr<int> log::token() const {
    if (!alive_) {
        alive_ = std::make_shared<int>(0);
    }
    return alive_;
}

void log::assert_owner() const {
    GREGOR_ASSERT(std::this_thread::get_id() == owner_, "log {} used off its owner thread", tp_);
    GREGOR_ASSERT(!closed_, "log {} used after close", tp_);
}

bool is_disk_failure(const error& e) {
    return e.code == errc::io_error || e.code == errc::no_space || e.code == errc::not_found;
}

void log::take_offline() {
    if (offline_) {
        return;
    }
    offline_ = true;
    flush_again_ = false;
    fail_waiters(model::offset(0), error(errc::io_error, fmt::format("{}: log dir offline", tp_)));
}

void log::report_disk_failure(const error& e) {
    if (!offline_ && ctx_->on_disk_failure && is_disk_failure(e)) {
        ctx_->on_disk_failure(e);
    }
}

result<void> log::check_online() const {
    if (offline_) {
        return error(errc::io_error, fmt::format("{}: the log dir is offline", tp_));
    }
    return ok();
}

result<void> log::check_writable() const {
    GREGOR_TRY_VOID(check_online());
    if (io_failed_) {
        return error(errc::io_error, fmt::format("{}: failed after an fsync error", tp_));
    }
    return ok();
}

segment_options log::seg_options() const {
    segment_options o;
    o.index_interval_bytes = cfg_->index_interval_bytes;
    o.index_max_bytes = cfg_->segment_index_bytes;
    o.max_batch_bytes = static_cast<std::uint32_t>(limits::request_bytes_max);
    return o;
}

void log::assign_offsets(std::vector<batch_summary>& batches, model::leader_epoch epoch,
                         model::timestamp_ms now) const {
    bool stamp = cfg_->timestamp_type == model::timestamp_type::log_append_time;
    auto next = log_end_;
    for (auto& b : batches) {
        auto delta = b.last_offset() - b.base_offset();
        b.base_offset = next;
        b.last_offset = next + delta;
        b.epoch = epoch;
        if (stamp) {
            b.max_timestamp = now;
        }
        next = b.last_offset + 1;
    }
}

result<append_result> log::append_as_leader(mutable_bytes_view records, model::leader_epoch epoch,
                                            model::timestamp_ms now, bool already_validated,
                                            append_origin origin) {
    assert_owner();
    GREGOR_ASSERT(epoch() >= 0, "leader append with epoch {}", epoch);
    GREGOR_TRY_VOID(check_writable());
    GREGOR_TRY(auto batches, scan_record_set(records, cfg_->max_message_bytes,
                                             model::count_rule::exact, already_validated));
    if (cfg_->compact && origin == append_origin::client) {
        GREGOR_TRY_VOID(check_record_keys(records, tp_));
    }
    // Offsets first (the producer checks see them), bytes only once every batch passed.
    assign_offsets(batches, epoch, now);
    GREGOR_TRY(auto duplicate, check_producers(batches, origin));
    if (duplicate) {
        return *duplicate;
    }
    bool stamp = cfg_->timestamp_type == model::timestamp_type::log_append_time;
    std::size_t pos = 0;
    for (const auto& b : batches) {
        auto span = records.subspan(pos, b.size_bytes);
        model::set_base_offset(span, b.base_offset);
        model::set_partition_leader_epoch(span, epoch);
        if (stamp) {
            model::stamp_log_append_time(span, now);
        }
        pos += b.size_bytes;
    }
    auto start = log_end_;
    GREGOR_TRY(auto r, append_batches(records, batches, now));
    bool changed = epochs_.assign(epoch, start);
    if (changed || epochs_unpersisted_) {
        persist_epochs();
    }
    if (stamp) {
        r.log_append_time = now;
    }
    return r;
}

result<append_result> log::append_as_follower(bytes_view records, model::timestamp_ms now,
                                              bool already_validated) {
    assert_owner();
    GREGOR_TRY_VOID(check_writable());
    GREGOR_TRY(auto batches, scan_record_set(records, cfg_->max_message_bytes,
                                             model::count_rule::at_most, already_validated));
    auto expected = log_end_;
    for (const auto& b : batches) {
        if (b.base_offset < expected) {
            return error(errc::offset_out_of_order, fmt::format("{}: batch at {} but log end is {}",
                                                                tp_, b.base_offset, expected));
        }
        expected = b.last_offset + 1;
    }
    GREGOR_TRY(auto r, append_batches(records, batches, now));
    bool changed = false;
    for (const auto& b : batches) {
        auto latest = epochs_.latest();
        if (b.epoch() >= 0 && (!latest || b.epoch > latest->epoch)) {
            changed = epochs_.assign(b.epoch, b.base_offset) || changed;
        }
    }
    if (changed || epochs_unpersisted_) {
        persist_epochs();
    }
    return r;
}

result<append_result> log::append_batches(bytes_view data,
                                          const std::vector<batch_summary>& batches,
                                          model::timestamp_ms now) {
    GREGOR_TRY_VOID(watched(maybe_roll(data.size(), batches.front(), batches.back(), now)));
    if (log_end_ == log_start_) {
        // The first bytes of an empty log: its segment files' directory entries (left to the
        // next open to recreate while the log was empty) must now become durable with them.
        ++dir_changes_;
    }
    auto w = watched(active().append(data, batches));
    if (!w) {
        GREGOR_LOG_RATE_LIMITED(storage_log, err, std::chrono::seconds(10),
                                "{}: append of {} bytes failed: {}", tp_, data.size(),
                                w.err().to_string());
        return w.err();
    }
    append_result r;
    r.first_offset = batches.front().base_offset;
    r.last_offset = batches.back().last_offset;
    r.batch_count = static_cast<std::uint32_t>(batches.size());
    log_end_ = r.last_offset + 1;
    apply_producers(batches);
    after_append(r, now);
    return r;
}

result<void> log::maybe_roll(std::size_t incoming_bytes, const batch_summary& first,
                             const batch_summary& last, model::timestamp_ms now) {
    auto& seg = active();
    if (seg.empty()) {
        return ok();
    }
    bool too_big = seg.size_bytes() + incoming_bytes > cfg_->segment_bytes;
    bool too_old = now() - seg.roll_base()() > cfg_->roll_ms();
    bool offsets_overflow = last.last_offset() - seg.base_offset()() > INT32_MAX;
    if (!too_big && !too_old && !seg.index_full() && !offsets_overflow) {
        return ok();
    }
    (void)first;
    // The new segment starts at the log end offset even when a follower's batch leaves a
    // gap: segment i+1 always starts where segment i ends, which is what lets recovery
    // spot a segment whose tail was lost while a later one survived.
    return roll(log_end_, now);
}

result<void> log::roll(model::offset new_base, model::timestamp_ms now) {
    GREGOR_ASSERT(new_base >= log_end_, "roll at {} below log end {}", new_base, log_end_);
    ++dir_changes_;
    GREGOR_TRY(auto fresh, segment::create(*ctx_->fs, dir_, new_base, seg_options(), now));
    auto sealed = watched(active().seal());
    if (!sealed) {
        // The old segment's indexes are rebuilt from its log on the next open.
        GREGOR_LOG(storage_log, warn, "{}: sealing segment {} failed: {}", tp_,
                   active().base_offset(), sealed.err().to_string());
    }
    GREGOR_LOG(storage_log, debug, "{}: rolled to segment {}", tp_, new_base);
    segments_.emplace(new_base, std::move(fresh));
    // Kafka snapshots the producer state at every roll, at the new segment's base, so a
    // restart replays at most one segment; its fsync waits for the worker.
    auto snapshot = watched(write_snapshot(new_base, /*durable=*/false));
    if (!snapshot) {
        GREGOR_LOG_RATE_LIMITED(storage_log, warn, std::chrono::seconds(10),
                                "{}: producer snapshot at {} failed: {}", tp_, new_base,
                                snapshot.err().to_string());
    }
    // Kafka flushes the finished segment in the background on roll; so do we.
    request_flush();
    return ok();
}

void log::after_append(const append_result& r, model::timestamp_ms now) {
    unflushed_messages_ += r.last_offset() - r.first_offset() + 1;
    if (unflushed_messages_ >= cfg_->flush_messages) {
        request_flush();
    } else {
        maybe_flush(now);
    }
}

result<read_result> log::read(model::offset start, std::size_t max_bytes,
                              model::offset upper_bound) {
    assert_owner();
    GREGOR_TRY_VOID(check_online());
    if (start < log_start_ || start > log_end_) {
        return error(errc::offset_out_of_range, fmt::format("{}: offset {} outside [{}, {}]", tp_,
                                                            start, log_start_, log_end_));
    }
    read_result out{{}, start, start};
    if (start >= upper_bound) {
        return out;
    }
    auto it = segments_.upper_bound(start);
    if (it != segments_.begin()) {
        --it;
    }
    for (; it != segments_.end(); ++it) {
        auto& seg = *it->second;
        GREGOR_TRY(auto found, watched(seg.find(start)));
        if (!found) {
            continue;
        }
        if (found->batch.last_offset >= upper_bound) {
            return out;
        }
        GREGOR_TRY(auto ext, watched(seg.read_extent(*found, max_bytes, upper_bound)));
        out.first_offset = found->batch.base_offset;
        GREGOR_TRY(auto file, watched(seg.log_file()));
        out.slice = file_slice{std::move(file), found->position, ext.length};
        out.next_offset = ext.next_offset;
        return out;
    }
    return out;
}

result<std::optional<timestamp_lookup>> log::find_by_timestamp(model::timestamp_ms target) {
    assert_owner();
    GREGOR_TRY_VOID(check_online());
    for (auto& [base, seg] : segments_) {
        GREGOR_TRY(auto max_ts, watched(seg->max_timestamp()));
        if (max_ts.timestamp < target) {
            continue;
        }
        GREGOR_TRY(auto found, watched(seg->find_by_timestamp(target, log_start_)));
        if (!found) {
            continue;
        }
        timestamp_lookup out;
        out.batch_offset = std::max(found->batch.base_offset, log_start_);
        out.max_timestamp = found->batch.max_timestamp;
        GREGOR_TRY(auto file, watched(seg->log_file()));
        out.batch = file_slice{std::move(file), found->position, found->batch.size_bytes};
        return std::optional(std::move(out));
    }
    return std::optional<timestamp_lookup>{};
}

std::size_t log::release_idle_files(bool even_if_used) {
    assert_owner();
    if (closed_ || offline_ || io_failed_) {
        return 0;
    }
    std::size_t closed = 0;
    bool unsynced = false;
    for (auto& [base, seg] : segments_) {
        switch (seg->release_idle_file(even_if_used)) {
            case segment::release::closed:
                ++closed;
                break;
            case segment::release::idle_unsynced:
                unsynced = true;
                break;
            case segment::release::kept:
                break;
        }
    }
    if (unsynced) {
        request_flush();
    }
    return closed;
}

std::size_t log::open_files() const {
    std::size_t n = 0;
    for (const auto& [base, seg] : segments_) {
        n += seg->file_open() ? 1U : 0U;
    }
    return n;
}

void log::assign_epoch(model::leader_epoch epoch, model::offset start) {
    assert_owner();
    if (!epochs_.assign(epoch, start)) {
        return;
    }
    if (start >= log_end_) {
        epochs_unpersisted_ = true;  // see the member
    } else {
        persist_epochs();
    }
}

std::uint64_t log::size_bytes() const {
    std::uint64_t total = 0;
    for (const auto& [base, seg] : segments_) {
        total += seg->size_bytes();
    }
    return total;
}

std::vector<model::offset> log::segment_bases() const {
    std::vector<model::offset> out;
    for (const auto& [base, seg] : segments_) {
        out.push_back(base);
    }
    return out;
}

}  // namespace gregor::storage

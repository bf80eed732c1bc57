#include "storage/segment.h"

#include "storage/endian.h"
#include "storage/errc.h"
#include "storage/logger.h"
#include "storage/names.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

namespace gregor::storage {

using detail::load_be32;
using detail::load_be64;

result<batch_summary> peek_batch(bytes_view header, std::size_t max_batch_bytes) {
    GREGOR_ASSERT(header.size() >= model::batch_header_bytes, "short header view");
    auto length = static_cast<std::int32_t>(load_be32(header.data() + 8));
    auto min_length =
        static_cast<std::int32_t>(model::batch_header_bytes - model::batch_log_overhead_bytes);
    auto size = static_cast<std::int64_t>(length) +
                static_cast<std::int64_t>(model::batch_log_overhead_bytes);
    if (length < min_length || static_cast<std::uint64_t>(size) > max_batch_bytes) {
        return error(errc::corrupt_segment, fmt::format("batch length {}", length));
    }
    if (static_cast<std::int8_t>(header[16]) != model::batch_magic_v2) {
        return error(errc::corrupt_segment, "batch magic");
    }
    auto base = static_cast<std::int64_t>(load_be64(header.data()));
    auto delta = static_cast<std::int32_t>(load_be32(header.data() + 23));
    if (base < 0 || delta < 0) {
        return error(errc::corrupt_segment, fmt::format("batch offsets {}+{}", base, delta));
    }
    batch_summary b;
    b.base_offset = model::offset(base);
    b.last_offset = model::offset(base + delta);
    b.epoch = model::leader_epoch(static_cast<std::int32_t>(load_be32(header.data() + 12)));
    b.first_timestamp =
        model::timestamp_ms(static_cast<std::int64_t>(load_be64(header.data() + 27)));
    b.max_timestamp = model::timestamp_ms(static_cast<std::int64_t>(load_be64(header.data() + 35)));
    b.size_bytes = static_cast<std::uint32_t>(size);
    b.attributes = static_cast<std::int16_t>((header[21] << 8) | header[22]);
    b.producer = model::producer_id(static_cast<std::int64_t>(load_be64(header.data() + 43)));
    b.producer_epoch = static_cast<std::int16_t>((header[51] << 8) | header[52]);
    b.base_sequence = static_cast<std::int32_t>(load_be32(header.data() + 53));
    return b;
}

segment::segment(file_system& fs, const std::string& dir, model::offset base,
                 const segment_options& o, std::string_view suffix)
    : fs_(fs),
      dir_(dir),
      base_(base),
      suffix_(suffix),
      opts_(o),
      offset_index_(
          fs,
          [](const void* s) {
              return static_cast<const segment*>(s)->path(segment_file_kind::index);
          },
          this, offset_index::entry_bytes, o.index_max_bytes),
      time_index_(
          fs,
          [](const void* s) {
              return static_cast<const segment*>(s)->path(segment_file_kind::time_index);
          },
          this, time_index::entry_bytes, o.index_max_bytes) {}

std::string segment::path(segment_file_kind kind) const {
    return path_join(dir_, segment_file_name(base_, kind) + std::string(suffix_));
}

result<std::unique_ptr<segment>> segment::create(file_system& fs, const std::string& dir,
                                                 model::offset base, const segment_options& o,
                                                 model::timestamp_ms now, std::string_view suffix) {
    std::unique_ptr<segment> s(new segment(fs, dir, base, o, suffix));
    GREGOR_TRY(s->log_, fs.open(s->path(segment_file_kind::log), open_mode::create));
    GREGOR_TRY(auto old_size, s->log_->size());
    if (old_size > 0) {
        // Emptied (a name reused by truncate_fully): the cut must reach the disk.
        GREGOR_TRY_VOID(s->log_->truncate(0));
        s->log_unsynced_ = true;
    }
    GREGOR_TRY_VOID(s->offset_index_.create());
    GREGOR_TRY_VOID(s->time_index_.create());
    s->next_offset_ = base;
    s->max_ts_ = timestamp_offset{model::timestamp_ms(-1), model::no_offset};
    s->roll_base_ = now;
    s->indexes_checked_ = true;
    return s;
}

result<std::unique_ptr<segment>> segment::open(file_system& fs, const std::string& dir,
                                               model::offset base, const segment_options& o,
                                               model::timestamp_ms now, std::string_view suffix) {
    std::unique_ptr<segment> s(new segment(fs, dir, base, o, suffix));
    auto path = s->path(segment_file_kind::log);
    GREGOR_TRY(s->log_, fs.open(path, open_mode::read_write));
    GREGOR_TRY(s->size_, s->log_->size());
    if (s->size_ > segment_bytes_max) {
        return error(errc::corrupt_segment,
                     fmt::format("{}: {} bytes, more than a segment may hold", path, s->size_));
    }
    s->indexes_missing_ = !fs.exists(s->offset_index_.path()) || !fs.exists(s->time_index_.path());
    s->offset_index_.open_sealed();
    s->time_index_.open_sealed();
    s->roll_base_ = now;
    return s;
}

// Batch headers read through one window onto the log file: a walk over small batches (from
// an index entry to a fetch offset, up to index.interval.bytes apart) costs one read per
// window instead of one per batch. Lives on the stack of one lookup.
class segment::header_window {
public:
    // Covers the default index interval (4 KiB) with room for the batch that crosses it.
    static constexpr std::size_t window_bytes = 8 * 1024;

    header_window(file& f, std::uint64_t end) : file_(f), end_(end) {}

    // The header bytes at `pos`; fewer than a header's bytes when the file ends first.
    result<bytes_view> header_at(std::uint64_t pos) {
        constexpr std::size_t len = model::batch_header_bytes;
        if (pos < pos_ || pos + len > pos_ + len_) {
            auto want = static_cast<std::size_t>(
                std::min<std::uint64_t>(window_bytes, std::max<std::uint64_t>(end_ - pos, len)));
            GREGOR_TRY(len_, file_.read_at(pos, mutable_bytes_view(buf_.data(), want)));
            pos_ = pos;
        }
        return bytes_view(buf_.data() + (pos - pos_), std::min(len, pos_ + len_ - pos));
    }

private:
    file& file_;
    std::uint64_t end_;
    std::array<std::uint8_t, window_bytes> buf_;
    std::uint64_t pos_ = 0;
    std::size_t len_ = 0;
};

result<std::optional<batch_summary>> segment::batch_at(std::uint64_t pos) {
    if (pos >= size_) {
        return std::optional<batch_summary>{};
    }
    std::array<std::uint8_t, model::batch_header_bytes> hdr{};
    GREGOR_TRY(auto* f, log_handle());
    GREGOR_TRY(auto n, f->read_at(pos, hdr));
    return summary_at(pos, bytes_view(hdr.data(), n));
}

result<std::optional<batch_summary>> segment::batch_at(header_window& w, std::uint64_t pos) {
    if (pos >= size_) {
        return std::optional<batch_summary>{};
    }
    GREGOR_TRY(auto hdr, w.header_at(pos));
    return summary_at(pos, hdr);
}

result<std::optional<batch_summary>> segment::summary_at(std::uint64_t pos, bytes_view hdr) {
    if (hdr.size() < model::batch_header_bytes) {
        return error(errc::corrupt_segment, fmt::format("short header at {}", pos));
    }
    GREGOR_TRY(auto b, peek_batch(hdr, opts_.max_batch_bytes));
    if (pos + b.size_bytes > size_ || b.base_offset < base_) {
        return error(errc::corrupt_segment, fmt::format("batch at {} overruns segment", pos));
    }
    if (b.last_offset() - base_() > INT32_MAX) {
        return error(errc::corrupt_segment,
                     fmt::format("batch at {} has offset {} beyond segment {}'s range", pos,
                                 b.last_offset, base_));
    }
    return std::optional<batch_summary>(b);
}

result<void> segment::check_indexes() {
    if (indexes_checked_) {
        return ok();
    }
    indexes_checked_ = true;
    bool good = !indexes_missing_;
    if (good) {
        auto off = offset_index_.entries();
        auto tim = time_index_.entries();
        good =
            off && tim && offset_index::sane(*off, base_, size_) && time_index::sane(*tim, base_);
    }
    if (!good) {
        GREGOR_LOG(storage_log, warn, "{}: index missing or corrupt, rebuilding from the log",
                   offset_index_.path());
        return rebuild_indexes();
    }
    return ok();
}

result<offset_position> segment::lookup_position(model::offset target) {
    GREGOR_TRY_VOID(check_indexes());
    GREGOR_TRY(auto entries, offset_index_.entries());
    return offset_index::lookup(entries, base_, target);
}

result<segment::extent> segment::read_extent(const located_batch& first, std::uint64_t max_bytes,
                                             model::offset upper) {
    GREGOR_ASSERT(first.batch.last_offset < upper, "first batch beyond the upper bound");
    auto start = first.position;
    auto limit = start + std::max<std::uint64_t>(max_bytes, first.batch.size_bytes);
    auto pos = start + first.batch.size_bytes;
    auto next = first.batch.last_offset + 1;
    if (pos >= limit) {
        return extent{pos - start, next};
    }
    GREGOR_TRY(auto entries, offset_index_.entries());
    // Largest indexed batch start within the limit whose batch ends below `upper`: every
    // batch before it fits. Positions and offsets both increase, so the test is monotonic.
    std::size_t lo = 0;
    std::size_t hi = entries.size() / offset_index::entry_bytes;
    while (lo < hi) {
        auto mid = lo + (hi - lo) / 2;
        auto e = offset_index::entry_at(entries, base_, mid);
        if (e.position <= limit && e.offset < upper) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    GREGOR_TRY(auto* f, log_handle());
    header_window w(*f, size_);
    std::optional<batch_summary> b;
    if (lo > 0 && offset_index::entry_at(entries, base_, lo - 1).position > pos) {
        pos = offset_index::entry_at(entries, base_, lo - 1).position;
        GREGOR_TRY(b, batch_at(w, pos));
        if (b) {
            next = b->base_offset;
        }
    } else {
        GREGOR_TRY(b, batch_at(w, pos));
    }
    while (b && b->last_offset < upper && pos + b->size_bytes <= limit) {
        pos += b->size_bytes;
        next = b->last_offset + 1;
        GREGOR_TRY(b, batch_at(w, pos));
    }
    return extent{pos - start, next};
}

result<std::optional<located_batch>> segment::find(model::offset target) {
    GREGOR_TRY_VOID(check_indexes());
    GREGOR_TRY(auto entries, offset_index_.entries());
    auto n = entries.size() / offset_index::entry_bytes;
    // Entries are (last offset of a batch, its start). The first entry whose offset is >=
    // target names a batch ending at or after it; when that batch also starts at or before
    // the target (always, once every batch is indexed) it is the answer, for one read.
    std::size_t lo = 0;
    std::size_t hi = n;
    while (lo < hi) {
        auto mid = lo + (hi - lo) / 2;
        if (offset_index::entry_at(entries, base_, mid).offset < target) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < n) {
        auto e = offset_index::entry_at(entries, base_, lo);
        GREGOR_TRY(auto b, batch_at(e.position));
        if (b && b->base_offset <= target && b->last_offset >= target) {
            return std::optional(located_batch{*b, e.position});
        }
    }
    auto pos = lo > 0 ? offset_index::entry_at(entries, base_, lo - 1).position : 0;
    GREGOR_TRY(auto* f, log_handle());
    header_window w(*f, size_);
    for (;;) {
        GREGOR_TRY(auto b, batch_at(w, pos));
        if (!b) {
            return std::optional<located_batch>{};
        }
        if (b->last_offset >= target) {
            return std::optional(located_batch{*b, pos});
        }
        pos += b->size_bytes;
    }
}

result<std::optional<located_batch>> segment::find_by_timestamp(model::timestamp_ms target,
                                                                model::offset min_offset) {
    GREGOR_TRY_VOID(check_indexes());
    GREGOR_TRY(auto tentries, time_index_.entries());
    auto hint = time_index::lookup(tentries, base_, target).offset;
    GREGOR_TRY(auto oentries, offset_index_.entries());
    auto pos = offset_index::lookup(oentries, base_, std::max(hint, min_offset)).position;
    GREGOR_TRY(auto* f, log_handle());
    header_window w(*f, size_);
    for (;;) {
        GREGOR_TRY(auto b, batch_at(w, pos));
        if (!b) {
            return std::optional<located_batch>{};
        }
        if (b->max_timestamp >= target && b->last_offset >= min_offset) {
            return std::optional(located_batch{*b, pos});
        }
        pos += b->size_bytes;
    }
}

void segment::index_batch(const batch_summary& b, std::uint64_t position) {
    if (!max_ts_ || b.max_timestamp > max_ts_->timestamp) {
        max_ts_ = timestamp_offset{b.max_timestamp, b.last_offset};
    }
    if (bytes_since_index_entry_ > opts_.index_interval_bytes && !index_full()) {
        offset_index_.append(offset_index::encode(base_, b.last_offset, position));
        if (max_ts_->timestamp > last_time_entry_) {
            time_index_.append(time_index::encode(base_, max_ts_->timestamp, max_ts_->offset));
            last_time_entry_ = max_ts_->timestamp;
        }
        bytes_since_index_entry_ = 0;
    }
    bytes_since_index_entry_ += b.size_bytes;
    next_offset_ = b.last_offset + 1;
}

result<void> segment::append(bytes_view data, std::span<const batch_summary> batches) {
    GREGOR_ASSERT(active(), "append to sealed segment {}", base_);
    GREGOR_ASSERT(!batches.empty(), "append of no batches");
    GREGOR_ASSERT(batches.front().base_offset >= next_offset_.value_or(base_),
                  "append offset {} below segment end", batches.front().base_offset);
    GREGOR_TRY(auto* f, log_handle());
    log_unsynced_ = true;
    auto w = f->write_at(size_, data);
    if (!w) {
        // Drop whatever prefix landed; if that fails too, the bytes past size_ stay
        // invisible and the next append overwrites them.
        ignore_error(f->truncate(size_), "best effort; size_ bounds every read");
        return w.err();
    }
    if (size_ == 0 && batches.front().max_timestamp() >= 0) {
        roll_base_ = std::min(roll_base_, batches.front().max_timestamp);
    }
    auto pos = size_;
    for (const auto& b : batches) {
        index_batch(b, pos);
        pos += b.size_bytes;
    }
    GREGOR_ASSERT(pos - size_ == data.size(), "batch sizes {} != data {}", pos - size_,
                  data.size());
    size_ = pos;
    return ok();
}

result<void> segment::scan_tail() {
    GREGOR_TRY(auto oentries, offset_index_.entries());
    GREGOR_TRY(auto tentries, time_index_.entries());
    auto hint = offset_index::lookup(oentries, base_, model::offset(INT64_MAX));
    auto last_time = time_index::last(tentries, base_);
    max_ts_ = last_time.value_or(timestamp_offset{model::timestamp_ms(-1), model::no_offset});
    last_time_entry_ = max_ts_->timestamp;
    next_offset_ = base_;
    auto pos = hint.position;
    GREGOR_TRY(auto* f, log_handle());
    header_window w(*f, size_);
    for (;;) {
        GREGOR_TRY(auto b, batch_at(w, pos));
        if (!b) {
            return ok();
        }
        if (b->max_timestamp > max_ts_->timestamp) {
            max_ts_ = timestamp_offset{b->max_timestamp, b->last_offset};
        }
        next_offset_ = b->last_offset + 1;
        pos += b->size_bytes;
    }
}

result<model::offset> segment::next_offset() {
    if (!next_offset_) {
        GREGOR_TRY_VOID(check_indexes());
        GREGOR_TRY_VOID(scan_tail());
    }
    return *next_offset_;
}

result<timestamp_offset> segment::max_timestamp() {
    if (!max_ts_) {
        GREGOR_TRY_VOID(check_indexes());
        GREGOR_TRY_VOID(scan_tail());
    }
    return *max_ts_;
}

result<void> segment::activate(model::timestamp_ms now) {
    if (!check_indexes()) {
        GREGOR_TRY_VOID(rebuild_indexes());
    }
    auto off = offset_index_.reactivate();
    auto tim = time_index_.reactivate();
    if (!off || !tim) {
        GREGOR_TRY_VOID(rebuild_indexes());
        GREGOR_TRY_VOID(offset_index_.reactivate());
        GREGOR_TRY_VOID(time_index_.reactivate());
    }
    GREGOR_TRY_VOID(scan_tail());
    bytes_since_index_entry_ = 0;
    roll_base_ = now;
    GREGOR_TRY(auto first, batch_at(0));
    if (first && first->max_timestamp() >= 0 && first->max_timestamp < now) {
        roll_base_ = first->max_timestamp;
    }
    return ok();
}

result<std::uint64_t> segment::truncate_to(model::offset target) {
    GREGOR_TRY(auto found, find(target));
    GREGOR_TRY_VOID(offset_index_.reactivate());
    GREGOR_TRY_VOID(time_index_.reactivate());
    if (!found) {
        return std::uint64_t{0};
    }
    auto pos = found->position;
    auto cut = found->batch.base_offset;
    GREGOR_TRY(auto oentries, offset_index_.entries());
    std::size_t keep = 0;
    while (keep < oentries.size() / offset_index::entry_bytes &&
           offset_index::entry_at(oentries, base_, keep).position < pos) {
        ++keep;
    }
    offset_index_.truncate_entries(keep);
    GREGOR_TRY(auto tentries, time_index_.entries());
    std::size_t tkeep = 0;
    while (tkeep < tentries.size() / time_index::entry_bytes &&
           time_index::entry_at(tentries, base_, tkeep).offset < cut) {
        ++tkeep;
    }
    time_index_.truncate_entries(tkeep);
    GREGOR_TRY(auto removed, truncate_log(pos));
    GREGOR_TRY_VOID(scan_tail());
    bytes_since_index_entry_ = 0;
    return removed;
}

result<std::uint64_t> segment::truncate_log(std::uint64_t valid_bytes) {
    GREGOR_ASSERT(valid_bytes <= size_ || size_ == 0, "truncate beyond segment end");
    GREGOR_TRY(auto* f, log_handle());
    GREGOR_TRY(auto file_size, f->size());
    if (file_size != valid_bytes) {
        log_unsynced_ = true;
        GREGOR_TRY_VOID(f->truncate(valid_bytes));
    }
    auto removed = file_size > valid_bytes ? file_size - valid_bytes : 0;
    size_ = valid_bytes;
    return removed;
}

result<void> segment::seal() {
    if (!active()) {
        return ok();
    }
    // Kafka's final time-index entry: the segment's max timestamp, so retention and
    // ListOffsets learn it from the index after a restart without reading the log.
    if (max_ts_ && max_ts_->timestamp > last_time_entry_ && !time_index_.full()) {
        time_index_.append(time_index::encode(base_, max_ts_->timestamp, max_ts_->offset));
        last_time_entry_ = max_ts_->timestamp;
    }
    GREGOR_TRY_VOID(offset_index_.seal());
    return time_index_.seal();
}

result<std::vector<std::string>> segment::rename_to_deleted() {
    std::vector<std::string> out;
    for (auto kind :
         {segment_file_kind::log, segment_file_kind::index, segment_file_kind::time_index}) {
        auto from = path(kind);
        if (!fs_.exists(from)) {
            continue;
        }
        auto to = from + std::string(deleted_suffix);
        GREGOR_TRY_VOID(fs_.rename(from, to));
        out.push_back(to);
    }
    return out;
}

result<file*> segment::log_handle() {
    used_ = true;
    if (!log_) {
        GREGOR_TRY(log_, fs_.open(path(segment_file_kind::log), open_mode::read_write));
    }
    return log_.get();
}

result<std::shared_ptr<file>> segment::log_file() {
    GREGOR_TRY_VOID(log_handle());
    return log_;
}

segment::release segment::release_idle_file(bool even_if_used) {
    bool used = std::exchange(used_, false) && !even_if_used;
    if (used || !log_ || log_.use_count() > 1) {
        return release::kept;
    }
    if (log_unsynced_) {
        return release::idle_unsynced;
    }
    log_.reset();
    return release::closed;
}

std::vector<std::shared_ptr<file>> segment::files_to_sync() {
    std::vector<std::shared_ptr<file>> out;
    if (std::exchange(log_unsynced_, false)) {
        out.push_back(log_);
    }
    for (auto* idx : {&offset_index_, &time_index_}) {
        if (auto h = idx->take_unsynced()) {
            out.push_back(std::move(h));
        }
    }
    return out;
}

result<std::vector<std::shared_ptr<file>>> segment::all_files_to_sync() {
    std::vector<std::shared_ptr<file>> out;
    if (log_) {  // else released: nothing of it was unsynced, nobody held it
        out.push_back(log_);
    }
    log_unsynced_ = false;
    for (auto* idx : {&offset_index_, &time_index_}) {
        GREGOR_TRY(auto h, idx->file_to_sync_again());
        if (h) {
            out.push_back(std::move(h));
        }
    }
    return out;
}

}  // namespace gregor::storage

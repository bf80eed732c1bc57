#include "storage/cleaner_pass.h"

#include "model/record_batch.h"
#include "protocol/records/batch_records.h"
#include "protocol/records/varint.h"
#include "storage/batch_filter.h"
#include "storage/errc.h"
#include "storage/names.h"
#include "storage/segment.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace gregor::storage {

io_throttle::io_throttle(double bytes_per_second) : rate_(bytes_per_second) {}

io_throttle::clock::time_point io_throttle::reserve(std::uint64_t bytes, clock::time_point now) {
    const double rate = std::max(rate_, 1.0);
    if (!started_) {
        started_ = true;
        start_ = now;
    }
    const double credit = std::chrono::duration<double>(now - start_).count() * rate - bytes_;
    if (credit > rate) {
        // More than a second unused: keep one second of it, forget the rest.
        start_ = now - std::chrono::seconds(1);
        bytes_ = 0;
    }
    bytes_ += static_cast<double>(bytes);
    return start_ + std::chrono::duration_cast<clock::duration>(
                        std::chrono::duration<double>(bytes_ / rate));
}

void io_throttle::consume(std::uint64_t bytes) {
    if (unlimited()) {
        return;  // Kafka's default
    }
    std::unique_lock lock(mu_);
    auto due = reserve(bytes, clock::now());
    cv_.wait_until(lock, due, [this] { return stopped_; });
}

void io_throttle::stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
}

namespace {

// Reads a segment file from the start, whole batches at a time, CRC-checked.
class source_reader {
public:
    source_reader(const clean_source& src, const clean_buffers& b, io_throttle& throttle)
        : src_(src), max_batch_(b.max_batch_bytes), throttle_(throttle) {
        buf_.resize(std::max<std::size_t>(b.io_bytes, model::batch_header_bytes));
    }

    struct item {
        model::record_batch_header header;
        bytes_view bytes;
        bool last = false;  // the segment's last batch
    };

    // The next batch; nullopt at the end of the segment.
    result<std::optional<item>> next() {
        if (position() >= src_.size) {
            return std::optional<item>{};
        }
        GREGOR_TRY_VOID(fill(model::batch_header_bytes));
        // The header alone gives the length: the rest of the batch may not be read yet.
        auto peeked = peek_batch(window().first(model::batch_header_bytes), max_batch_);
        if (!peeked) {
            return error(errc::corrupt_segment, fmt::format("segment {} at {}: {}", src_.base,
                                                            position(), peeked.err().to_string()));
        }
        GREGOR_TRY_VOID(fill(peeked->size_bytes));
        bytes_view whole = window().first(peeked->size_bytes);
        auto valid = model::validate_batch(whole, max_batch_, model::count_rule::at_most);
        if (!valid) {
            return error(errc::corrupt_segment, fmt::format("segment {} at {}: {}", src_.base,
                                                            position(), valid.err().to_string()));
        }
        consumed_ += whole.size();
        item out{*valid, whole, position() >= src_.size};
        return std::optional<item>(out);
    }

private:
    bytes_view window() const { return bytes_view(buf_).subspan(consumed_, used_ - consumed_); }
    std::uint64_t position() const { return file_pos_ + consumed_; }

    // Makes at least `n` unread bytes available (fewer only at the end of the segment).
    result<void> fill(std::size_t n) {
        if (used_ - consumed_ >= n) {
            return ok();
        }
        if (position() + n > src_.size) {
            return error(errc::corrupt_segment,
                         fmt::format("segment {}: batch at {} overruns its {} bytes", src_.base,
                                     position(), src_.size));
        }
        std::memmove(buf_.data(), buf_.data() + consumed_, used_ - consumed_);
        file_pos_ += consumed_;
        used_ -= consumed_;
        consumed_ = 0;
        if (n > buf_.size()) {
            buf_.resize(n);
        }
        auto want = std::min<std::uint64_t>(buf_.size() - used_, src_.size - file_pos_ - used_);
        mutable_bytes_view dst(buf_.data() + used_, static_cast<std::size_t>(want));
        GREGOR_TRY(auto got, src_.log_file->read_at(file_pos_ + used_, dst));
        throttle_.consume(got);
        used_ += got;
        read_ += got;
        if (used_ < n) {
            return error(errc::corrupt_segment,
                         fmt::format("segment {}: short read at {}", src_.base, position()));
        }
        return ok();
    }

public:
    std::uint64_t bytes_read() const { return read_; }

private:
    const clean_source& src_;
    std::size_t max_batch_;
    io_throttle& throttle_;
    bytes buf_;
    std::uint64_t file_pos_ = 0;  // file position of buf_[0]
    std::size_t used_ = 0;
    std::size_t consumed_ = 0;
    std::uint64_t read_ = 0;
};

result<void> check_abort(const clean_job& job) {
    if (job.abort->load(std::memory_order_relaxed)) {
        return error(errc::closed, fmt::format("{}: cleaning aborted", job.tp));
    }
    return ok();
}

// Phase 1 runs each put this many records behind the parse that found its key, so the slot
// it needs was prefetched meanwhile (lookups miss the caches once the map's table outgrows
// them).
constexpr std::size_t put_lag = 8;

// The puts of one batch, in record order, put_lag behind their prefetches.
class put_pipeline {
public:
    explicit put_pipeline(key_offset_map& map) : map_(map) {}

    // Queues a put. Returns false when an earlier put was refused (the map is full).
    bool push(bytes_view key, model::offset o) {
        const auto k = key_offset_map::hash(key);
        map_.prefetch(k);
        if (count_ == put_lag && !pop()) {
            return false;
        }
        ring_[(head_ + count_) % put_lag] = {k, o};
        ++count_;
        return true;
    }
    // Runs the queued puts. Returns false when one was refused.
    bool drain() {
        while (count_ > 0) {
            if (!pop()) {
                return false;
            }
        }
        return true;
    }

private:
    struct pending {
        key_offset_map::hashed_key key;
        model::offset offset;
    };
    bool pop() {
        const pending& p = ring_[head_];
        head_ = (head_ + 1) % put_lag;
        --count_;
        return map_.put(p.key, p.offset);
    }

    key_offset_map& map_;
    std::array<pending, put_lag> ring_{};
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

// Phase 1 for one batch: puts the key of every record at or after first_dirty. Reads only
// each record's length, offset delta and key (bounds-checked): the recopy in phase 2 parses
// every record of every batch indexed here, so a malformed record still fails the pass
// before anything is swapped in. Returns false when the map is full (also when a record
// after the one refused is malformed, as if the puts had not lagged).
result<bool> index_batch(const clean_job& job, const protocol::batch_records& recs,
                         key_offset_map& map, clean_stats& stats) {
    using protocol::records_detail::byte_cursor;
    const auto& h = recs.header();
    put_pipeline puts(map);
    byte_cursor c(recs.section());
    for (std::int32_t i = 0; i < h.record_count; ++i) {
        const std::int32_t length = c.read_varint();
        if (!c.ok() || length < 0 || static_cast<std::size_t>(length) > c.remaining()) {
            if (!puts.drain()) {
                return false;
            }
            return error(errc::corrupt_segment,
                         fmt::format("{}: record {} of the batch at {} is truncated", job.tp, i,
                                     h.base_offset));
        }
        byte_cursor r(c.take(static_cast<std::size_t>(length)));
        r.read_i8();
        r.read_varlong();
        const std::int32_t delta = r.read_varint();
        const auto key = r.read_nullable_bytes();
        if (!r.ok()) {
            if (!puts.drain()) {
                return false;
            }
            return error(errc::corrupt_segment,
                         fmt::format("{}: record {} of the batch at {} does not parse", job.tp, i,
                                     h.base_offset));
        }
        ++stats.records_indexed;
        const model::offset off{
            static_cast<std::int64_t>(static_cast<std::uint64_t>(h.base_offset()) +
                                      static_cast<std::uint64_t>(std::int64_t{delta}))};
        if (key && off >= job.first_dirty && !puts.push(*key, off)) {
            return false;
        }
    }
    return puts.drain();
}

// Phase 1: key -> latest offset over the dirty section. Returns the end offset of the pass.
result<model::offset> build_map(const clean_job& job, key_offset_map& map, const clean_buffers& b,
                                io_throttle& throttle, clean_stats& stats) {
    map.clear();
    map.update_latest_offset(job.first_dirty - 1);
    bool full = false;
    bytes scratch;  // decompression buffer, reused batch after batch
    for (std::size_t i = 0; i < job.segments.size(); ++i) {
        const auto& src = job.segments[i];
        auto next_base =
            i + 1 < job.segments.size() ? job.segments[i + 1].base : job.first_uncleanable;
        if (next_base <= job.first_dirty) {
            continue;
        }
        source_reader reader(src, b, throttle);
        for (;;) {
            GREGOR_TRY_VOID(check_abort(job));
            GREGOR_TRY(auto it, reader.next());
            if (!it) {
                break;
            }
            if (it->header.last_offset() < job.first_dirty) {
                continue;
            }
            if (!it->header.is_control()) {
                GREGOR_TRY(auto recs,
                           protocol::batch_records::open(
                               it->header, it->bytes, b.max_batch_bytes * 4, std::move(scratch)));
                GREGOR_TRY(auto room, index_batch(job, recs, map, stats));
                scratch = std::move(recs).release_storage();
                full = !room;
            }
            if (full) {
                break;
            }
            map.update_latest_offset(it->header.last_offset());
        }
        stats.dirty_bytes += reader.bytes_read();
        stats.bytes_read += reader.bytes_read();
        if (full) {
            break;
        }
        // Offsets between this segment's last batch and the next base hold nothing.
        map.update_latest_offset(next_base - 1);
    }
    stats.keys_indexed = map.size();
    stats.map_utilization = map.utilization();
    auto end = map.latest_offset() + 1;
    if (full && end <= job.first_dirty) {
        return error(errc::invalid_config,
                     fmt::format("{}: log.cleaner.dedupe.buffer.size cannot hold the keys of "
                                 "the batch at {}",
                                 job.tp, job.first_dirty));
    }
    return end;
}

// Consecutive segments below `end` whose output fits one segment (segment.bytes, the
// index limits, 32-bit relative offsets), as Kafka's groupSegmentsBySize.
std::vector<std::vector<std::size_t>> group_segments(const clean_job& job, model::offset end) {
    std::vector<std::vector<std::size_t>> groups;
    auto index_entries = [&](std::uint64_t bytes) {
        auto per = std::max<std::uint64_t>(job.cfg.index_interval_bytes, model::batch_header_bytes);
        return bytes / per + 2;
    };
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < job.segments.size() && job.segments[i].base < end; ++i) {
        const auto& s = job.segments[i];
        auto next_base =
            i + 1 < job.segments.size() ? job.segments[i + 1].base : job.first_uncleanable;
        bool fits = false;
        if (!groups.empty()) {
            auto first = job.segments[groups.back().front()].base;
            fits = bytes + s.size <= job.cfg.segment_bytes &&
                   index_entries(bytes + s.size) * 12 <= job.cfg.segment_index_bytes &&
                   next_base() - 1 - first() <= std::numeric_limits<std::int32_t>::max();
        }
        if (!fits) {
            groups.emplace_back();
            bytes = 0;
        }
        groups.back().push_back(i);
        bytes += s.size;
    }
    return groups;
}

struct group_writer {
    std::unique_ptr<segment> out;
    bytes pending;
    bytes scratch;  // decompression buffer, reused batch after batch
    std::vector<batch_summary> summaries;
    std::size_t flush_at = 0;

    result<void> flush(io_throttle& throttle, clean_stats& stats) {
        if (pending.empty()) {
            return ok();
        }
        GREGOR_TRY_VOID(out->append(pending, summaries));
        throttle.consume(pending.size());
        stats.bytes_written += pending.size();
        pending.clear();
        summaries.clear();
        return ok();
    }
};

// What phase 2 knows of the records phase 1 left latest: the offsets the map holds, when
// it could list them (key_offset_map::held_offsets).
struct latest_records {
    const key_offset_map& map;
    std::optional<std::vector<model::offset>> offsets;

    // True when `h` needs no reading: a data batch wholly inside the section the map
    // indexed (every key there is in the map, at its latest offset) that holds none of
    // those offsets, so each of its records is obsolete or keyless.
    bool obsolete(const clean_job& job, const model::record_batch_header& h) const {
        if (!offsets || h.is_control() || h.base_offset < job.first_dirty ||
            h.last_offset() > map.latest_offset()) {
            return false;
        }
        auto at = std::lower_bound(offsets->begin(), offsets->end(), h.base_offset);
        return at == offsets->end() || *at > h.last_offset();
    }
};

// Phase 2 for one batch: filters it into `w`.
result<void> clean_batch(const clean_job& job, const latest_records& latest,
                         const source_reader::item& it, bool group_end, group_writer& w,
                         clean_result& res) {
    const auto& map = latest.map;
    const auto& h = it.header;
    auto horizon = delete_horizon(h);
    bool drop_tombstones = horizon && job.now >= *horizon;
    auto keep = [&](const filter_record& r) {
        if (r.offset > map.latest_offset()) {
            return true;
        }
        if (!r.key) {
            return false;  // from before the topic was compacted
        }
        if (r.offset < map.get(*r.key)) {
            return false;
        }
        return !r.tombstone || !drop_tombstones;
    };
    auto producer = job.producer_last.find(h.producer());
    bool producer_last = h.producer() >= 0 && producer != job.producer_last.end() &&
                         producer->second == h.last_offset();
    filter_options opts;
    opts.keep_last_record = it.last && group_end;
    opts.retain_empty = opts.keep_last_record || producer_last;
    if (!opts.retain_empty && latest.obsolete(job, h)) {
        ++res.stats.batches_dropped_unread;  // what filter_batch would drop, undecompressed
        return ok();
    }
    if (!horizon) {
        opts.stamp_horizon = model::timestamp_ms(job.now() + job.cfg.delete_retention_ms);
    }
    opts.decompressed_bytes_max = job.cfg.max_message_bytes * std::size_t{64} + (1 << 20);
    auto before = w.pending.size();
    GREGOR_TRY(auto f, filter_batch(h, it.bytes, opts, keep, w.pending, &w.scratch));
    res.stats.records_kept += static_cast<std::uint64_t>(f.records_kept);
    if (w.pending.size() > before) {
        GREGOR_TRY(auto sum, peek_batch(bytes_view(w.pending).subspan(before), w.pending.size()));
        w.summaries.push_back(sum);
        if (f.kept_tombstone) {
            ++res.stats.tombstones_kept;
            auto stamped = opts.stamp_horizon ? *opts.stamp_horizon : *horizon;
            if (!res.next_horizon || stamped < *res.next_horizon) {
                res.next_horizon = stamped;
            }
        }
    }
    return ok();
}

result<void> clean_group(file_system& fs, const clean_job& job, const latest_records& latest,
                         const clean_buffers& b, io_throttle& throttle,
                         const std::vector<std::size_t>& members, clean_result& res) {
    segment_options so;
    so.index_interval_bytes = job.cfg.index_interval_bytes;
    so.index_max_bytes = job.cfg.segment_index_bytes;
    so.max_batch_bytes = b.max_batch_bytes;
    auto base = job.segments[members.front()].base;
    group_writer w;
    GREGOR_TRY(w.out, segment::create(fs, job.dir, base, so, job.now, cleaned_suffix));
    w.flush_at = b.io_bytes;
    cleaned_group g;
    g.base = base;
    for (auto i : members) {
        const auto& src = job.segments[i];
        bool group_end = i == members.back();
        g.replaced.push_back(src.base);
        source_reader reader(src, b, throttle);
        for (;;) {
            GREGOR_TRY_VOID(check_abort(job));
            GREGOR_TRY(auto it, reader.next());
            if (!it) {
                break;
            }
            res.stats.records_read += static_cast<std::uint64_t>(it->header.record_count);
            GREGOR_TRY_VOID(clean_batch(job, latest, *it, group_end, w, res));
            if (w.pending.size() >= w.flush_at) {
                GREGOR_TRY_VOID(w.flush(throttle, res.stats));
            }
        }
        res.stats.bytes_read += reader.bytes_read();
    }
    GREGOR_TRY_VOID(w.flush(throttle, res.stats));
    GREGOR_TRY_VOID(w.out->seal());
    for (auto& f : w.out->files_to_sync()) {
        GREGOR_TRY_VOID(f->sync());
    }
    g.size = w.out->size_bytes();
    res.groups.push_back(std::move(g));
    return ok();
}

// Removes every `.cleaned` file the pass may have created.
void remove_outputs(file_system& fs, const clean_job& job) {
    for (const auto& s : job.segments) {
        remove_cleaned_files(fs, job.dir, s.base);
    }
}

}  // namespace

void remove_cleaned_files(file_system& fs, const std::string& dir, model::offset base) {
    for (auto kind :
         {segment_file_kind::log, segment_file_kind::index, segment_file_kind::time_index}) {
        auto p = path_join(dir, segment_file_name(base, kind) + std::string(cleaned_suffix));
        if (fs.exists(p)) {
            ignore_error(fs.remove(p), "a .cleaned leftover is removed at next open");
        }
    }
}

result<clean_result> run_clean(file_system& fs, const clean_job& job, key_offset_map& map,
                               const clean_buffers& b, io_throttle& throttle) {
    clean_result res;
    auto t0 = std::chrono::steady_clock::now();
    auto end = build_map(job, map, b, throttle, res.stats);
    if (!end) {
        return end.err();
    }
    res.end_offset = *end;
    auto t1 = std::chrono::steady_clock::now();
    auto groups = group_segments(job, res.end_offset);
    const latest_records latest{map, map.held_offsets()};
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        auto r = clean_group(fs, job, latest, b, throttle, groups[gi], res);
        if (!r) {
            remove_outputs(fs, job);
            return r.err();
        }
    }
    auto t2 = std::chrono::steady_clock::now();
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    res.stats.index_ms = duration_cast<milliseconds>(t1 - t0).count();
    res.stats.clean_ms = duration_cast<milliseconds>(t2 - t1).count();
    return res;
}

}  // namespace gregor::storage

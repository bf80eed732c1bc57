#include "storage/cleaner_pass.h"

#include "model/record_batch.h"
#include "protocol/records/compression.h"
#include "protocol/records/varint.h"
#include "storage/batch_filter.h"
#include "storage/errc.h"
#include "storage/names.h"
#include "storage/segment.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

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

// Phase 1 for one batch (its header and decompressed records section): puts the key of
// every record at or after first_dirty. Reads only each record's length, offset delta and
// key (bounds-checked): the recopy in phase 2 parses every record of every batch indexed
// here, so a malformed record still fails the pass before anything is swapped in. Returns
// false when the map is full (also when a record after the one refused is malformed, as if
// the puts had not lagged).
result<bool> index_batch(const clean_job& job, const model::record_batch_header& h,
                         bytes_view section, key_offset_map& map, clean_stats& stats) {
    using protocol::records_detail::byte_cursor;
    put_pipeline puts(map);
    byte_cursor c(section);
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

// The base of the segment after segments[i] (the first uncleanable offset after the last).
model::offset next_base_of(const clean_job& job, std::size_t i) {
    return i + 1 < job.segments.size() ? job.segments[i + 1].base : job.first_uncleanable;
}

// Phase 1's reading half: the dirty section's batches in log order, each CRC-checked and its
// records section decompressed, with a slot at the end of every segment and one at the end.
// With a thread of its own (`threaded`), reading, CRC and decompression overlap the
// indexing, which then only parses keys and fills the map (for lz4 logs each half is about
// half of phase 1). The thread runs at most ring_slots batches and read_ahead_bytes of
// records ahead (one batch more when a single one is larger). Slot buffers come from a pool
// that keeps at most read_ahead_bytes of spare capacity, so the memory beside the map stays
// within about twice read_ahead_bytes and a few of the largest batches. Without a thread,
// next() reads inline into one buffer, as a single-threaded pass would. One indexing
// thread calls next() and release(), alternately.
class dirty_feed {
public:
    struct slot {
        enum class kind : std::uint8_t { batch, segment_end, end };
        kind what = kind::end;
        model::record_batch_header header;  // batch
        bytes data;                         // batch: its records section, decompressed
        std::size_t size = 0;               // of data's contents (0 for a control batch)
        model::offset next_base;            // segment_end: the next segment's base
        std::optional<error> failure;       // end: why reading stopped (nullopt: it finished)
        bytes_view section() const { return bytes_view(data).first(size); }
    };
    // Enough to run 2 MiB ahead in batches of 16 KiB decompressed (the cleaner benchmark's,
    // from librdkafka's defaults), so that the two threads seldom wait for each other: there
    // phase 1 took ~1.4x as long with 16 slots; 64 to 256 were alike, 128 the steadiest.
    static constexpr std::size_t ring_slots = 128;

    dirty_feed(const clean_job& job, const clean_buffers& b, io_throttle& throttle, bool threaded)
        : job_(job),
          b_(b),
          throttle_(throttle),
          ahead_bytes_max_(std::max<std::size_t>(b.read_ahead_bytes, 1)) {
        if (threaded) {
            try {
                thread_ = std::thread([this] { run(); });
            } catch (const std::system_error&) {
                // No thread to be had (resource limits): read inline, as a small pass does.
            }
        }
    }
    ~dirty_feed() { static_cast<void>(finish()); }
    bool threaded() const { return thread_.joinable(); }
    dirty_feed(const dirty_feed&) = delete;
    dirty_feed& operator=(const dirty_feed&) = delete;

    // The next slot; valid until release(). After a slot of kind end, call neither again.
    const slot& next() {
        if (!thread_.joinable()) {
            produce(inline_);
            return inline_;
        }
        std::unique_lock lock(mu_);
        while (count_ == 0) {
            consumer_waiting_ = true;
            consumer_cv_.wait(lock);
        }
        consumer_waiting_ = false;
        return ring_[tail_ % ring_slots];
    }
    void release() {
        if (!thread_.joinable()) {
            return;
        }
        bytes spare;
        std::lock_guard lock(mu_);
        slot& s = ring_[tail_ % ring_slots];
        ahead_bytes_ -= s.size;
        if (pooled_bytes_ + s.data.capacity() <= ahead_bytes_max_) {
            pooled_bytes_ += s.data.capacity();
            pool_.push_back(std::move(s.data));
        } else {
            spare.swap(s.data);  // freed after the lock
        }
        s.data = bytes{};
        ++tail_;
        --count_;
        // Wake the reader once half the ring is free, not at every slot: a wake-up per small
        // batch would cost more than reading it.
        if (producer_waiting_ &&
            (count_ == 0 || (count_ <= ring_slots / 2 && ahead_bytes_ <= ahead_bytes_max_ / 2))) {
            producer_cv_.notify_one();
        }
    }
    // Stops the reader (what it read ahead is dropped) and returns the bytes it read from the
    // segments. Call no other member after it.
    std::uint64_t finish() {
        if (thread_.joinable()) {
            {
                std::lock_guard lock(mu_);
                stop_ = true;
            }
            producer_cv_.notify_one();
            thread_.join();
        }
        add_read();
        return read_;
    }

private:
    void run() {
        for (;;) {
            std::unique_lock lock(mu_);
            while (!stop_ &&
                   (count_ == ring_slots || (count_ > 0 && ahead_bytes_ >= ahead_bytes_max_))) {
                producer_waiting_ = true;
                producer_cv_.wait(lock);
            }
            producer_waiting_ = false;
            if (stop_) {
                return;
            }
            slot& s = ring_[head_ % ring_slots];
            if (!pool_.empty()) {
                s.data = std::move(pool_.back());
                pool_.pop_back();
                pooled_bytes_ -= s.data.capacity();
            }
            lock.unlock();
            produce(s);
            lock.lock();
            ++head_;
            ++count_;
            ahead_bytes_ += s.size;
            const bool last = s.what == slot::kind::end;
            // The indexer is woken in batches too (it waits only when the ring is empty).
            if (consumer_waiting_ &&
                (last || count_ >= ring_slots / 2 || ahead_bytes_ >= ahead_bytes_max_ / 2)) {
                consumer_cv_.notify_one();
            }
            if (last) {
                return;
            }
        }
    }

    // Fills `s` with what comes next. Touches only the reader's state and `s`.
    void produce(slot& s) {
        s.size = 0;
        s.failure.reset();
        for (;;) {
            if (!reader_) {
                while (segment_ < job_.segments.size() &&
                       next_base_of(job_, segment_) <= job_.first_dirty) {
                    ++segment_;
                }
                if (segment_ == job_.segments.size()) {
                    s.what = slot::kind::end;
                    return;
                }
                reader_.emplace(job_.segments[segment_], b_, throttle_);
            }
            if (auto a = check_abort(job_); !a) {
                return fail(s, a.err());
            }
            auto it = reader_->next();
            if (!it) {
                return fail(s, it.err());
            }
            if (!*it) {
                s.what = slot::kind::segment_end;
                s.next_base = next_base_of(job_, segment_);
                add_read();
                ++segment_;
                return;
            }
            const auto& h = (*it)->header;
            if (h.last_offset() < job_.first_dirty) {
                continue;
            }
            s.what = slot::kind::batch;
            s.header = h;
            if (!h.is_control()) {
                auto body = (*it)->bytes.subspan(model::batch_header_bytes,
                                                 h.size_bytes() - model::batch_header_bytes);
                auto n = protocol::decompress_into(h.compression(), body, b_.max_batch_bytes * 4,
                                                   s.data);
                if (!n) {
                    return fail(s, n.err());
                }
                s.size = *n;
            }
            return;
        }
    }
    void fail(slot& s, error e) {
        s.what = slot::kind::end;
        s.size = 0;
        s.failure = std::move(e);
        add_read();
    }
    // Counts what the current segment's reader read, and drops it.
    void add_read() {
        if (reader_) {
            std::lock_guard lock(mu_);
            read_ += reader_->bytes_read();
        }
        reader_.reset();
    }

    const clean_job& job_;
    const clean_buffers& b_;
    io_throttle& throttle_;
    const std::size_t ahead_bytes_max_;
    // The reader's own (its thread's, or the indexer's when inline).
    std::size_t segment_ = 0;
    std::optional<source_reader> reader_;
    slot inline_;
    // Shared, under mu_.
    std::mutex mu_;
    std::condition_variable producer_cv_;
    std::condition_variable consumer_cv_;
    std::array<slot, ring_slots> ring_;  // slots [tail_, head_) are filled
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
    std::size_t count_ = 0;
    std::size_t ahead_bytes_ = 0;
    std::vector<bytes> pool_;  // spare slot buffers
    std::size_t pooled_bytes_ = 0;
    bool producer_waiting_ = false;
    bool consumer_waiting_ = false;
    bool stop_ = false;
    std::uint64_t read_ = 0;
    std::thread thread_;  // last: started after everything it uses
};

// Phase 1: key -> latest offset over the dirty section. Returns the end offset of the pass.
result<model::offset> build_map(const clean_job& job, key_offset_map& map, const clean_buffers& b,
                                io_throttle& throttle, clean_stats& stats) {
    map.clear();
    map.update_latest_offset(job.first_dirty - 1);
    std::uint64_t dirty_estimate = 0;
    for (std::size_t i = 0; i < job.segments.size(); ++i) {
        if (next_base_of(job, i) > job.first_dirty) {
            dirty_estimate += job.segments[i].size;
        }
    }
    bool full = false;
    std::optional<error> failure;
    {
        dirty_feed feed(job, b, throttle, dirty_estimate >= b.read_thread_bytes_min);
        stats.read_on_thread = feed.threaded();
        for (;;) {
            const auto& s = feed.next();
            if (s.what == dirty_feed::slot::kind::end) {
                failure = s.failure;
                break;
            }
            if (s.what == dirty_feed::slot::kind::segment_end) {
                // Offsets between this segment's last batch and the next base hold nothing.
                map.update_latest_offset(s.next_base - 1);
            } else {
                if (!s.header.is_control()) {
                    auto room = index_batch(job, s.header, s.section(), map, stats);
                    if (!room) {
                        failure = room.err();
                        break;
                    }
                    full = !*room;
                }
                if (full) {
                    break;
                }
                map.update_latest_offset(s.header.last_offset());
                stats.dirty_bytes += s.header.size_bytes();
            }
            feed.release();
        }
        stats.bytes_read += feed.finish();
    }
    if (failure) {
        return *failure;
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
    so.max_batch_bytes = static_cast<std::uint32_t>(b.max_batch_bytes);
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
        res.stats.bytes_recopied += reader.bytes_read();
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

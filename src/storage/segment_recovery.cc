// Segment recovery and index rebuilds: the slow paths after a crash or a damaged index.
#include "storage/errc.h"
#include "storage/logger.h"
#include "storage/names.h"
#include "storage/segment.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace gregor::storage {
namespace {

// Recovery reads the log in chunks this large (one allocation per segment recovered):
// big enough that the syscall cost vanishes next to the CRC pass.
constexpr std::size_t recovery_chunk_bytes = 4 * 1024 * 1024;
// Header-only scans (producer-state replay) read less ahead: with big batches most of each
// chunk is record bytes that nobody looks at.
constexpr std::size_t header_scan_chunk_bytes = 64 * 1024;

// A window onto the log file that rereads only when asked for bytes outside it.
class chunk_reader {
public:
    chunk_reader(file& f, std::uint64_t file_size, std::size_t chunk_bytes = recovery_chunk_bytes)
        : file_(f), file_size_(file_size), chunk_bytes_(chunk_bytes) {}

    // Returns the `len` bytes at `pos`, or an empty view when the file ends first.
    // REQUIRES: len bounded by the caller (max batch bytes).
    result<bytes_view> get(std::uint64_t pos, std::size_t len) {
        if (pos + len > file_size_) {
            return bytes_view{};
        }
        if (pos < buf_pos_ || pos + len > buf_pos_ + buf_len_) {
            auto want = std::max(chunk_bytes_, len);
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, file_size_ - pos));
            if (buf_.size() < want) {
                buf_.resize(want);
            }
            GREGOR_TRY(auto n, file_.read_at(pos, mutable_bytes_view(buf_.data(), want)));
            buf_pos_ = pos;
            buf_len_ = n;
            if (n < len) {
                return bytes_view{};
            }
        }
        return bytes_view(buf_.data() + (pos - buf_pos_), len);
    }

private:
    file& file_;
    std::uint64_t file_size_;
    std::size_t chunk_bytes_;
    bytes buf_;
    std::uint64_t buf_pos_ = 0;
    std::size_t buf_len_ = 0;
};

}  // namespace

result<std::uint64_t> segment::recover(const std::function<void(const batch_summary&)>& on_batch) {
    GREGOR_TRY_VOID(offset_index_.create());
    GREGOR_TRY_VOID(time_index_.create());
    indexes_checked_ = true;
    indexes_missing_ = false;
    bytes_since_index_entry_ = 0;
    max_ts_ = timestamp_offset{model::timestamp_ms(-1), model::no_offset};
    last_time_entry_ = model::timestamp_ms(-1);
    next_offset_ = base_;
    GREGOR_TRY(auto* f, log_handle());
    GREGOR_TRY(auto file_size, f->size());
    size_ = file_size;
    // What recovery keeps may sit in a page cache that a crashed process left unsynced.
    log_unsynced_ = true;
    chunk_reader reader(*f, file_size);
    std::uint64_t pos = 0;
    std::string why;
    while (pos < file_size) {
        GREGOR_TRY(auto hdr, reader.get(pos, model::batch_header_bytes));
        if (hdr.empty()) {
            why = "torn header";
            break;
        }
        auto peek = peek_batch(hdr, opts_.max_batch_bytes);
        if (!peek) {
            why = peek.err().to_string();
            break;
        }
        GREGOR_TRY(auto whole, reader.get(pos, peek->size_bytes));
        if (whole.empty()) {
            why = "torn batch";
            break;
        }
        auto valid =
            model::validate_batch(whole, opts_.max_batch_bytes, model::count_rule::at_most);
        if (!valid) {
            why = valid.err().to_string();
            break;
        }
        if (pos + peek->size_bytes > segment_bytes_max) {
            why = "segment larger than its 32-bit index positions allow";
            break;
        }
        if (peek->base_offset < *next_offset_ || peek->last_offset() - base_() > INT32_MAX) {
            why = fmt::format("offset {} out of order", peek->base_offset);
            break;
        }
        index_batch(*peek, pos);
        on_batch(*peek);
        pos += peek->size_bytes;
    }
    if (pos < file_size) {
        GREGOR_LOG(storage_log, warn, "{}: truncating {} bytes at position {} ({})",
                   path_join(dir_, segment_file_name(base_, segment_file_kind::log)),
                   file_size - pos, pos, why);
    }
    return truncate_log(pos);
}

result<void> segment::scan_batches(model::offset from,
                                   const std::function<void(const batch_summary&)>& on_batch) {
    GREGOR_TRY(auto hint, lookup_position(from));
    GREGOR_TRY(auto* f, log_handle());
    chunk_reader reader(*f, size_, header_scan_chunk_bytes);
    auto pos = hint.position;
    while (pos < size_) {
        GREGOR_TRY(auto hdr, reader.get(pos, model::batch_header_bytes));
        if (hdr.empty()) {
            return error(errc::corrupt_segment, fmt::format("segment {}: short header at {}",
                                                            base_, pos));
        }
        GREGOR_TRY(auto b, peek_batch(hdr, opts_.max_batch_bytes));
        if (pos + b.size_bytes > size_ || b.base_offset < base_) {
            return error(errc::corrupt_segment,
                         fmt::format("segment {}: batch at {} overruns it", base_, pos));
        }
        if (b.last_offset >= from) {
            on_batch(b);
        }
        pos += b.size_bytes;
    }
    return ok();
}

result<void> segment::rebuild_indexes() {
    bool was_active = active();
    GREGOR_TRY_VOID(offset_index_.create());
    GREGOR_TRY_VOID(time_index_.create());
    indexes_checked_ = true;
    indexes_missing_ = false;
    bytes_since_index_entry_ = 0;
    max_ts_ = timestamp_offset{model::timestamp_ms(-1), model::no_offset};
    last_time_entry_ = model::timestamp_ms(-1);
    next_offset_ = base_;
    std::uint64_t pos = 0;
    for (;;) {
        GREGOR_TRY(auto b, batch_at(pos));
        if (!b) {
            break;
        }
        index_batch(*b, pos);
        pos += b->size_bytes;
    }
    if (!was_active) {
        return seal();
    }
    return ok();
}

}  // namespace gregor::storage

// One segment of a partition log: the `.log` file holding whole record batches back to
// back, plus its sparse `.index` and `.timeindex` (index_file.h). Batches are written once,
// validated before, and never rewritten; the segment only appends, truncates its tail, and
// is finally renamed `.deleted` and removed.
//
// The segment tracks its own size in memory: bytes past size_bytes() (a failed write's
// leftovers) are never read and are overwritten by the next append. Sealed segments learn
// their next offset and max timestamp lazily, so opening a partition with many segments
// reads only the last one. Owned by a log; the log's loop thread only.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "model/record_batch.h"
#include "storage/file_system.h"
#include "storage/index_file.h"
#include "storage/names.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gregor::storage {

// Index entries hold 32-bit positions, so no segment may grow past this (Kafka's limit too).
inline constexpr std::uint64_t segment_bytes_max = INT32_MAX;

struct segment_options {
    std::uint32_t index_interval_bytes = 4096;
    std::uint32_t index_max_bytes = 10 * 1024 * 1024;
    // Largest batch recovery accepts (bounds the read buffer).
    std::uint32_t max_batch_bytes = 16 * 1024 * 1024;
};

// The header fields storage needs of one batch (read from disk or from an append).
struct batch_summary {
    model::offset base_offset;
    model::offset last_offset;
    model::timestamp_ms max_timestamp;
    model::timestamp_ms first_timestamp{-1};  // the header's base timestamp
    model::leader_epoch epoch;
    std::uint32_t size_bytes = 0;
    // The producer fields (producer_state.h); producer -1: none.
    model::producer_id producer{-1};
    std::int16_t producer_epoch = -1;
    std::int32_t base_sequence = -1;
    std::int16_t attributes = 0;

    bool has_producer() const { return producer() >= 0; }
    bool is_control() const { return (attributes & 0x20) != 0; }
};

// A batch found in a segment: its summary and file position.
struct located_batch {
    batch_summary batch;
    std::uint64_t position = 0;
};

class segment {
public:
    // Creates a new, empty, active segment (files created or emptied). `suffix` is appended
    // to the three file names (the cleaner writes `.cleaned` segments).
    // The segment refers to `dir` and `suffix` without copying them (an idle partition's
    // memory counts): `dir` must outlive it (the owning log's directory, a cleaner job's),
    // and `suffix` is one of names.h's constants.
    static result<std::unique_ptr<segment>> create(file_system& fs, const std::string& dir,
                                                   model::offset base, const segment_options& o,
                                                   model::timestamp_ms now,
                                                   std::string_view suffix = {});
    // Opens an existing segment as sealed; size comes from the file. Same lifetimes.
    static result<std::unique_ptr<segment>> open(file_system& fs, const std::string& dir,
                                                 model::offset base, const segment_options& o,
                                                 model::timestamp_ms now,
                                                 std::string_view suffix = {});
    // A temporary directory name would dangle.
    static result<std::unique_ptr<segment>> create(file_system&, std::string&&, model::offset,
                                                   const segment_options&, model::timestamp_ms,
                                                   std::string_view = {}) = delete;
    static result<std::unique_ptr<segment>> open(file_system&, std::string&&, model::offset,
                                                 const segment_options&, model::timestamp_ms,
                                                 std::string_view = {}) = delete;
    // The path of one of the segment's files (with the segment's suffix).
    std::string path(segment_file_kind kind) const;
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;

    model::offset base_offset() const { return base_; }
    std::uint64_t size_bytes() const { return size_; }
    bool empty() const { return size_ == 0; }
    bool active() const { return offset_index_.active(); }
    // Offset after the last batch (base when empty). Sealed segments scan their tail once.
    result<model::offset> next_offset();
    // Largest batch max timestamp and the last offset of its batch (-1 when none).
    result<timestamp_offset> max_timestamp();
    // When the segment.ms roll clock started (creation or first batch's timestamp).
    model::timestamp_ms roll_base() const { return roll_base_; }
    // Returns true iff one more index entry might not fit.
    bool index_full() const { return offset_index_.full() || time_index_.full(); }

    // Appends validated, offset-assigned batches held back to back in `data`; `batches`
    // describes them in order. REQUIRES: active(). On error nothing becomes visible.
    result<void> append(bytes_view data, std::span<const batch_summary> batches);

    // The first batch with last_offset >= target at or after the index's hint; nullopt
    // when the segment holds no such batch.
    result<std::optional<located_batch>> find(model::offset target);
    // The first batch with max_timestamp >= target and last_offset >= min_offset.
    result<std::optional<located_batch>> find_by_timestamp(model::timestamp_ms target,
                                                           model::offset min_offset);
    // How far a read that starts with `first` may go: whole batches within `max_bytes`
    // (but at least `first`), each with last_offset < `upper`. Uses the offset index to
    // jump over the batches in between instead of reading every header.
    // REQUIRES: first.batch.last_offset < upper.
    struct extent {
        std::uint64_t length = 0;
        model::offset next_offset;
    };
    result<extent> read_extent(const located_batch& first, std::uint64_t max_bytes,
                               model::offset upper);
    // The index's hint for `target`: the largest indexed batch start at or before it.
    result<offset_position> lookup_position(model::offset target);
    // Reads the header of the batch at `pos`; nullopt at the end of the segment.
    result<std::optional<batch_summary>> batch_at(std::uint64_t pos);

    // Drops every batch with last_offset >= target and the index entries pointing at them.
    // Turns the segment active. Returns the bytes removed.
    result<std::uint64_t> truncate_to(model::offset target);

    // Calls `on_batch` with the header of every batch whose last offset >= `from`, in order,
    // reading headers only (chunked). Returns errc::corrupt_segment at a header that does
    // not parse.
    result<void> scan_batches(model::offset from,
                              const std::function<void(const batch_summary&)>& on_batch);

    // Re-validates every batch (lengths, magic, CRC, increasing offsets), truncates at the
    // first bad byte and rebuilds both indexes. `on_batch` sees each valid batch in order.
    // Returns the number of bytes truncated.
    result<std::uint64_t> recover(const std::function<void(const batch_summary&)>& on_batch);

    // Makes a sealed segment the active (last) one after open: loads its indexes (rebuilt
    // when missing or insane), learns its next offset and max timestamp, and starts the
    // roll clock at its first batch's timestamp (or `now` when empty or in the future).
    result<void> activate(model::timestamp_ms now);
    // Rolled: writes the final time-index entry, trims and seals both indexes.
    result<void> seal();
    // Renames the three files with the `.deleted` suffix; returns their new paths.
    result<std::vector<std::string>> rename_to_deleted();

    // The `.log` file, reopened if release_idle_file() closed it.
    result<std::shared_ptr<file>> log_file();
    // One step of a clock sweep over open descriptors: closes the `.log` file if nothing used
    // it since the last step (`even_if_used`: regardless), nobody else holds it (a read slice,
    // a cleaner job, a flush) and it holds nothing unsynced (a writeback error must reach an
    // fsync through the descriptor that wrote); the next use reopens it.
    enum class release { closed, kept, idle_unsynced };
    release release_idle_file(bool even_if_used = false);
    // Whether the `.log` file is open now; whether it is `f` (a holder keeps it open).
    bool file_open() const { return log_ != nullptr; }
    bool holds_file(const std::shared_ptr<file>& f) const { return log_ == f; }
    // Every file of this segment that a flush must fsync: the log if written or truncated
    // since the last call, and each index file written since the last call (whose descriptor
    // the index then gives up). Empty for a segment untouched since its last sync: an idle
    // partition's clean close syncs nothing.
    std::vector<std::shared_ptr<file>> files_to_sync();
    // Every file a sync may need, also those an earlier files_to_sync() gave out to a flush
    // still in flight: the log and each sealed index (reopened).
    result<std::vector<std::shared_ptr<file>>> all_files_to_sync();

private:
    segment(file_system& fs, const std::string& dir, model::offset base, const segment_options& o,
            std::string_view suffix);
    result<void> check_indexes();
    void index_batch(const batch_summary& b, std::uint64_t position);
    result<void> rebuild_indexes();
    result<void> scan_tail();
    result<std::uint64_t> truncate_log(std::uint64_t valid_bytes);
    // The header at `pos` checked against this segment; nullopt at its end.
    result<std::optional<batch_summary>> summary_at(std::uint64_t pos, bytes_view header);
    class header_window;
    result<std::optional<batch_summary>> batch_at(header_window& w, std::uint64_t pos);

    // The open `.log` file (reopened when released); marks it used for the sweep.
    result<file*> log_handle();

    // Ordered so that no padding is left: an idle partition's memory counts at a million
    // partitions (the object stays in the allocator's 320-byte class).
    file_system& fs_;
    const std::string& dir_;
    model::offset base_;
    std::string_view suffix_;
    segment_options opts_;
    bool indexes_checked_ = false;
    bool indexes_missing_ = false;
    // The log file was created, written or truncated since files_to_sync() last gave it out
    // (or recovery read it, perhaps from a page cache a crash left unsynced).
    bool log_unsynced_ = false;
    // Used since the last release_idle_file() (the sweep's second chance).
    bool used_ = true;
    std::shared_ptr<file> log_;
    index_file offset_index_;
    index_file time_index_;
    std::uint64_t size_ = 0;
    std::uint64_t bytes_since_index_entry_ = 0;
    std::optional<model::offset> next_offset_;
    std::optional<timestamp_offset> max_ts_;  // known for active segments
    model::timestamp_ms last_time_entry_{-1};
    model::timestamp_ms roll_base_{-1};
};

// Decodes the fields of a batch header that storage needs, checking only what keeps the
// walk safe (length bounds, magic). `header` holds at least model::batch_header_bytes.
result<batch_summary> peek_batch(bytes_view header, std::size_t max_batch_bytes);

}  // namespace gregor::storage

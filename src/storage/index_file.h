// The sparse indexes of one segment, in Kafka's file formats:
//   offset_index (.index): 8-byte entries, relative offset int32 + file position int32,
//       the relative offset being a batch's last offset and the position its start.
//   time_index (.timeindex): 12-byte entries, max timestamp so far int64 + relative offset
//       int32 of the batch holding it; timestamps strictly increase entry to entry.
// All integers big endian.
//
// An index is either active (its segment takes appends) or sealed. Active: the entries live
// in a memory buffer and reach the file when the segment seals (Kafka preallocates the file
// to `max_bytes` for its memory map; ours needs no room before the seal); a crash makes
// recovery rebuild the active segment's indexes from the log, so nothing before the seal is
// worth an fsync. A new index's file is empty, an index reopened active (the last segment at
// start-up) keeps the trimmed file its seal left, and sealing either writes nothing unless
// its entries changed: creating, restarting and closing an idle partition touch neither
// index. Sealed: the file is trimmed to its entries,
// its descriptor kept only until the next flush takes it for fsync (take_unsynced), and it
// is mapped read-only on first lookup, the mapping outliving the descriptor as Kafka's
// indexes do. So a partition holds one descriptor per log segment and none for its
// indexes, and idle partitions cost no memory for old segments.
// Owned by a segment; the log's loop thread only.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "storage/file_system.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace gregor::storage {

// Raw entry storage shared by the two index kinds.
class index_file {
public:
    // Names the file when asked, from its owner: a segment's three paths would otherwise be
    // stored as strings twice over, per partition (memory counts at a million partitions).
    // A plain function and its argument, not a std::function: 16 bytes less per index.
    using path_fn = std::string (*)(const void* owner);
    index_file(file_system& fs, path_fn name, const void* owner, std::size_t entry_bytes,
               std::size_t max_bytes);

    // New empty active index: creates (or empties) the file.
    result<void> create();
    // Opens an existing file as active: its whole trimmed content becomes the buffer (the
    // file is left as it is). Returns errc::corrupt_index iff its size is not a whole number
    // of entries.
    result<void> open_active();
    // Opens an existing file as sealed (mapped lazily).
    void open_sealed() { active_ = false; }

    bool active() const { return active_; }
    std::size_t entry_count();
    bool full() const { return active_ && buffer_.size() + entry_bytes_ > max_bytes_; }
    // REQUIRES: active() and !full().
    void append(bytes_view entry);
    // Keeps the first `count` entries. REQUIRES: active().
    void truncate_entries(std::size_t count);
    // The entries; maps the file on first use when sealed.
    result<bytes_view> entries();
    // Writes pending entries, trims the file to them and turns sealed; writes nothing when the
    // file already holds exactly the entries (reopened and unchanged).
    result<void> seal();
    // Turns a sealed index active again (truncation made its segment the last one).
    result<void> reactivate();
    // Replaces all entries (after a rebuild from the log) and writes them.
    result<void> replace(bytes entries_bytes);
    // The file written since the last call, for the caller to fsync, or null: the index
    // keeps no descriptor for it any more.
    std::shared_ptr<file> take_unsynced();
    // take_unsynced(), or a sealed index's file reopened when an earlier call gave it out (to
    // a flush that may not have synced it yet); null for an active index or a missing file.
    result<std::shared_ptr<file>> file_to_sync_again();
    std::string path() const { return path_(owner_); }
    std::size_t entry_bytes() const { return entry_bytes_; }

private:
    result<void> ensure_open();
    // Writes buffered entries to the file (page cache).
    result<void> write_pending();

    file_system& fs_;
    path_fn path_;
    const void* owner_;
    // 32 bits each, beside the flags: an idle partition's segment holds two of these.
    std::uint32_t entry_bytes_;
    std::uint32_t max_bytes_;
    std::uint32_t written_bytes_ = 0;  // active: prefix of buffer_ already in the file
    bool active_ = false;
    bool unsynced_ = false;  // file_ written since it was last taken
    // Active: the file may differ from the entries (added or dropped since it was opened or
    // created, or a partial read at open); seal() must write it.
    bool dirty_ = false;
    std::shared_ptr<file> file_;
    bytes buffer_;                            // active: all entries
    std::unique_ptr<mapped_region> mapping_;  // sealed: lazily mapped entries
};

struct offset_position {
    model::offset offset;        // last offset of the indexed batch (or base when none)
    std::uint64_t position = 0;  // file position of that batch's start
};

// REQUIRES (for every function): `entries` come from an index of a segment at `base`.
namespace offset_index {
inline constexpr std::size_t entry_bytes = 8;
std::array<std::uint8_t, entry_bytes> encode(model::offset base, model::offset last_offset,
                                             std::uint64_t position);
// Largest entry with offset <= target, or {base, 0} when none.
offset_position lookup(bytes_view entries, model::offset base, model::offset target);
// Returns true iff the entries are strictly increasing and within [base, ...) x [0, log_size).
bool sane(bytes_view entries, model::offset base, std::uint64_t log_size);
offset_position entry_at(bytes_view entries, model::offset base, std::size_t i);
}  // namespace offset_index

struct timestamp_offset {
    model::timestamp_ms timestamp;
    model::offset offset;
};

namespace time_index {
inline constexpr std::size_t entry_bytes = 12;
std::array<std::uint8_t, entry_bytes> encode(model::offset base, model::timestamp_ms ts,
                                             model::offset off);
// Largest entry with timestamp <= target, or {-1, base} when none.
timestamp_offset lookup(bytes_view entries, model::offset base, model::timestamp_ms target);
std::optional<timestamp_offset> last(bytes_view entries, model::offset base);
bool sane(bytes_view entries, model::offset base);
timestamp_offset entry_at(bytes_view entries, model::offset base, std::size_t i);
}  // namespace time_index

}  // namespace gregor::storage

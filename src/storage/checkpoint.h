// Kafka's checkpoint files, in Kafka's text format so operators' tools and habits carry
// over: a version line ("0"), a count line, then one entry per line.
//   offset checkpoints (recovery-point-offset-checkpoint, replication-offset-checkpoint,
//   log-start-offset-checkpoint; one per log dir): "<topic> <partition> <offset>"
//   leader-epoch-checkpoint (one per partition directory): "<epoch> <start offset>"
// Files are written atomically (temp file, fsync, rename, fsync dir). Reading a corrupt file
// returns errc::corrupt_checkpoint; callers warn and fall back to a full recovery scan.
// Pure codecs plus blocking file helpers: call the helpers from the I/O worker or at
// start-up/shutdown, not on the event loop's hot path.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "model/fundamental.h"
#include "storage/file_system.h"

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gregor::storage {

using offset_map = std::map<model::topic_partition, model::offset>;

struct epoch_entry {
    model::leader_epoch epoch;
    model::offset start_offset;
    auto operator<=>(const epoch_entry&) const = default;
};

bytes encode_offset_checkpoint(const offset_map& offsets);
// Encodes an offset checkpoint entry by entry, in the order given (Kafka's files have none):
// a dir's 300,000 entries need no sorted map.
class offset_checkpoint_builder {
public:
    void add(const model::topic_partition& tp, model::offset off);
    bytes finish() const;

private:
    std::string entries_;
    std::size_t count_ = 0;
};
result<offset_map> decode_offset_checkpoint(bytes_view text);

bytes encode_epoch_checkpoint(const std::vector<epoch_entry>& entries);
result<std::vector<epoch_entry>> decode_epoch_checkpoint(bytes_view text);

// Reads a checkpoint; a missing file is an empty map (a new log dir), not an error.
result<offset_map> read_offset_checkpoint(file_system& fs, const std::string& path);
result<void> write_offset_checkpoint(file_system& fs, const std::string& path,
                                     const offset_map& offsets);
result<std::vector<epoch_entry>> read_epoch_checkpoint(file_system& fs, const std::string& path);

// Orders the writes of one checkpoint file between the owner loop (which snapshots the
// content and may write synchronously at shutdown) and the I/O worker (which writes queued
// snapshots): writes never overlap, and a snapshot older than one already written is
// skipped instead of rolling the file back. Shared by the owner and queued jobs
// (shared_ptr); thread-safe.
class checkpoint_writer {
public:
    // Owner: the sequence number of a new snapshot.
    std::uint64_t next_seq() { return ++issued_; }
    // Any thread: writes `content` atomically unless a newer snapshot was written already.
    result<void> write(file_system& fs, const std::string& path, bytes_view content,
                       std::uint64_t seq);
    // Any thread: whether snapshot `seq`, or a newer one, was written (durably).
    bool written(std::uint64_t seq) {
        std::lock_guard lock(mu_);
        return written_ >= seq;
    }

private:
    std::atomic<std::uint64_t> issued_{0};
    std::mutex mu_;
    std::uint64_t written_ = 0;
};

}  // namespace gregor::storage

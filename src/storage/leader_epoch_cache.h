// The leader epoch cache of one partition log: which leader epoch started at which offset
// (Kafka's leader-epoch-checkpoint). Followers use it to find where their log diverges
// from the leader's (OffsetForLeaderEpoch) instead of truncating to a stale high watermark.
//
// In-memory and pure: the owning log persists it (through the I/O worker) whenever it
// changes, and re-derives entries from batch headers during recovery. Entries are strictly
// increasing in both epoch and start offset. Owned by the log; its loop thread only.
#pragma once

#include "model/fundamental.h"
#include "storage/checkpoint.h"

#include <optional>
#include <vector>

namespace gregor::storage {

class leader_epoch_cache {
public:
    leader_epoch_cache() = default;
    // REQUIRES: entries strictly increasing in epoch and start offset (decode checks input
    // from disk with `is_valid` first).
    explicit leader_epoch_cache(std::vector<epoch_entry> entries);
    static bool is_valid(const std::vector<epoch_entry>& entries);

    // Records that `epoch` starts at `start`. A repeat of the latest epoch is ignored (its
    // first offset stays). Entries that conflict (epoch >= `epoch` or start >= `start`) are
    // removed first, as happens when a follower's divergent suffix was truncated.
    // Returns true iff the cache changed.
    bool assign(model::leader_epoch epoch, model::offset start);

    // OffsetForLeaderEpoch: the largest known epoch <= `requested` and the offset where the
    // next larger epoch starts (`log_end` when `requested` is the latest epoch). Returns
    // {no_leader_epoch, no_offset} iff `requested` is newer than every known epoch or the
    // cache is empty.
    epoch_entry end_offset_for(model::leader_epoch requested, model::offset log_end) const;

    // Log truncated to `end` (exclusive): drops entries starting at or after it.
    bool truncate_from_end(model::offset end);
    // Log start moved to `start`: drops entries wholly before it; the entry covering
    // `start` is kept with its start moved up to `start`.
    bool truncate_from_start(model::offset start);
    void clear() { entries_.clear(); }

    std::optional<epoch_entry> latest() const;
    const std::vector<epoch_entry>& entries() const { return entries_; }

private:
    std::vector<epoch_entry> entries_;
};

}  // namespace gregor::storage

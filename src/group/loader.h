// offsets_loader: rebuilds a `__consumer_offsets` partition's groups and offsets from its log.
//
// The broker runs it when it becomes leader of the partition (LeaderAndIsr): it reads the
// log from the log start offset to the log end offset (not the high watermark) in chunks
// and feeds the raw batches here in log order; meanwhile the partition's groups answer
// COORDINATOR_LOAD_IN_PROGRESS. Replay rules (Kafka 3.8's doLoadGroupsAndOffsets):
// - offset key in a plain batch: value -> committed, stamped with the log offset of the
//   batch's first record ("latest by log position wins"); null value -> removed.
// - offset key in a transactional batch: staged under the batch's producer id (a null value
//   removes it from the stage). A COMMIT control batch moves that producer's stage into the
//   committed offsets where it is newer by batch offset; any control batch drops the stage.
//   Stages still open at the end stay staged in the store.
// - group key: value -> the group's latest metadata; null -> the group is removed.
// - any other key version (KIP-848's 3..8, or unknown): skipped and counted.
// - a record whose key or value does not decode (or has no key): skipped, logged, counted.
// - a batch that fails its CRC, header, decompression or record framing checks stops the
//   load there with an error; everything before it is kept (so a caller may still serve it).
// Groups with offsets but no metadata record are "offsets-only" groups (Empty, no protocol).
//
// One loader per load, on one thread (the broker's loop or a load worker); the result is a
// plain value handed to the loop.
#pragma once

#include "base/bytes.h"
#include "base/result.h"
#include "group/offsets.h"
#include "group/records.h"
#include "model/fundamental.h"
#include "model/record_batch.h"
#include "protocol/records/record_reader.h"

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gregor::group {

struct load_stats {
    std::size_t batches = 0;
    std::size_t control_batches = 0;
    std::size_t offset_records = 0;
    std::size_t offset_tombstones = 0;
    std::size_t group_records = 0;
    std::size_t group_tombstones = 0;
    std::size_t unknown_key_records = 0;  // skipped: KIP-848 or unknown key versions
    std::size_t corrupt_records = 0;      // skipped: bad key or value bytes, no key
};

struct load_result {
    offset_store offsets;
    // The latest metadata record of every group whose last group record is not a tombstone.
    std::map<std::string, group_metadata_value, std::less<>> groups;
    // Groups whose last group record is a tombstone.
    std::set<std::string, std::less<>> removed_groups;
    load_stats stats;
    // Where the next read starts: one past the last batch replayed.
    model::offset next_offset{0};
    // Set iff a corrupt batch stopped the load (at next_offset).
    std::optional<gregor::error> error;

    // Groups with offsets (committed or staged) but no metadata record, sorted.
    std::vector<std::string> offsets_only_groups() const;
};

class offsets_loader {
public:
    // `batch_bytes_max` bounds one batch (larger lengths are corruption);
    // `decompressed_bytes_max` bounds one batch's decompressed records.
    explicit offsets_loader(offsets_config config, std::size_t batch_bytes_max,
                            std::size_t decompressed_bytes_max);

    // Replays the whole batches at the front of `data`, the log's bytes from next_offset()
    // on. Returns the bytes replayed: a batch cut off at the end of `data` is left for the
    // next call, which must start with it (Kafka grows its read buffer the same way); if
    // the log has no more bytes, that remainder is corrupt. An error means a corrupt batch;
    // the loader is then stopped and feed() keeps failing.
    result<std::size_t> feed(bytes_view data);
    model::offset next_offset() const { return out_.next_offset; }
    bool stopped() const { return out_.error.has_value(); }

    // The replayed state. Call once, after the last feed().
    load_result finish() &&;

private:
    struct record_context;
    result<void> replay_batch(const model::batch_reader::entry& entry);
    void replay_control(const model::record_batch_header& header,
                        const protocol::record_view& record);
    void replay_record(const record_context& ctx, const protocol::record_view& record);
    void replay_offset_record(const record_context& ctx, const offset_commit_key& key,
                              const std::optional<bytes_view>& value);
    void replay_group_record(const group_metadata_key& key, const std::optional<bytes_view>& value);
    void count_corrupt(const record_context& ctx, const gregor::error& error);

    std::size_t batch_bytes_max_;
    std::size_t decompressed_bytes_max_;
    load_result out_;
};

// Loads a whole log held in one buffer (tests, tools, small partitions): feed() plus an
// error for bytes after the last whole batch.
load_result load_offsets_partition(bytes_view log, offsets_config config,
                                   std::size_t batch_bytes_max,
                                   std::size_t decompressed_bytes_max);

}  // namespace gregor::group

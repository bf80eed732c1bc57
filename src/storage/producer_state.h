// The idempotent-producer state of one partition, as Kafka's ProducerStateManager keeps it
// (reference: kafka-transactions.md §2.1-2.3), without any I/O: no files, no clock (every
// `now` is passed in). The log owns one, feeds it every appended batch that carries a
// producer id, and persists it in `.snapshot` files (producer_snapshot.h).
//
// Per producer id it keeps the epoch, the metadata of its last 5 batches (Kafka's
// NUM_BATCHES_TO_RETAIN, matching the clients' max.in.flight.requests.per.connection <= 5),
// the last timestamp (max timestamp of its last batch), the coordinator epoch and the first
// offset of its open transaction (-1: transactions are not built yet; the field is carried
// through snapshots only, and a control batch clears it).
//
// Leader appends are checked first (check(), or producer_append_checker for a payload of
// several batches), exactly as Kafka 3.x does for a client batch:
//   1. base sequence < 0                                   -> errc::invalid_record
//      epoch < 0                                           -> errc::invalid_producer_epoch
//        (Kafka refuses it only below a known epoch; no client sends one, and stored
//        it would look like an unknown producer forever)
//   2. same epoch and [first seq, last seq] equal to one of the retained batches
//                                                          -> duplicate: the original's
//                                                             offsets and timestamp
//   3. epoch below the stored one                          -> errc::invalid_producer_epoch
//   4. unknown producer (no entry, or stored epoch -1)     -> accepted, any sequence
//      higher epoch                                        -> first seq must be 0, else
//                                                             errc::out_of_order_sequence
//      same epoch                                          -> first == last + 1, or the wrap
//                                                             first == 0 && last == INT32_MAX,
//                                                             else errc::out_of_order_sequence
// Coordinator-origin batches (offset commits of transactions, markers) get only the epoch
// check. apply() then records a batch whatever its origin, never refusing (replication and
// recovery replay use it directly): an epoch change clears the retained batches, and the
// new batch enters a FIFO of 5. Sequences are int32 and wrap from INT32_MAX to 0 (a
// batch's last sequence = base + last offset delta, wrapped), as in Kafka; nothing refuses
// a batch whose sequence range wraps.
//
// Memory is bounded: at most `producers_max` entries (limits::partition_producers_max).
// Inserting one more evicts the entry with the oldest last timestamp among those without
// an open transaction (the oldest of all if every one has one); the evicted producer is
// then unknown, exactly as an expired one. expire() drops entries without an open
// transaction whose `now - last timestamp >= producer.id.expiration.ms` (Kafka's rule).
//
// Value type; not thread-safe (the log's owner loop uses it).
#pragma once

#include "base/limits.h"
#include "base/result.h"
#include "model/fundamental.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

namespace gregor::storage {

inline constexpr std::size_t producer_batches_retained = 5;
inline constexpr std::int16_t no_producer_epoch = -1;
inline constexpr std::int32_t no_sequence = -1;
inline constexpr std::int32_t no_coordinator_epoch = -1;

// Who wrote a leader batch: a producing client (every check) or a coordinator of this broker
// (transactional offset commits, markers: Kafka's AppendOrigin.COORDINATOR, epoch check only).
enum class append_origin : std::uint8_t { client, coordinator };

// Kafka's sequence arithmetic: `seq + delta` wrapping from INT32_MAX to 0, and its inverse.
// REQUIRES: seq >= 0, delta >= 0.
std::int32_t increment_sequence(std::int32_t seq, std::int32_t delta);
std::int32_t decrement_sequence(std::int32_t seq, std::int32_t delta);

// The producer fields of one batch header, with the offsets the batch has (or will have)
// in the log.
struct producer_batch_info {
    model::producer_id producer{-1};
    std::int16_t epoch = no_producer_epoch;
    std::int32_t base_sequence = no_sequence;
    model::offset first_offset{0};
    model::offset last_offset{0};
    model::timestamp_ms max_timestamp{-1};
    bool control = false;

    // base_sequence + (last_offset - first_offset), wrapped; no_sequence when the base is
    // negative. REQUIRES: first_offset <= last_offset <= first_offset + INT32_MAX.
    std::int32_t last_sequence() const;
};

// One retained batch (Kafka's BatchMetadata): its last sequence and offset, the offset (and
// so sequence) distance back to its first record, and its max timestamp.
struct producer_batch {
    std::int32_t last_sequence = no_sequence;
    std::int32_t offset_delta = 0;
    model::offset last_offset{-1};
    model::timestamp_ms timestamp{-1};

    std::int32_t first_sequence() const;
    model::offset first_offset() const { return last_offset - offset_delta; }
    auto operator<=>(const producer_batch&) const = default;
};

// Everything kept about one producer id (Kafka's ProducerStateEntry).
struct producer_entry {
    model::producer_id id{-1};
    std::int16_t epoch = no_producer_epoch;
    model::timestamp_ms last_timestamp{-1};
    std::int32_t coordinator_epoch = no_coordinator_epoch;
    model::offset current_txn_first_offset{-1};

    // Retained batches, oldest first (at most producer_batches_retained).
    std::span<const producer_batch> batches() const { return {batches_.data(), count_}; }
    // The newest retained batch; nullptr when none.
    const producer_batch* last_batch() const {
        return count_ == 0 ? nullptr : &batches_[count_ - 1];
    }
    // no_sequence when no batch is retained.
    std::int32_t last_sequence() const {
        return count_ == 0 ? no_sequence : batches_[count_ - 1].last_sequence;
    }
    bool has_open_txn() const { return current_txn_first_offset() >= 0; }
    // Appends to the FIFO, dropping the oldest when full.
    void add_batch(const producer_batch& b);
    void clear_batches() { count_ = 0; }

private:
    std::array<producer_batch, producer_batches_retained> batches_{};
    std::size_t count_ = 0;
};

// The answer to a retried batch: the original's offsets and (max) timestamp.
struct duplicate_batch {
    model::offset first_offset;
    model::offset last_offset;
    model::timestamp_ms timestamp;
};

// Returns true iff Kafka would expire `e` at `now`: no open transaction and
// now - last timestamp >= expiration_ms.
bool producer_expired(const producer_entry& e, model::timestamp_ms now,
                      std::int64_t expiration_ms);

class producer_state {
public:
    // REQUIRES: producers_max >= 1.
    explicit producer_state(std::size_t producers_max = limits::partition_producers_max);

    // Checks one leader batch against the state (see the header comment). Returns the
    // original batch iff `b` is a duplicate (nothing must be appended), nullopt iff it may
    // be appended, or the error. Does not change the state. REQUIRES: b.producer >= 0.
    result<std::optional<duplicate_batch>> check(const producer_batch_info& b,
                                                 append_origin origin) const;
    // Records an appended batch (leader after its append, follower, recovery replay).
    // Never refuses. REQUIRES: b.producer >= 0; b's offsets above the producer's last ones.
    void apply(const producer_batch_info& b);
    // Installs an entry read from a snapshot, replacing one with the same id.
    void load(const producer_entry& e);
    // Drops the expired entries; returns how many.
    std::size_t expire(model::timestamp_ms now, std::int64_t expiration_ms);
    void clear();

    // nullptr when the producer is unknown.
    const producer_entry* find(model::producer_id id) const;
    std::size_t size() const { return t_ ? t_->producers.size() : 0; }
    std::size_t producers_max() const { return producers_max_; }
    // Entries dropped to respect producers_max since construction.
    std::uint64_t evictions() const { return evictions_; }
    // Every entry, sorted by producer id (snapshots, DescribeProducers).
    std::vector<const producer_entry*> entries() const;

private:
    // Ordered by (has an open transaction, last timestamp, id): begin() is the eviction
    // victim and expiry walks from it.
    struct age_key {
        bool open_txn = false;
        std::int64_t timestamp = 0;
        std::int64_t id = 0;
        bool operator==(const age_key&) const = default;
        bool operator<(const age_key& o) const {
            if (open_txn != o.open_txn) {
                return !open_txn;
            }
            return timestamp != o.timestamp ? timestamp < o.timestamp : id < o.id;
        }
    };
    static age_key key_of(const producer_entry& e);
    // The entry of `id`, created (evicting when full) if missing.
    producer_entry& entry_for(model::producer_id id);
    void evict_one();
    // Moves `e`'s age key from `before` to its current value.
    void reindex(const age_key& before, const producer_entry& e);

    struct tables {
        std::unordered_map<model::producer_id, producer_entry> producers;
        std::set<age_key> by_age;
    };
    // Created by the first entry and dropped when the last one goes: most partitions never
    // see an idempotent producer, and an idle partition's empty tables cost 104 bytes.
    tables& writable();

    std::size_t producers_max_;
    std::unique_ptr<tables> t_;
    std::uint64_t evictions_ = 0;
};

// Checks the batches of one leader append in order, each against the state as the earlier
// batches of the same append would leave it (Kafka's ProducerAppendInfo), without changing
// the state. Borrows `state`, which must outlive it and not change meanwhile.
class producer_append_checker {
public:
    producer_append_checker(const producer_state& state, append_origin origin)
        : state_(state), origin_(origin) {}
    // As producer_state::check; a batch that passes is remembered for the following ones.
    result<std::optional<duplicate_batch>> check(const producer_batch_info& b);

private:
    const producer_state& state_;
    append_origin origin_;
    std::vector<producer_entry> pending_;  // producers updated by earlier batches
};

}  // namespace gregor::storage

// The log cleaner's key -> latest offset map (Kafka's SkimpyOffsetMap, reference:
// kafka-log-compaction.md §4.1), sans-IO.
//
// Fixed memory, sized to the keys it holds: one region of the byte budget is reserved once
// at construction (anonymous zero pages from mmap, or calloc under 2 MiB; nothing is
// allocated afterwards) and holds open-addressing tables of 24-byte slots (a 16-byte key
// digest and the 8-byte offset). A pass starts with a small table (64 Ki slots, 1.5 MiB, by
// default) that stays in the caches; once it is half full it is rehashed into one twice its
// size at the other end of the region, and so on. The region never holds more than the old
// and the new table at once, at its two ends, so memory never exceeds the budget, not even
// during a rehash. That bounds the largest table: with T = budget / 24 slots, tables double
// while they fit in T / 8, and the last growth goes from that table (s <= T / 8) to one of
// T - s slots, so the largest table has 7/8 to 15/16 of T (116 MiB of a 128 MiB budget with
// the default first table). Budgets with T < 8 x the first table's slots (12 MiB by
// default) get a single table of all T slots, as before. Kafka's SkimpyOffsetMap always
// uses the whole buffer for one table; ours gives up 1/16 to 1/8 of the keys a buffer can
// hold so that a pass over few keys touches 1.5 MiB instead of the whole buffer (nearly
// every lookup in a 128 MiB table misses the caches, and with 4 KiB pages the TLB).
//
// Memory touched: the pages of the tables used since the last clear() (the old table is
// zeroed after a rehash, so everything outside the current table is zero); clear() zeroes
// the current table only and goes back to the first table. The region's 2 MiB-aligned part
// is advised MADV_HUGEPAGE (big tables are probed anywhere). There are no deletes.
//
// Keys are compared by digest only, as Kafka compares them by MD5: two keys with the same
// digest are the same key to the map. The digest is XXH3-128 with a seed drawn at random
// once per process, so a producer cannot craft keys that collide (which would make the
// cleaner drop a live record) or that all land in one probe chain (which would make the
// cleaner slow). A digest that is all zeros is stored as {0, 1}, because an all-zero slot
// means empty.
//
// Probing: the first slot comes from the digest's first 8 bytes, the next 15 from further
// 64-bit hashes derived from both halves (double hashing, each mapped onto [0, slots) by a
// multiply-high, no division), then linear probing from the last one, which visits every
// slot, and at least one slot is always empty (a table below its maximum is at most half
// full, the largest one holds at most capacity() < its slots), so lookups end.
//
// Capacity (Kafka's rule, applied to the largest table): a new key is refused once
// size() >= slots() * load_factor (and never past slots() - 1), slots() being the largest
// table's; the cleaner then ends its pass at the last offset the map covers. Overwrites of
// present keys are always accepted. Value type, not copyable (the region may be large); one
// thread at a time.
#pragma once

#include "base/bytes.h"
#include "model/fundamental.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace gregor::storage {

class key_offset_map {
public:
    static constexpr std::size_t slot_bytes = 24;
    static constexpr std::size_t default_initial_slots = 64 * 1024;

    // REQUIRES: 0 < load_factor <= 1, initial_slots >= 1. A budget under 24 bytes gives a
    // map with no slots, which refuses every key (callers check capacity() >= 1 at
    // start-up, as Kafka does).
    key_offset_map(std::size_t memory_bytes, double load_factor,
                   std::size_t initial_slots = default_initial_slots);

    key_offset_map(const key_offset_map&) = delete;
    key_offset_map& operator=(const key_offset_map&) = delete;
    key_offset_map(key_offset_map&&) noexcept = default;
    key_offset_map& operator=(key_offset_map&&) noexcept = default;
    ~key_offset_map() = default;

    // A key's digest (see the file comment), computed once for a prefetch ahead of the
    // put or get that needs it.
    struct hashed_key {
        std::uint64_t lo;
        std::uint64_t hi;
    };
    static hashed_key hash(bytes_view key);
    // Starts loading the slot where a lookup of `k` begins (a hint: the table may grow
    // before the lookup).
    void prefetch(const hashed_key& k) const;

    // Records `o` as the latest offset of `key` (an existing key's offset is overwritten).
    // Returns false, inserting nothing, when `key` is new and the map is full.
    bool put(bytes_view key, model::offset o) { return put(hash(key), o); }
    bool put(const hashed_key& k, model::offset o);
    // The offset last put for `key`, or -1 when the key is not in the map.
    model::offset get(bytes_view key) const {
        return size_ == 0 ? model::no_offset : get(hash(key));
    }
    model::offset get(const hashed_key& k) const;

    std::size_t size() const { return size_; }
    // Slots of the largest table (see the file comment).
    std::size_t slots() const { return max_slots_; }
    // Slots of the current table (grows with size(), back to the first table on clear()).
    std::size_t table_slots() const { return table_slots_; }
    // Bytes reserved at construction, never more than the budget.
    std::size_t reserved_bytes() const { return region_.get_deleter().bytes; }
    // The most keys the map accepts: min(floor(slots * load_factor), slots - 1).
    std::size_t capacity() const { return capacity_; }
    // size() / slots() (0 for a map without slots).
    double utilization() const;
    bool full() const { return size_ >= capacity_; }

    // The offsets the map holds, ascending, while the current table is not the largest
    // (the tables touched so far then take at most 3/16 of the budget, and the list, 8
    // bytes a key, fits beside them); nullopt once it is. The cleaner uses it to drop a
    // batch that holds no key's latest record without decompressing it.
    std::optional<std::vector<model::offset>> held_offsets() const;

    // Empties the map, goes back to the first table and resets latest_offset() to -1,
    // keeping the region.
    void clear();

    // The last offset the map covers (the cleaner's endOffset - 1), -1 initially.
    model::offset latest_offset() const { return latest_offset_; }
    void update_latest_offset(model::offset o) { latest_offset_ = o; }

private:
    struct slot {
        std::uint64_t lo;
        std::uint64_t hi;
        std::int64_t offset;
    };
    static_assert(sizeof(slot) == slot_bytes);
    // No default member initializers: unique_ptr value-initializes it (to zeros).
    struct region_deleter {
        std::size_t bytes;
        bool mapped;  // mmap'd (else calloc'd)
        void operator()(slot* p) const;
    };
    using digest = hashed_key;
    // The slot of `table` (of `n` slots) holding `d`, or the empty slot where it would go.
    static slot* find(slot* table, std::size_t n, const digest& d);
    // The slots of the table that follows one of `n` slots.
    std::size_t next_table_slots(std::size_t n) const;
    // Moves to the first table, at the region's low end.
    void use_first_table();
    // Rehashes the current table into the next one, at the other end of the region.
    void grow();

    std::unique_ptr<slot, region_deleter> region_;
    std::size_t region_slots_ = 0;
    std::size_t initial_slots_ = 0;
    std::size_t max_slots_ = 0;
    std::size_t capacity_ = 0;
    slot* table_ = nullptr;  // inside region_, at its low or high end
    std::size_t table_slots_ = 0;
    bool table_high_ = false;
    std::size_t grow_at_ = 0;  // size() at which the current table grows
    std::size_t size_ = 0;
    model::offset latest_offset_ = model::no_offset;
};

}  // namespace gregor::storage

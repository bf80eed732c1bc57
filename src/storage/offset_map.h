// The log cleaner's key -> latest offset map (Kafka's SkimpyOffsetMap, reference:
// kafka-log-compaction.md §4.1), sans-IO.
//
// Fixed memory: one flat open-addressing table of 24-byte slots (a 16-byte key digest and
// the 8-byte offset), slots = memory_bytes / 24, allocated once at construction (zeroed
// pages, so an unused part of a big table costs no resident memory; its 2 MiB-aligned part
// is advised MADV_HUGEPAGE, since lookups land anywhere and would miss the TLB with 4 KiB
// pages); nothing is allocated afterwards, and clear() reuses the table for the next pass.
// There are no deletes.
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
// slot, and at least one slot is always empty (capacity() < slots()), so lookups end.
//
// Capacity (Kafka's rule): a new key is refused once size() >= slots() * load_factor (and
// never past slots() - 1); the cleaner then ends its pass at the last offset the map
// covers. Overwrites of present keys are always accepted. Value type, not copyable (the
// table may be large); one thread at a time.
#pragma once

#include "base/bytes.h"
#include "model/fundamental.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace gregor::storage {

class key_offset_map {
public:
    static constexpr std::size_t slot_bytes = 24;

    // REQUIRES: 0 < load_factor <= 1. A budget under 24 bytes gives a map with no slots,
    // which refuses every key (callers check capacity() >= 1 at start-up, as Kafka does).
    key_offset_map(std::size_t memory_bytes, double load_factor);

    key_offset_map(const key_offset_map&) = delete;
    key_offset_map& operator=(const key_offset_map&) = delete;
    key_offset_map(key_offset_map&&) noexcept = default;
    key_offset_map& operator=(key_offset_map&&) noexcept = default;
    ~key_offset_map() = default;

    // Records `o` as the latest offset of `key` (an existing key's offset is overwritten).
    // Returns false, inserting nothing, when `key` is new and the map is full.
    bool put(bytes_view key, model::offset o);
    // The offset last put for `key`, or -1 when the key is not in the map.
    model::offset get(bytes_view key) const;

    std::size_t size() const { return size_; }
    std::size_t slots() const { return slots_; }
    // The most keys the map accepts: min(floor(slots * load_factor), slots - 1).
    std::size_t capacity() const { return capacity_; }
    // size() / slots() (0 for a map without slots).
    double utilization() const;
    bool full() const { return size_ >= capacity_; }

    // Empties the map and resets latest_offset() to -1, keeping the memory.
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
    struct free_deleter {
        void operator()(slot* p) const { std::free(p); }  // NOLINT: calloc'd
    };
    struct digest {
        std::uint64_t lo;
        std::uint64_t hi;
    };
    static digest digest_of(bytes_view key);
    // The slot holding `d`, or the empty slot where it would go.
    slot* find(const digest& d) const;

    std::unique_ptr<slot, free_deleter> table_;
    std::size_t slots_ = 0;
    std::size_t capacity_ = 0;
    std::size_t size_ = 0;
    model::offset latest_offset_ = model::no_offset;
};

}  // namespace gregor::storage

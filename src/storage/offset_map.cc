#include "storage/offset_map.h"

#include "base/assert.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <sys/mman.h>
#include <xxhash.h>

namespace gregor::storage {
namespace {

// Probes that use independent hash positions before linear probing takes over.
constexpr std::uint64_t hashed_probes = 16;

// The per-process digest seed, drawn once.
std::uint64_t digest_seed() {
    static const std::uint64_t seed = [] {
        std::random_device rd;
        return (std::uint64_t{rd()} << 32) | std::uint64_t{rd()};
    }();
    return seed;
}

// Maps a 64-bit hash onto [0, n) without a division (Lemire's multiply-high).
std::size_t slot_of(std::uint64_t h, std::size_t n) {
    return static_cast<std::size_t>((static_cast<unsigned __int128>(h) * n) >> 64);
}

// Asks for huge pages over the 2 MiB-aligned part of a table. Lookups land anywhere in it,
// and with 4 KiB pages nearly every one misses the TLB (a 128 MiB map spans 32,768 pages);
// with 2 MiB pages the whole table fits the TLB. Advice only (THP may be off): errors are
// ignored.
void advise_huge_pages(void* table, std::size_t bytes) {
    constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
    const auto at = reinterpret_cast<std::uintptr_t>(table);  // NOLINT: address arithmetic
    const auto begin = (at + huge - 1) & ~(huge - 1);
    const auto end = (at + bytes) & ~(huge - 1);
    if (end > begin) {
        ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // NOLINT
    }
}

}  // namespace

key_offset_map::key_offset_map(std::size_t memory_bytes, double load_factor)
    : slots_(memory_bytes / slot_bytes) {
    GREGOR_ASSERT(load_factor > 0 && load_factor <= 1, "load factor {}", load_factor);
    const auto by_factor = static_cast<std::size_t>(static_cast<double>(slots_) * load_factor);
    capacity_ = slots_ == 0 ? 0 : std::min(by_factor, slots_ - 1);
    if (slots_ > 0) {
        // calloc: zeroed (= empty) slots, and a big table's pages stay untouched until used.
        table_.reset(static_cast<slot*>(std::calloc(slots_, sizeof(slot))));  // NOLINT
        GREGOR_ASSERT(table_ != nullptr, "offset map of {} bytes: out of memory", memory_bytes);
        advise_huge_pages(table_.get(), slots_ * sizeof(slot));
    }
}

key_offset_map::digest key_offset_map::digest_of(bytes_view key) {
    const XXH128_hash_t h = XXH3_128bits_withSeed(key.data(), key.size(), digest_seed());
    digest d{h.low64, h.high64};
    if (d.lo == 0 && d.hi == 0) {
        d.hi = 1;  // all zeros means an empty slot
    }
    return d;
}

key_offset_map::slot* key_offset_map::find(const digest& d) const {
    slot* const table = table_.get();
    // Odd step: successive hashed probes differ in their low bits too.
    const std::uint64_t step = d.hi | 1U;
    std::uint64_t h = d.lo;
    std::size_t i = slot_of(h, slots_);
    for (std::uint64_t attempt = 0;; ++attempt) {
        slot* s = table + i;
        if ((s->lo == d.lo && s->hi == d.hi) || (s->lo == 0 && s->hi == 0)) {
            return s;
        }
        if (attempt + 1 < hashed_probes) {
            h += step;
            i = slot_of(h, slots_);
        } else {
            i = i + 1 == slots_ ? 0 : i + 1;
        }
    }
}

bool key_offset_map::put(bytes_view key, model::offset o) {
    if (slots_ == 0) {
        return false;
    }
    const digest d = digest_of(key);
    slot* s = find(d);
    if (s->lo == 0 && s->hi == 0) {
        if (size_ >= capacity_) {
            return false;
        }
        s->lo = d.lo;
        s->hi = d.hi;
        ++size_;
    }
    s->offset = o();
    return true;
}

model::offset key_offset_map::get(bytes_view key) const {
    if (size_ == 0) {
        return model::no_offset;
    }
    const slot* s = find(digest_of(key));
    if (s->lo == 0 && s->hi == 0) {
        return model::no_offset;
    }
    return model::offset{s->offset};
}

double key_offset_map::utilization() const {
    return slots_ == 0 ? 0.0 : static_cast<double>(size_) / static_cast<double>(slots_);
}

void key_offset_map::clear() {
    if (size_ > 0) {
        std::memset(table_.get(), 0, slots_ * sizeof(slot));
    }
    size_ = 0;
    latest_offset_ = model::no_offset;
}

}  // namespace gregor::storage

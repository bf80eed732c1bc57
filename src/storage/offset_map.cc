#include "storage/offset_map.h"

#include "base/assert.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sys/mman.h>
#include <unistd.h>
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

// A table grows once it is half full: probes then rarely go past the first slot.
constexpr double grow_load = 0.5;

// Budgets from here on are mmap'd (2 MiB-aligned, whole pages within the budget); smaller
// ones are calloc'd.
constexpr std::size_t mmap_bytes_min = std::size_t{2} << 20;

// An mmap'd region of `bytes` (a page multiple) starting on a 2 MiB boundary, so huge pages
// can back all of it: the mapping is made 2 MiB longer, then cut to size (the extra is
// address space only, never memory). nullptr when out of address space.
void* map_aligned(std::size_t bytes) {
    constexpr std::size_t huge = std::size_t{2} << 20;
    const std::size_t len = bytes + huge;
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE,  // NOLINT
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {  // NOLINT
        return nullptr;
    }
    const auto at = reinterpret_cast<std::uintptr_t>(p);  // NOLINT: address arithmetic
    const auto begin = (at + huge - 1) & ~(std::uintptr_t{huge} - 1);
    if (begin > at) {
        ::munmap(p, begin - at);
    }
    const auto end = begin + bytes;
    if (at + len > end) {
        ::munmap(reinterpret_cast<void*>(end), at + len - end);  // NOLINT
    }
    return reinterpret_cast<void*>(begin);  // NOLINT
}

}  // namespace

void key_offset_map::region_deleter::operator()(slot* p) const {
    if (mapped) {
        ::munmap(p, bytes);
    } else {
        std::free(p);  // NOLINT: calloc'd
    }
}

key_offset_map::key_offset_map(std::size_t memory_bytes, double load_factor,
                               std::size_t initial_slots) {
    GREGOR_ASSERT(load_factor > 0 && load_factor <= 1, "load factor {}", load_factor);
    GREGOR_ASSERT(initial_slots >= 1, "offset map: no first table");
    region_deleter region{0, false};
    if (memory_bytes >= mmap_bytes_min) {
        const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        region_slots_ = memory_bytes / page * page / slot_bytes;
        region.bytes = (region_slots_ * slot_bytes + page - 1) / page * page;
        region.mapped = true;
        region_.reset(static_cast<slot*>(map_aligned(region.bytes)));
    } else {
        region_slots_ = memory_bytes / slot_bytes;
        region.bytes = region_slots_ * slot_bytes;
        if (region_slots_ > 0) {
            // calloc: zeroed (= empty) slots.
            region_.reset(static_cast<slot*>(std::calloc(region_slots_, slot_bytes)));  // NOLINT
        }
    }
    GREGOR_ASSERT(region_slots_ == 0 || region_ != nullptr, "offset map of {} bytes: out of memory",
                  memory_bytes);
    region_.get_deleter() = region;
    if (region.mapped) {
        advise_huge_pages(region_.get(), region.bytes);
    }
    // The first table, then doubling while a table fits in an eighth of the region, then
    // the rest of the region beside the last of those.
    initial_slots_ = region_slots_;
    max_slots_ = region_slots_;
    if (initial_slots <= region_slots_ / 8) {
        initial_slots_ = initial_slots;
        std::size_t s = initial_slots;
        while (2 * s <= region_slots_ / 8) {
            s *= 2;
        }
        max_slots_ = region_slots_ - s;
    }
    const auto by_factor = static_cast<std::size_t>(static_cast<double>(max_slots_) * load_factor);
    capacity_ = max_slots_ == 0 ? 0 : std::min(by_factor, max_slots_ - 1);
    use_first_table();
}

std::size_t key_offset_map::next_table_slots(std::size_t n) const {
    return 2 * n <= region_slots_ / 8 ? 2 * n : region_slots_ - n;
}

void key_offset_map::use_first_table() {
    table_ = region_.get();
    table_slots_ = initial_slots_;
    table_high_ = false;
    grow_at_ = table_slots_ == max_slots_
                   ? std::numeric_limits<std::size_t>::max()
                   : static_cast<std::size_t>(static_cast<double>(table_slots_) * grow_load);
}

void key_offset_map::grow() {
    const std::size_t n = next_table_slots(table_slots_);
    slot* const old = table_;
    const std::size_t old_slots = table_slots_;
    // The other end of the region: [0, n) or [region - n, region), disjoint from the old
    // table (next_table_slots keeps old + new <= region) and zero, as everything outside
    // the current table is.
    slot* const next = table_high_ ? region_.get() : region_.get() + (region_slots_ - n);
    for (std::size_t i = 0; i < old_slots; ++i) {
        const slot& s = old[i];
        if (s.lo != 0 || s.hi != 0) {
            *find(next, n, digest{s.lo, s.hi}) = s;
        }
    }
    std::memset(old, 0, old_slots * sizeof(slot));
    table_ = next;
    table_slots_ = n;
    table_high_ = !table_high_;
    grow_at_ = n == max_slots_ ? std::numeric_limits<std::size_t>::max()
                               : static_cast<std::size_t>(static_cast<double>(n) * grow_load);
}

key_offset_map::hashed_key key_offset_map::hash(bytes_view key) {
    const XXH128_hash_t h = XXH3_128bits_withSeed(key.data(), key.size(), digest_seed());
    digest d{h.low64, h.high64};
    if (d.lo == 0 && d.hi == 0) {
        d.hi = 1;  // all zeros means an empty slot
    }
    return d;
}

key_offset_map::slot* key_offset_map::find(slot* table, std::size_t n, const digest& d) {
    // Odd step: successive hashed probes differ in their low bits too.
    const std::uint64_t step = d.hi | 1U;
    std::uint64_t h = d.lo;
    std::size_t i = slot_of(h, n);
    for (std::uint64_t attempt = 0;; ++attempt) {
        slot* s = table + i;
        if ((s->lo == d.lo && s->hi == d.hi) || (s->lo == 0 && s->hi == 0)) {
            return s;
        }
        if (attempt + 1 < hashed_probes) {
            h += step;
            i = slot_of(h, n);
        } else {
            i = i + 1 == n ? 0 : i + 1;
        }
    }
}

void key_offset_map::prefetch(const hashed_key& k) const {
    if (table_slots_ > 0) {
        // Both ends: a 24-byte slot may straddle two cache lines.
        const auto* s =
            reinterpret_cast<const char*>(table_ + slot_of(k.lo, table_slots_));  // NOLINT
        __builtin_prefetch(s);
        __builtin_prefetch(s + sizeof(slot) - 1);  // NOLINT: pointer arithmetic
    }
}

bool key_offset_map::put(const hashed_key& d, model::offset o) {
    if (max_slots_ == 0) {
        return false;
    }
    slot* s = find(table_, table_slots_, d);
    if (s->lo == 0 && s->hi == 0) {
        if (size_ >= capacity_) {
            return false;
        }
        if (size_ >= grow_at_) {
            grow();
            s = find(table_, table_slots_, d);
        }
        s->lo = d.lo;
        s->hi = d.hi;
        ++size_;
    }
    s->offset = o();
    return true;
}

model::offset key_offset_map::get(const hashed_key& k) const {
    if (size_ == 0) {
        return model::no_offset;
    }
    const slot* s = find(table_, table_slots_, k);
    if (s->lo == 0 && s->hi == 0) {
        return model::no_offset;
    }
    return model::offset{s->offset};
}

std::optional<std::vector<model::offset>> key_offset_map::held_offsets() const {
    const std::size_t need = table_slots_ * slot_bytes + size_ * sizeof(std::int64_t);
    if (table_slots_ == max_slots_ || need > reserved_bytes()) {
        return std::nullopt;
    }
    std::vector<model::offset> out;
    out.reserve(size_);
    for (std::size_t i = 0; i < table_slots_; ++i) {
        const slot& s = table_[i];
        if (s.lo != 0 || s.hi != 0) {
            out.emplace_back(s.offset);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

double key_offset_map::utilization() const {
    return max_slots_ == 0 ? 0.0 : static_cast<double>(size_) / static_cast<double>(max_slots_);
}

void key_offset_map::clear() {
    if (size_ > 0) {
        std::memset(table_, 0, table_slots_ * sizeof(slot));
    }
    size_ = 0;
    latest_offset_ = model::no_offset;
    use_first_table();
}

}  // namespace gregor::storage

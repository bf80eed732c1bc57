#include "storage/index_file.h"

#include "storage/endian.h"
#include "storage/errc.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace gregor::storage {

using detail::load_be32;
using detail::load_be64;
using detail::store_be32;
using detail::store_be64;

index_file::index_file(file_system& fs, path_fn name, const void* owner, std::size_t entry_bytes,
                       std::size_t max_bytes)
    : fs_(fs),
      path_(name),
      owner_(owner),
      entry_bytes_(static_cast<std::uint32_t>(entry_bytes)),
      max_bytes_(static_cast<std::uint32_t>(std::min<std::size_t>(max_bytes, UINT32_MAX) /
                                            entry_bytes * entry_bytes)) {
    GREGOR_ASSERT(max_bytes_ >= entry_bytes_, "index max bytes {} below one entry", max_bytes);
}

result<void> index_file::ensure_open() {
    if (!file_) {
        GREGOR_TRY(file_, fs_.open(path(), open_mode::create));
    }
    return ok();
}

result<void> index_file::create() {
    GREGOR_TRY(auto f, fs_.open(path(), open_mode::create));
    GREGOR_TRY(auto size, f->size());
    if (size > 0) {
        GREGOR_TRY_VOID(f->truncate(0));
    }
    file_.reset();  // the active entries live in buffer_ until seal()
    unsynced_ = false;
    dirty_ = false;  // empty, as its entries are
    active_ = true;
    buffer_.clear();
    written_bytes_ = 0;
    mapping_.reset();
    return ok();
}

result<void> index_file::open_active() {
    GREGOR_TRY(auto f, fs_.open(path(), open_mode::create));
    GREGOR_TRY(auto size, f->size());
    if (size % entry_bytes_ != 0 || size > max_bytes_) {
        return error(errc::corrupt_index, fmt::format("{}: size {}", path(), size));
    }
    buffer_.assign(static_cast<std::size_t>(size), 0);
    GREGOR_TRY(auto n, f->read_at(0, buffer_));
    buffer_.resize(n / entry_bytes_ * entry_bytes_);
    written_bytes_ = static_cast<std::uint32_t>(buffer_.size());
    file_.reset();
    unsynced_ = false;  // active entries need no fsync: recovery rebuilds them
    dirty_ = n != size;  // else the file is the entries, trimmed: nothing to write at seal
    active_ = true;
    mapping_.reset();
    return ok();
}

std::size_t index_file::entry_count() {
    auto e = entries();
    return e ? e->size() / entry_bytes_ : 0;
}

void index_file::append(bytes_view entry) {
    GREGOR_ASSERT(active_, "append to sealed index {}", path());
    GREGOR_ASSERT(entry.size() == entry_bytes_ && !full(), "bad index append to {}", path());
    buffer_.insert(buffer_.end(), entry.begin(), entry.end());
    dirty_ = true;
}

void index_file::truncate_entries(std::size_t count) {
    GREGOR_ASSERT(active_, "truncate of sealed index {}", path());
    auto bytes_kept = count * entry_bytes_;
    if (bytes_kept < buffer_.size()) {
        buffer_.resize(bytes_kept);
        dirty_ = true;
    }
    written_bytes_ =
        static_cast<std::uint32_t>(std::min<std::size_t>(written_bytes_, buffer_.size()));
}

result<bytes_view> index_file::entries() {
    if (active_) {
        return bytes_view(buffer_);
    }
    if (!mapping_) {
        GREGOR_TRY_VOID(ensure_open());
        GREGOR_TRY(auto size, file_->size());
        if (size % entry_bytes_ != 0 || size > max_bytes_) {
            return error(errc::corrupt_index, fmt::format("{}: size {}", path(), size));
        }
        GREGOR_TRY(mapping_, file_->map_readonly(size));
        if (!unsynced_) {
            file_.reset();  // a mapping outlives its descriptor, as Kafka's indexes do
        }
    }
    return mapping_->data();
}

result<void> index_file::write_pending() {
    if (!active_ || written_bytes_ == buffer_.size()) {
        return ok();
    }
    GREGOR_TRY_VOID(ensure_open());
    bytes_view pending(buffer_.data() + written_bytes_, buffer_.size() - written_bytes_);
    GREGOR_TRY_VOID(file_->write_at(written_bytes_, pending));
    written_bytes_ = static_cast<std::uint32_t>(buffer_.size());
    unsynced_ = true;
    return ok();
}

std::shared_ptr<file> index_file::take_unsynced() {
    if (!unsynced_) {
        return nullptr;
    }
    unsynced_ = false;
    return std::move(file_);
}

result<std::shared_ptr<file>> index_file::file_to_sync_again() {
    if (auto f = take_unsynced()) {
        return f;
    }
    if (active_) {
        return std::shared_ptr<file>{};
    }
    auto f = fs_.open(path(), open_mode::read_write);
    if (!f && f.err().code == make_error_code(errc::not_found)) {
        return std::shared_ptr<file>{};  // never written (rebuilt on first lookup): nothing to sync
    }
    return f;
}

result<void> index_file::seal() {
    if (!active_) {
        return ok();
    }
    if (!dirty_) {
        active_ = false;
        buffer_ = bytes{};
        written_bytes_ = 0;
        return ok();
    }
    GREGOR_TRY_VOID(ensure_open());
    // Trim first (a file an older version preallocated, or entries dropped): a stale entry
    // beyond the trimmed size could otherwise reappear if the file were later grown again.
    GREGOR_TRY_VOID(file_->truncate(buffer_.size()));
    unsynced_ = true;
    written_bytes_ =
        static_cast<std::uint32_t>(std::min<std::size_t>(written_bytes_, buffer_.size()));
    GREGOR_TRY_VOID(write_pending());
    active_ = false;
    dirty_ = false;
    buffer_ = bytes{};
    written_bytes_ = 0;
    return ok();
}

result<void> index_file::reactivate() {
    if (active_) {
        return ok();
    }
    mapping_.reset();
    return open_active();
}

result<void> index_file::replace(bytes entries_bytes) {
    GREGOR_ASSERT(entries_bytes.size() % entry_bytes_ == 0, "partial entries for {}", path());
    bool was_active = active_;
    GREGOR_TRY_VOID(create());
    buffer_ = std::move(entries_bytes);
    if (buffer_.size() > max_bytes_) {
        buffer_.resize(max_bytes_);
    }
    if (!was_active) {
        return seal();
    }
    return ok();
}

namespace offset_index {

std::array<std::uint8_t, entry_bytes> encode(model::offset base, model::offset last_offset,
                                             std::uint64_t position) {
    auto rel = last_offset() - base();
    GREGOR_ASSERT(rel >= 0 && rel <= INT32_MAX, "relative offset {} out of range", rel);
    GREGOR_ASSERT(position <= INT32_MAX, "index position {} out of range", position);
    std::array<std::uint8_t, entry_bytes> out{};
    store_be32(out.data(), static_cast<std::uint32_t>(rel));
    store_be32(out.data() + 4, static_cast<std::uint32_t>(position));
    return out;
}

offset_position entry_at(bytes_view entries, model::offset base, std::size_t i) {
    const auto* p = entries.data() + i * entry_bytes;
    return {base + static_cast<std::int64_t>(load_be32(p)), load_be32(p + 4)};
}

offset_position lookup(bytes_view entries, model::offset base, model::offset target) {
    std::size_t lo = 0;
    std::size_t hi = entries.size() / entry_bytes;
    // Invariant: entries [0, lo) have offset <= target; [hi, n) have offset > target.
    while (lo < hi) {
        auto mid = lo + (hi - lo) / 2;
        if (entry_at(entries, base, mid).offset <= target) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return {base, 0};
    }
    return entry_at(entries, base, lo - 1);
}

bool sane(bytes_view entries, model::offset base, std::uint64_t log_size) {
    if (entries.size() % entry_bytes != 0) {
        return false;
    }
    auto n = entries.size() / entry_bytes;
    for (std::size_t i = 0; i < n; ++i) {
        auto e = entry_at(entries, base, i);
        if (e.position >= log_size && log_size > 0) {
            return false;
        }
        if (i > 0) {
            auto prev = entry_at(entries, base, i - 1);
            if (e.offset <= prev.offset || e.position <= prev.position) {
                return false;
            }
        }
    }
    return true;
}

}  // namespace offset_index

namespace time_index {

std::array<std::uint8_t, entry_bytes> encode(model::offset base, model::timestamp_ms ts,
                                             model::offset off) {
    auto rel = off() - base();
    GREGOR_ASSERT(rel >= 0 && rel <= INT32_MAX, "relative offset {} out of range", rel);
    std::array<std::uint8_t, entry_bytes> out{};
    store_be64(out.data(), static_cast<std::uint64_t>(ts()));
    store_be32(out.data() + 8, static_cast<std::uint32_t>(rel));
    return out;
}

timestamp_offset entry_at(bytes_view entries, model::offset base, std::size_t i) {
    const auto* p = entries.data() + i * entry_bytes;
    return {model::timestamp_ms(static_cast<std::int64_t>(load_be64(p))),
            base + static_cast<std::int64_t>(load_be32(p + 8))};
}

timestamp_offset lookup(bytes_view entries, model::offset base, model::timestamp_ms target) {
    std::size_t lo = 0;
    std::size_t hi = entries.size() / entry_bytes;
    while (lo < hi) {
        auto mid = lo + (hi - lo) / 2;
        if (entry_at(entries, base, mid).timestamp <= target) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return {model::timestamp_ms(-1), base};
    }
    return entry_at(entries, base, lo - 1);
}

std::optional<timestamp_offset> last(bytes_view entries, model::offset base) {
    auto n = entries.size() / entry_bytes;
    if (n == 0) {
        return std::nullopt;
    }
    return entry_at(entries, base, n - 1);
}

bool sane(bytes_view entries, model::offset base) {
    if (entries.size() % entry_bytes != 0) {
        return false;
    }
    auto n = entries.size() / entry_bytes;
    for (std::size_t i = 1; i < n; ++i) {
        auto prev = entry_at(entries, base, i - 1);
        auto e = entry_at(entries, base, i);
        if (e.timestamp <= prev.timestamp || e.offset < prev.offset) {
            return false;
        }
    }
    return true;
}

}  // namespace time_index
}  // namespace gregor::storage

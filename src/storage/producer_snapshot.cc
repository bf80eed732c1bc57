#include "storage/producer_snapshot.h"

#include "base/crc32c.h"
#include "storage/endian.h"
#include "storage/errc.h"

#include <fmt/format.h>

#include <string_view>

namespace gregor::storage {
namespace {

constexpr std::size_t snapshot_crc_at = 2;
constexpr std::size_t snapshot_count_at = 6;

// One entry as stored, before any validation.
struct raw_snapshot_entry {
    std::int64_t producer_id = 0;
    std::int16_t epoch = 0;
    std::int32_t last_sequence = 0;
    std::int64_t last_offset = 0;
    std::int32_t offset_delta = 0;
    std::int64_t timestamp = 0;
    std::int32_t coordinator_epoch = 0;
    std::int64_t txn_first_offset = 0;
};

std::uint16_t snapshot_load16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void snapshot_store16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

raw_snapshot_entry parse_snapshot_entry(const std::uint8_t* p) {
    raw_snapshot_entry r;
    r.producer_id = static_cast<std::int64_t>(detail::load_be64(p));
    r.epoch = static_cast<std::int16_t>(snapshot_load16(p + 8));
    r.last_sequence = static_cast<std::int32_t>(detail::load_be32(p + 10));
    r.last_offset = static_cast<std::int64_t>(detail::load_be64(p + 14));
    r.offset_delta = static_cast<std::int32_t>(detail::load_be32(p + 22));
    r.timestamp = static_cast<std::int64_t>(detail::load_be64(p + 26));
    r.coordinator_epoch = static_cast<std::int32_t>(detail::load_be32(p + 34));
    r.txn_first_offset = static_cast<std::int64_t>(detail::load_be64(p + 38));
    return r;
}

void write_snapshot_entry(std::uint8_t* p, const producer_entry& e) {
    const auto* last = e.last_batch();
    detail::store_be64(p, static_cast<std::uint64_t>(e.id()));
    snapshot_store16(p + 8, static_cast<std::uint16_t>(e.epoch));
    detail::store_be32(p + 10, static_cast<std::uint32_t>(e.last_sequence()));
    detail::store_be64(p + 14, static_cast<std::uint64_t>(last ? last->last_offset() : -1));
    detail::store_be32(p + 22, static_cast<std::uint32_t>(last ? last->offset_delta : 0));
    detail::store_be64(p + 26, static_cast<std::uint64_t>(e.last_timestamp()));
    detail::store_be32(p + 34, static_cast<std::uint32_t>(e.coordinator_epoch));
    detail::store_be64(p + 38, static_cast<std::uint64_t>(e.current_txn_first_offset()));
}

error snapshot_damage(std::string_view why) {
    return error(errc::corrupt_snapshot, std::string(why));
}

// The values a writer (Kafka or ours) can produce; anything else is damage. Any epoch can:
// replication records whatever a batch header carries.
result<void> check_snapshot_entry(const raw_snapshot_entry& r, model::offset end) {
    bool has_batch = r.last_offset >= 0;
    bool sane = r.producer_id >= 0 && r.last_offset >= -1 &&
                r.last_offset < end() && r.coordinator_epoch >= no_coordinator_epoch &&
                r.txn_first_offset >= -1 && r.txn_first_offset < end();
    if (has_batch) {
        sane = sane && r.last_sequence >= no_sequence && r.offset_delta >= 0 &&
               r.offset_delta <= r.last_offset;
    } else {
        sane = sane && r.last_sequence == no_sequence && r.offset_delta == 0;
    }
    if (!sane) {
        return snapshot_damage(
            fmt::format("entry of producer {}: epoch {} last sequence {} last offset {} delta {} "
                        "coordinator epoch {} transaction start {} (snapshot at {})",
                        r.producer_id, r.epoch, r.last_sequence, r.last_offset, r.offset_delta,
                        r.coordinator_epoch, r.txn_first_offset, end));
    }
    return ok();
}

producer_entry to_producer_entry(const raw_snapshot_entry& r) {
    producer_entry e;
    e.id = model::producer_id(r.producer_id);
    e.epoch = r.epoch;
    e.last_timestamp = model::timestamp_ms(r.timestamp);
    e.coordinator_epoch = r.coordinator_epoch;
    e.current_txn_first_offset = model::offset(r.txn_first_offset);
    if (r.last_offset >= 0) {
        e.add_batch({r.last_sequence, r.offset_delta, model::offset(r.last_offset),
                     model::timestamp_ms(r.timestamp)});
    }
    return e;
}

// Checks the header; returns the entry count.
result<std::size_t> check_snapshot_header(bytes_view data) {
    if (data.size() < producer_snapshot_header_bytes) {
        return snapshot_damage(fmt::format("{} bytes, shorter than the header", data.size()));
    }
    auto version = static_cast<std::int16_t>(snapshot_load16(data.data()));
    if (version != producer_snapshot_version) {
        return snapshot_damage(fmt::format("version {}", version));
    }
    auto body = data.size() - producer_snapshot_header_bytes;
    auto count = static_cast<std::int32_t>(detail::load_be32(data.data() + snapshot_count_at));
    if (count < 0 || body % producer_snapshot_entry_bytes != 0 ||
        body / producer_snapshot_entry_bytes != static_cast<std::size_t>(count)) {
        return snapshot_damage(
            fmt::format("count {} does not match {} bytes of entries", count, body));
    }
    auto stored = detail::load_be32(data.data() + snapshot_crc_at);
    auto computed = crc32c(data.subspan(snapshot_count_at));
    if (stored != computed) {
        return snapshot_damage(fmt::format("crc {:08x}, computed {:08x}", stored, computed));
    }
    return static_cast<std::size_t>(count);
}

}  // namespace

bytes encode_producer_snapshot(const producer_state& state) {
    auto entries = state.entries();
    bytes out(producer_snapshot_header_bytes + entries.size() * producer_snapshot_entry_bytes);
    snapshot_store16(out.data(), static_cast<std::uint16_t>(producer_snapshot_version));
    detail::store_be32(out.data() + snapshot_count_at, static_cast<std::uint32_t>(entries.size()));
    auto* p = out.data() + producer_snapshot_header_bytes;
    for (const auto* e : entries) {
        write_snapshot_entry(p, *e);
        p += producer_snapshot_entry_bytes;
    }
    GREGOR_ASSERT(p == out.data() + out.size(), "snapshot encoding size");
    detail::store_be32(out.data() + snapshot_crc_at,
                       crc32c(bytes_view(out).subspan(snapshot_count_at)));
    return out;
}

result<std::size_t> decode_producer_snapshot(
    bytes_view data, model::offset end_offset,
    const std::function<void(const producer_entry&)>& on_entry) {
    GREGOR_TRY(auto count, check_snapshot_header(data));
    const auto* first = data.data() + producer_snapshot_header_bytes;
    for (std::size_t i = 0; i < count; ++i) {
        auto raw = parse_snapshot_entry(first + i * producer_snapshot_entry_bytes);
        GREGOR_TRY_VOID(check_snapshot_entry(raw, end_offset));
    }
    for (std::size_t i = 0; i < count; ++i) {
        on_entry(to_producer_entry(parse_snapshot_entry(first + i * producer_snapshot_entry_bytes)));
    }
    return count;
}

}  // namespace gregor::storage

// Value types that appear in Kafka messages besides plain integers and strings: uuid,
// tagged_field (an unknown tagged field kept verbatim) and records_ref (a record set that a
// message carries without owning it).
//
// records_ref is the zero-copy hook. A decoded message's records point into the frame it was
// decoded from, so the caller keeps that frame alive while the message is used. On encode the
// writer does not copy records either: it splices the reference into its output so the
// network layer hands the bytes to writev as they are. `owner` optionally keeps the bytes
// alive (a shared buffer, later a segment slice). Value types; any thread.
#pragma once

#include "base/bytes.h"

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>

namespace gregor::protocol {

struct uuid {
    std::array<std::uint8_t, 16> bytes{};

    bool is_zero() const {
        return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
    }
    auto operator<=>(const uuid&) const = default;
};

// A tagged field this code does not know (or not in this version): kept and re-emitted.
struct tagged_field {
    std::uint32_t tag = 0;
    bytes data;

    bool operator==(const tagged_field&) const = default;
};

class records_ref {
public:
    records_ref() = default;
    // `data` must stay valid while this reference (or a copy) is in use, unless `owner`
    // keeps it alive.
    explicit records_ref(bytes_view data, std::shared_ptr<const void> owner = {})
        : data_(data), owner_(std::move(owner)) {}

    // A reference that owns a copy of `data` (tests, small payloads).
    static records_ref copy_of(bytes_view data) {
        auto owned = std::make_shared<const bytes>(data.begin(), data.end());
        bytes_view view(*owned);
        return records_ref(view, std::move(owned));
    }

    bytes_view data() const { return data_; }
    std::size_t size() const { return data_.size(); }

    // Equal iff the bytes are equal, wherever they live.
    bool operator==(const records_ref& other) const {
        return std::equal(data_.begin(), data_.end(), other.data_.begin(), other.data_.end());
    }

private:
    bytes_view data_;
    std::shared_ptr<const void> owner_;
};

}  // namespace gregor::protocol

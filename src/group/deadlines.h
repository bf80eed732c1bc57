// deadline_index: the group state machine's timers as data, ordered by time.
//
// Kafka keeps these as purgatory operations (DelayedHeartbeat, DelayedJoin,
// InitialDelayedJoin, DelayedSync, the KIP-394 pending-member expiry). Here each is an
// entry (group id, kind, member id) -> deadline with exactly one entry per armed timer, so
// the earliest deadline is one lookup and cancelling is exact (no stale entries to skip).
// The coordinator arms, re-arms and cancels; on_time pops what is due.
//
// Threading: owned by the coordinator, on its loop.
#pragma once

#include "model/fundamental.h"

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace gregor::group {

enum class timer_kind : std::uint8_t {
    join,            // the join phase of a PreparingRebalance group (member_id "")
    sync,            // the SyncGroup deadline of a generation (member_id "")
    session,         // a member's session (or new-member) expiry
    pending_member,  // a KIP-394 member id that must be used within the session timeout
};

struct timer_key {
    std::string group_id;
    timer_kind kind = timer_kind::join;
    std::string member_id;

    auto operator<=>(const timer_key&) const = default;
};

class deadline_index {
public:
    // Sets (or moves) the deadline of `key`.
    void arm(const timer_key& key, model::timestamp_ms at);
    void cancel(const timer_key& key);
    // Cancels every timer of the group.
    void cancel_group(std::string_view group_id);
    std::optional<model::timestamp_ms> when(const timer_key& key) const;
    bool armed(const timer_key& key) const { return by_key_.contains(key); }
    std::optional<model::timestamp_ms> next() const;
    // Removes and returns the earliest entry due at `now`, if any.
    std::optional<timer_key> pop_due(model::timestamp_ms now);
    std::size_t size() const { return by_key_.size(); }
    // Iff both orders hold the same entries (tests).
    bool consistent() const;

    template <class F>
    void for_each(F&& f) const {
        for (const auto& [key, at] : by_key_) {
            f(key, at);
        }
    }

private:
    std::map<timer_key, model::timestamp_ms> by_key_;
    std::set<std::pair<model::timestamp_ms, timer_key>> by_time_;
};

}  // namespace gregor::group

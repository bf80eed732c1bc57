#include "group/deadlines.h"

namespace gregor::group {

void deadline_index::arm(const timer_key& key, model::timestamp_ms at) {
    auto [it, inserted] = by_key_.try_emplace(key, at);
    if (!inserted) {
        by_time_.erase({it->second, key});
        it->second = at;
    }
    by_time_.emplace(at, key);
}

void deadline_index::cancel(const timer_key& key) {
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
        by_time_.erase({it->second, key});
        by_key_.erase(it);
    }
}

void deadline_index::cancel_group(std::string_view group_id) {
    auto it = by_key_.lower_bound(timer_key{std::string(group_id), timer_kind::join, ""});
    while (it != by_key_.end() && it->first.group_id == group_id) {
        by_time_.erase({it->second, it->first});
        it = by_key_.erase(it);
    }
}

std::optional<model::timestamp_ms> deadline_index::when(const timer_key& key) const {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<model::timestamp_ms> deadline_index::next() const {
    return by_time_.empty() ? std::nullopt : std::optional(by_time_.begin()->first);
}

std::optional<timer_key> deadline_index::pop_due(model::timestamp_ms now) {
    if (by_time_.empty() || by_time_.begin()->first > now) {
        return std::nullopt;
    }
    auto node = by_time_.extract(by_time_.begin());
    by_key_.erase(node.value().second);
    return std::move(node.value().second);
}

bool deadline_index::consistent() const {
    if (by_key_.size() != by_time_.size()) {
        return false;
    }
    for (const auto& [key, at] : by_key_) {
        if (!by_time_.contains({at, key})) {
            return false;
        }
    }
    return true;
}

}  // namespace gregor::group

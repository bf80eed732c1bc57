#include "storage/leader_epoch_cache.h"

#include "base/assert.h"

#include <algorithm>
#include <iterator>

namespace gregor::storage {

leader_epoch_cache::leader_epoch_cache(std::vector<epoch_entry> entries)
    : entries_(std::move(entries)) {
    GREGOR_ASSERT(is_valid(entries_), "epoch entries not strictly increasing");
}

bool leader_epoch_cache::is_valid(const std::vector<epoch_entry>& entries) {
    for (std::size_t i = 1; i < entries.size(); ++i) {
        if (entries[i].epoch <= entries[i - 1].epoch ||
            entries[i].start_offset <= entries[i - 1].start_offset) {
            return false;
        }
    }
    return std::all_of(entries.begin(), entries.end(), [](const epoch_entry& e) {
        return e.epoch() >= 0 && e.start_offset() >= 0;
    });
}

bool leader_epoch_cache::assign(model::leader_epoch epoch, model::offset start) {
    GREGOR_ASSERT(epoch() >= 0 && start() >= 0, "assign epoch={} start={}", epoch, start);
    if (!entries_.empty() && entries_.back().epoch == epoch &&
        entries_.back().start_offset <= start) {
        return false;
    }
    std::erase_if(entries_, [&](const epoch_entry& e) {
        return e.epoch >= epoch || e.start_offset >= start;
    });
    entries_.push_back({epoch, start});
    GREGOR_ASSERT(is_valid(entries_), "epoch cache broken after assign {}", epoch);
    return true;
}

epoch_entry leader_epoch_cache::end_offset_for(model::leader_epoch requested,
                                               model::offset log_end) const {
    const epoch_entry undefined{model::no_leader_epoch, model::no_offset};
    if (entries_.empty() || requested() < 0) {
        return undefined;
    }
    if (requested == entries_.back().epoch) {
        return {requested, log_end};
    }
    auto higher =
        std::upper_bound(entries_.begin(), entries_.end(), requested,
                         [](model::leader_epoch r, const epoch_entry& e) { return r < e.epoch; });
    if (higher == entries_.end()) {
        return undefined;
    }
    if (higher == entries_.begin()) {
        return {requested, higher->start_offset};
    }
    return {std::prev(higher)->epoch, higher->start_offset};
}

bool leader_epoch_cache::truncate_from_end(model::offset end) {
    auto before = entries_.size();
    std::erase_if(entries_, [&](const epoch_entry& e) { return e.start_offset >= end; });
    return entries_.size() != before;
}

bool leader_epoch_cache::truncate_from_start(model::offset start) {
    auto first_after = std::find_if(entries_.begin(), entries_.end(),
                                    [&](const epoch_entry& e) { return e.start_offset > start; });
    if (first_after == entries_.begin()) {
        return false;
    }
    auto covering = std::prev(first_after);
    if (covering == entries_.begin() && covering->start_offset == start) {
        return false;
    }
    std::vector<epoch_entry> rest;
    rest.reserve(static_cast<std::size_t>(entries_.end() - first_after) + 1);
    rest.push_back({covering->epoch, start});
    std::copy(first_after, entries_.end(), std::back_inserter(rest));
    entries_ = std::move(rest);
    return true;
}

std::optional<epoch_entry> leader_epoch_cache::latest() const {
    if (entries_.empty()) {
        return std::nullopt;
    }
    return entries_.back();
}

}  // namespace gregor::storage

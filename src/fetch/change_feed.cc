#include "fetch/change_feed.h"

#include <algorithm>

namespace gregor::fetch {

change_feed::change_feed(std::size_t capacity) : ring_(std::max<std::size_t>(capacity, 1)) {}

void change_feed::push(const model::topic_partition& tp) {
    ring_[end_ % ring_.size()] = tp;
    ++end_;
}

bool change_feed::since(std::uint64_t from,
                        const std::function<void(const model::topic_partition&)>& fn) const {
    if (from > end_ || end_ - from > ring_.size()) {
        return false;
    }
    for (std::uint64_t seq = from; seq < end_; ++seq) {
        fn(ring_[seq % ring_.size()]);
    }
    return true;
}

}  // namespace gregor::fetch

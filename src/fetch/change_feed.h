// change_feed: the partitions whose leader-side state changed, in order, for the fetch
// sessions to read instead of every partition they hold.
//
// The broker pushes a partition whenever what a fetch of it would answer may have changed:
// records appended, the high watermark moved, a LeaderAndIsr or StopReplica or a committed
// ISR change for it. A session remembers how far it has read (a sequence number) and, next
// round, reads only the partitions pushed since then that it holds. The feed is a ring of
// bounded capacity: a session that fell further behind than the ring reaches is told so and
// reads all of its partitions, as it would without a feed.
//
// Sans-IO, single-threaded.
#pragma once

#include "model/fundamental.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace gregor::fetch {

class change_feed {
public:
    explicit change_feed(std::size_t capacity = 65536);

    // `tp` may answer a fetch differently now. (Each push is kept: a reader may have read
    // between two pushes of the same partition.)
    void push(const model::topic_partition& tp);
    // Any partition may answer differently now (the live brokers changed, say): every
    // reader reads all of its partitions next time.
    void push_all() { end_ += ring_.size() + 1; }
    // The sequence number the next push gets: a reader that has read everything holds this.
    std::uint64_t end() const { return end_; }
    // Calls `fn` with each partition pushed from sequence number `from` on (a partition may
    // come more than once) and returns true; or, when the ring no longer holds all of them,
    // calls nothing and returns false.
    bool since(std::uint64_t from,
               const std::function<void(const model::topic_partition&)>& fn) const;

private:
    std::vector<model::topic_partition> ring_;
    std::uint64_t end_ = 0;
};

}  // namespace gregor::fetch

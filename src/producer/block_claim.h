// The ZooKeeper side of producer id allocation: claiming the next block of ids at
// /latest_producer_id_block with Kafka's compare-and-set (ZkProducerIdManager, 3.8).
//
// The znode holds the newest block any broker claimed, in Kafka's JSON
// {"version":1,"broker":<id>,"block_start":"<s>","block_end":"<e>"} (ids as strings, end
// inclusive), or nothing before the first claim. One claim:
//   1. get the znode with its version;
//   2. next_block_after() its content: empty ⇒ [0, 999]; else [end + 1, end + 1000];
//      end > INT64_MAX - 1000 ⇒ errc::ids_exhausted (permanent);
//   3. set it iff the version is unchanged. BADVERSION (another broker won) ⇒ back to 1.
// The znode is a top-level path every broker creates empty at start; should it be missing
// anyway, the claim creates it holding the first block (NODEEXISTS ⇒ back to 1). Each claim
// makes at most cas_attempts_max rounds, then fails with errc::claim_contended.
//
// A write whose answer is lost (connection loss) may still have applied: that block is
// never used, and the next claim reads past it, so ids are wasted but never repeated.
// A restarted broker claims a new block: nothing of a block outlives the process.
//
// block_claimer lives on the loop of its coord::client and is called there; completions
// arrive on that loop. The client must outlive it.
#pragma once

#include "base/result.h"
#include "coord/client.h"
#include "coord/znode_json.h"
#include "producer/producer_id_manager.h"

#include <functional>
#include <memory>
#include <string_view>

namespace gregor::producer {

// Rounds of get + set one claim makes before giving up (Kafka loops without a bound).
inline constexpr int cas_attempts_max = 16;

// The block `self` claims after the one in `current`, the znode's data ("" before the
// first claim). Errors: coord::errc::malformed_data (not Kafka's JSON), errc::ids_exhausted.
result<coord::producer_id_block> next_block_after(std::string_view current, model::node_id self);

// The ids of a znode block.
inline id_block ids_of(const coord::producer_id_block& b) {
    return {b.block_start, b.block_end};
}

class block_claimer {
public:
    using done_fn = std::function<void(result<id_block>)>;

    // REQUIRES: `zk` outlives this object.
    block_claimer(coord::client& zk, model::node_id self);
    ~block_claimer();
    block_claimer(const block_claimer&) = delete;
    block_claimer& operator=(const block_claimer&) = delete;

    // Claims the next block. `done` runs once on the loop (never inside this call) with the
    // block, or with the error: errc::ids_exhausted (permanent), errc::claim_contended, a
    // coord::errc (transient ZooKeeper errors, malformed content, closed), unless cancel()
    // or the destructor comes first. REQUIRES: !in_flight().
    void claim(done_fn done);
    // Drops the claim in flight: its `done` never runs (a write may still apply; its block
    // is then wasted).
    void cancel();
    bool in_flight() const { return static_cast<bool>(done_); }

private:
    void read(int attempt);
    void create_first(int attempt);
    void write(const coord::producer_id_block& block, model::zk_version version, int attempt);
    void lost_race(int attempt);
    void finish(result<id_block> r);
    // Wraps a completion so that it runs only while this claim is the current one.
    template <class T, class F>
    coord::callback<T> guard(F f);

    coord::client& zk_;
    model::node_id self_;
    done_fn done_;
    std::uint64_t claim_no_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gregor::producer

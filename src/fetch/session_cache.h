// session_cache: the leader's side of Kafka's incremental fetch sessions (KIP-227).
//
// A fetcher (a follower broker or a consumer) that keeps fetching the same partitions asks
// for a session with a full Fetch (SessionId 0, SessionEpoch 0). The leader remembers each
// partition's fetch position and what its last answer said (high watermark, last stable
// offset, log start offset); the fetcher's later requests are incremental: they carry the
// session id and the next epoch, name only the partitions added or changed, and list those
// it no longer fetches. An incremental answer carries only the partitions with records, an
// error, a diverging epoch or a changed offset. An idle follower's fetch is then nearly
// empty both ways, where a full fetch lists every partition it follows, every round.
//
// Request metadata (Kafka's FetchMetadata):
//   SessionId 0,   epoch -1   full fetch, no session (what clients before KIP-227 send)
//   SessionId 0,   epoch 0    full fetch, create a session if there is room
//   SessionId ID,  epoch 0    close session ID, full fetch, create a new session
//   SessionId ID,  epoch -1   close session ID, full fetch, no session
//   SessionId ID,  epoch E>0  incremental fetch in session ID, whose next epoch must be E
// An unknown ID answers FETCH_SESSION_ID_NOT_FOUND, a wrong E INVALID_FETCH_SESSION_EPOCH
// (top-level errors, no partitions). An incremental request that leaves its session empty
// closes it and is answered without a session (SessionId 0), as Kafka does.
//
// Room (Kafka's FetchSessionCache): at most max_slots sessions. When full, a new session
// may take the slot of one unused for `eviction` (the least recently used first); else of
// the least valuable evictable one, by (privileged, partitions, id): followers' sessions are
// privileged, a session becomes evictable by a consumer's once it is `eviction` old and by
// a follower's at once if it is a consumer's. gregor also bounds the partitions cached over
// all sessions (max_partitions): a request that would pass it gets no session.
//
// gregor also drops sessions unused for `eviction` (checked at most every quarter of it, on
// a request): a fetcher that went away, such as a restarted follower, does not leave its
// partitions cached until the slots run out.
//
// Sessions are shared_ptr: a parked fetch keeps working on its session if another request
// evicts or closes it meanwhile. Sans-IO, single-threaded; the caller passes the time.
#pragma once

#include "fetch/change_feed.h"
#include "fetch/sweep.h"
#include "model/fundamental.h"
#include "model/kafka_error.h"
#include "protocol/messages/fetch.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

namespace gregor::fetch {

using clock = std::chrono::steady_clock;

inline constexpr std::int32_t no_session = 0;     // Kafka's INVALID_SESSION_ID
inline constexpr std::int32_t initial_epoch = 0;  // full fetch, create a session
inline constexpr std::int32_t final_epoch = -1;   // full fetch, no session

// The epoch after `e` (Kafka's FetchMetadata.nextEpoch: wraps to 1, never 0 or -1).
std::int32_t next_epoch(std::int32_t e);

// What a fetcher asks of one partition: a Fetch request's partition fields.
struct partition_fetch {
    model::offset fetch_offset{0};
    model::offset log_start_offset{-1};
    model::leader_epoch current_leader_epoch{-1};
    model::leader_epoch last_fetched_epoch{-1};
    std::int32_t max_bytes = 0;

    static partition_fetch of(const protocol::fetch_request::fetch_topic::fetch_partition& p);
    bool operator==(const partition_fetch&) const = default;
};

// One partition of a session: where the fetcher reads and what it was last told
// (high_watermark -1: not told yet, or the last answer was an error; the next carries it).
struct session_partition {
    model::topic_partition tp;
    partition_fetch fetch;
    model::offset high_watermark{-1};
    model::offset last_stable_offset{-1};
    model::offset log_start_offset{-1};
    // The driver's note of where the partition lives, valid while `where_generation` is
    // current by the driver's count (0: none). The broker keeps its replica here, so that
    // an idle round does not look every partition up.
    mutable void* where = nullptr;
    mutable std::uint64_t where_generation = 0;
    bool listed = false;  // in the session's list of partitions the next round reads
};

using partition_data = protocol::fetch_response::fetchable_topic_response::partition_data;

class session {
public:
    session(std::int32_t id, bool privileged, clock::time_point now)
        : id_(id), privileged_(privileged), created_(now), last_used_(now) {}

    std::int32_t id() const { return id_; }
    // The epoch the session's next request must carry.
    std::int32_t epoch() const { return epoch_; }
    bool privileged() const { return privileged_; }
    std::size_t size() const { return partitions_.size(); }
    clock::time_point created() const { return created_; }
    clock::time_point last_used() const { return last_used_; }

    // The partitions in the order this round reads them: from where the last round's
    // records ended, so that a partition behind others with data gets the response's bytes
    // next time (Kafka moves those that returned data to the end).
    const session_partition& in_round(std::size_t i) const {
        return partitions_[(start_ + i) % partitions_.size()];
    }
    // The session's partition `tp`, or nullptr.
    const session_partition* find(const model::topic_partition& tp) const;

    // The partitions this round reads, as indices for at(), in round order (see in_round):
    //   - those the request added or changed, and those the last round did not settle;
    //   - those `feed` names since the last round;
    //   - a slice of the others, so that each is read at least once per `sweep`: a
    //     follower's fetch of a partition keeps it in the ISR, and a change no feed names
    //     (a log start offset moved by retention) is told within that time;
    //   - every partition on the session's first round, after partitions were added or
    //     forgotten, and when the feed no longer reaches back to the last round.
    // An idle fetcher's round then reads a few partitions, not all it holds.
    std::vector<std::uint32_t> plan_round(const change_feed& feed, clock::time_point now,
                                          clock::duration sweep);
    const session_partition& at(std::uint32_t i) const { return partitions_[i]; }
    // After reading at(i) this round: `quiet` when the answer had nothing to tell and the
    // fetcher reads from the end (the log end offset for a follower, the high watermark for
    // a consumer); the partition then rests until something moves it. Otherwise the next
    // round reads it again.
    void settle(std::uint32_t i, bool quiet);

    // Whether an incremental answer must carry `p` with `d` (records, an error, a diverging
    // epoch or an offset the fetcher was not told).
    static bool must_answer(const session_partition& p, const partition_data& d);
    // The answer to this round went out: remember what it told of each partition in it.
    void answered(const protocol::fetch_response& r);

private:
    friend class session_cache;
    // Applies an incremental request's added, changed and forgotten partitions.
    void update(const protocol::fetch_request& req);
    void list(std::uint32_t i);
    void list_all();

    std::vector<session_partition> partitions_;  // sorted by partition
    std::int32_t id_;
    std::int32_t epoch_ = 1;
    bool privileged_;
    std::size_t start_ = 0;
    // Round planning (plan_round).
    std::vector<std::uint32_t> listed_;  // partitions the next round reads, each once
    bool read_all_ = true;
    std::uint64_t feed_read_ = 0;  // the feed's end as of the last round
    sweep_clock swept_;
    std::size_t sweep_next_ = 0;
    clock::time_point created_;
    clock::time_point last_used_;
};

struct cache_config {
    std::size_t max_slots = 1000;  // max.incremental.fetch.session.cache.slots
    // Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS (not configurable there).
    clock::duration eviction = std::chrono::minutes(2);
    // gregor's: partitions cached over all sessions (about 100 bytes each).
    std::size_t max_partitions = 4 * 1024 * 1024;
    // gregor's: a session partition with nothing to tell is still read this often (see
    // session::plan_round). Well under replica.lag.time.max.ms, which the broker makes sure.
    clock::duration sweep = std::chrono::seconds(5);
};

// What a Fetch's session fields ask for.
struct context {
    enum class kind { sessionless, full, incremental };
    kind mode = kind::sessionless;
    model::kafka_error error = model::kafka_error::none;
    std::shared_ptr<session> incremental;  // mode incremental: the session to read
};

class session_cache {
public:
    session_cache(cache_config config, std::uint64_t seed);

    // Resolves a request's session fields (closing the session a full request names) and
    // applies an incremental request to its session.
    context open(const protocol::fetch_request& req, clock::time_point now);
    // After the answer to a full request with SessionEpoch 0 (whose partitions are in the
    // request's order): a new session holding them, or no_session if there is no room.
    std::int32_t create(const protocol::fetch_request& req, const protocol::fetch_response& r,
                        bool privileged, clock::time_point now);

    // Session `id`, or nullptr.
    std::shared_ptr<const session> find(std::int32_t id) const;

    const cache_config& config() const { return config_; }
    std::size_t sessions() const { return sessions_.size(); }
    std::size_t partitions() const { return partitions_; }
    std::uint64_t evictions() const { return evictions_; }

private:
    bool make_room(bool privileged, std::size_t size, clock::time_point now);
    void expire(clock::time_point now);
    void remove(std::int32_t id);
    std::int32_t new_id();

    cache_config config_;
    std::unordered_map<std::int32_t, std::shared_ptr<session>> sessions_;
    std::size_t partitions_ = 0;
    std::uint64_t evictions_ = 0;
    clock::time_point expired_at_{};
    std::mt19937 random_;
};

}  // namespace gregor::fetch

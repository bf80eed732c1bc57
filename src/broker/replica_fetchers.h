// replica_fetchers: the follower side of replication, over TCP.
//
// One fetcher per leader broker (num.replica.fetchers = 1), multiplexing every partition this
// broker follows from that leader in one replica Fetch (v12: ReplicaId, CurrentLeaderEpoch,
// LastFetchedEpoch) at a time: wait up to replica.fetch.wait.max.ms for
// replica.fetch.min.bytes, at most replica.fetch.max.bytes per partition and
// replica.fetch.response.max.bytes in all. Each partition's answer goes to its
// replication::partition (append, truncate on a diverging epoch, learn the high watermark),
// provided the partition still follows that leader in the leader epoch the fetch was sent
// with. A partition whose answer is an error the follower waits out (NOT_LEADER_OR_FOLLOWER,
// FENCED/UNKNOWN_LEADER_EPOCH: the LeaderAndIsr that fixes it is on its way) rests for
// replica.fetch.backoff.ms; a lost connection rests the whole fetcher as long. A local
// storage failure stops fetching that partition (logged; the replica is then offline here).
//
// Each fetcher keeps an incremental fetch session (KIP-227) with its leader: once the leader
// gave one, a round names only the partitions whose position changed and forgets those that
// rest or left, and the leader answers only partitions with news. An idle follower's fetch
// is then nearly empty both ways. Any error or lost answer goes back to a full fetch. A
// round also visits only the partitions whose position may have moved (answered, followed
// anew, resting) and a slice of the rest, so that each is visited once per `sweep`: an idle
// fetcher costs next to nothing per round, however many partitions it follows.
//
// The fetcher learns the leader's address from LeaderAndIsr's live leaders, else from the
// metadata cache. A fetcher with nothing left to follow ends. Loop thread only.
#pragma once

#include "broker/metadata_cache.h"
#include "broker/replica_manager.h"
#include "fetch/session_builder.h"
#include "net/asio.h"
#include "protocol/messages/fetch.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gregor::broker {

namespace asio = boost::asio;

struct fetcher_settings {
    model::node_id self = model::no_node;
    std::string listener;  // inter.broker.listener.name
    std::int32_t max_bytes = 1048576;                   // replica.fetch.max.bytes
    std::int32_t response_max_bytes = 10485760;         // replica.fetch.response.max.bytes
    std::chrono::milliseconds wait_max{500};            // replica.fetch.wait.max.ms
    std::int32_t min_bytes = 1;                         // replica.fetch.min.bytes
    std::chrono::milliseconds backoff{1000};            // replica.fetch.backoff.ms
    std::chrono::milliseconds socket_timeout{30000};    // replica.socket.timeout.ms
    // A round visits every followed partition at least this often (else only those whose
    // position may have moved): a change no answer brings, such as this log's start offset
    // moved by retention, is sent within it.
    std::chrono::milliseconds sweep{5000};
    // Called with the acknowledged records a truncation cut (follower_progress).
    std::function<void(const model::topic_partition&, std::int64_t)> on_committed_truncated;
};

class replica_fetchers {
public:
    replica_fetchers(asio::io_context& ioc, replica_manager& replicas, const metadata_cache& cache,
                     fetcher_settings settings, std::function<model::timestamp_ms()> now);
    ~replica_fetchers();
    replica_fetchers(const replica_fetchers&) = delete;
    replica_fetchers& operator=(const replica_fetchers&) = delete;

    // Fetches `tp` from `leader` from now on (a LeaderAndIsr made this broker its follower),
    // leaving any other fetcher.
    void follow(const model::topic_partition& tp, model::node_id leader);
    // Stops fetching `tp` (it became leader here or was stopped).
    void unfollow(const model::topic_partition& tp);
    // Where `leader` listens (LeaderAndIsr live leaders).
    void set_endpoint(model::node_id leader, const std::string& host, std::int32_t port);
    // Stops every fetcher; in-flight fetches are abandoned.
    void stop();

    std::size_t fetcher_count() const { return fetchers_.size(); }

private:
    struct fetcher;
    struct endpoint {
        std::string host;
        std::int32_t port = 0;
    };

    static asio::awaitable<void> run(replica_fetchers* self, std::shared_ptr<fetcher> f);
    asio::awaitable<void> fetch_once(const std::shared_ptr<fetcher>& f);
    asio::awaitable<void> rest(const std::shared_ptr<fetcher>& f,
                               std::chrono::steady_clock::duration d);
    protocol::fetch_request build_request(fetcher& f, std::size_t& fetched,
                                          std::chrono::steady_clock::time_point& next_ready);
    static void mark_sweep_slice(fetcher& f, std::size_t turns);
    void apply_reply(fetcher& f, const protocol::fetch_response& reply);
    bool connect(fetcher& f);

    asio::io_context& ioc_;
    replica_manager& replicas_;
    const metadata_cache& cache_;
    fetcher_settings settings_;
    std::function<model::timestamp_ms()> now_;
    // Each followed partition is in exactly one fetcher's map (no index by partition: a
    // broker has a fetcher per leader, a handful, and memory counts per partition).
    std::map<model::node_id, std::shared_ptr<fetcher>> fetchers_;
    std::map<model::node_id, endpoint> endpoints_;
    bool stopped_ = false;
};

}  // namespace gregor::broker

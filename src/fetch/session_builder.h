// session_builder: the fetcher's side of incremental fetch sessions (KIP-227; Kafka's
// FetchSessionHandler), for the replica fetchers (and any client of the leader's
// session_cache).
//
// Each round the fetcher opens a request with begin(), then passes every partition it
// follows from that leader: fetch() for those it reads this round, skip() for those it
// does not (resting after an error, or leaving). The builder keeps no partitions itself:
// the caller keeps a sent_partition beside each of its own, which says what the leader's
// session holds for it. A full request (no session yet, or after an error) names every
// fetched partition; an incremental one names only those added or changed since the last
// request, and forgets those skipped. on_response() and on_failure() take the outcome:
//   - a full request answered with a session id: the next requests are incremental, from
//     epoch 1;
//   - an incremental one answered: the next epoch (an answer without the session id: the
//     leader closed it, start over);
//   - FETCH_SESSION_ID_NOT_FOUND: a new session with a full request;
//   - any other top-level error, a lost connection or an unreadable answer: a full request
//     that closes the session (SessionId ID, epoch 0) and asks for a new one.
// The leader answers for the partitions whose sent_partition says in_session, at the
// position recorded there. Sans-IO, single-threaded.
#pragma once

#include "fetch/session_cache.h"

namespace gregor::fetch {

// What the leader's session holds of one of the fetcher's partitions.
struct sent_partition {
    partition_fetch fetch;
    bool in_session = false;
};

class session_builder {
public:
    // Opens the next request: its session id and epoch.
    void begin(protocol::fetch_request& req);
    // `tp` is read this round from `position` (partitions come in order of topic, so that
    // each topic is one entry of the request).
    void fetch(protocol::fetch_request& req, const model::topic_partition& tp,
               const partition_fetch& position, sent_partition& sent) const;
    // `tp` is not read this round.
    void skip(protocol::fetch_request& req, const model::topic_partition& tp,
              sent_partition& sent) const;

    void on_response(const protocol::fetch_response& r);
    void on_failure();

    // Whether the request being built (or the next one) is full.
    bool full() const { return epoch_ == initial_epoch; }

private:
    std::int32_t session_id_ = no_session;
    std::int32_t epoch_ = initial_epoch;
    bool sent_full_ = true;  // what the request in flight was
};

}  // namespace gregor::fetch

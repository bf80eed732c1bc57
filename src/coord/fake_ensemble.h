// fake_ensemble: an in-memory ZooKeeper shared by many fake_client sessions.
//
// Holds one znode tree (fake_tree), the global zxid counter, live sessions with their
// ephemerals, one-shot watches, and a single FIFO of deliveries (completions, watch events,
// session events) for all clients. Server-side effects happen at call time; callbacks run
// only when the queue is drained, so tests and the simulator decide when anything reaches
// the caller. Draining happens through the `poster` given at construction (for example
// asio::post onto a loop), or by hand with run_pending() when none is given.
//
// Deterministic: no threads, no clocks, no randomness. Single-threaded: the ensemble and all
// of its clients belong to one thread. The ensemble must outlive its clients.
#pragma once

#include "coord/client.h"
#include "coord/fake_tree.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gregor::coord {

class fake_client;

class fake_ensemble {
public:
    using poster = std::function<void(std::function<void()>)>;

    fake_ensemble() = default;
    // `post` is called (at most once per drain) to schedule run_pending() somewhere.
    explicit fake_ensemble(poster post) : post_(std::move(post)) {}
    fake_ensemble(const fake_ensemble&) = delete;
    fake_ensemble& operator=(const fake_ensemble&) = delete;
    ~fake_ensemble();

    // Delivers every queued callback that is not held, in order, including ones queued by
    // the callbacks themselves. Returns how many ran.
    std::size_t run_pending();
    // Returns true iff a deliverable (not held) callback is queued.
    bool has_pending() const;

    // Test inspection, bypassing sessions: the node at an absolute path.
    std::optional<node_data> peek(const std::string& path) const;
    zxid last_zxid() const { return zxid_; }

private:
    friend class fake_client;

    struct delivery {
        std::uint64_t client_key = 0;
        // The session the callback belongs to; no_session for session events.
        session_id session;
        bool is_watch = false;
        std::function<void()> run;
        // Completions only: re-delivers the operation as failed with the given error.
        std::function<void(std::error_code)> fail;
    };
    struct watch_reg {
        std::uint64_t client_key;
        session_id session;
        watch_fn fn;
    };

    std::uint64_t attach(fake_client* c);
    void detach(std::uint64_t key);
    session_id open_session(std::uint64_t key);
    // Ends a session: deletes its ephemerals (firing watches) and drops its watches.
    void end_session(session_id s, bool linger_ephemerals = false);

    zxid next_zxid() { return ++zxid_; }
    void enqueue(delivery d);
    void add_watch(bool child, const std::string& path, std::uint64_t key, session_id s,
                   watch_fn fn);
    void fire(const std::vector<detail::tree_change>& changes);
    void fire_one(std::map<std::string, std::vector<watch_reg>>& table, const std::string& path,
                  watch_event_type type);
    // Turns the queued completions of `key` into failures with `why`.
    void fail_pending_completions(std::uint64_t key, std::error_code why);
    bool deliverable(const delivery& d) const;
    void schedule_drain();

    detail::fake_tree tree_;
    zxid zxid_{0};
    std::int64_t next_session_ = 0x100000000;
    std::uint64_t next_key_ = 1;
    std::map<std::uint64_t, fake_client*> clients_;
    std::map<session_id, std::uint64_t> sessions_;
    std::map<std::string, std::vector<watch_reg>> data_watches_;
    std::map<std::string, std::vector<watch_reg>> child_watches_;
    std::deque<delivery> queue_;
    poster post_;
    bool drain_scheduled_ = false;
};

}  // namespace gregor::coord

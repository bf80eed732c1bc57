// fake_client: coord::client on a fake_ensemble, for unit and simulation tests.
//
// Each fake_client is one ZooKeeper session on the shared ensemble; the session opens in
// the constructor (a `connected` event is queued). Besides the client interface it offers
// test controls that reproduce what a real ensemble does to a broker:
//   expire_session()   the server drops the session: ephemerals vanish, watches are
//                      dropped, `expired` is delivered, then a new session connects (at once
//                      if the link is up, else on reconnect()).
//   disconnect()       the link drops: undelivered completions fail with connection_loss
//                      (the operation may still have applied, as with a real server), new
//                      calls fail at once, watch events wait for reconnect().
//   reconnect()        the link comes back: `connected` (same session, unless it expired).
//   hold()/release()   keep this client's deliveries queued (to reorder against others).
//   fail_read_many(e)  read_many fails with e (a server without multiRead).
// Single-threaded; see fake_ensemble for delivery. The ensemble must outlive the client.
#pragma once

#include "coord/client.h"
#include "coord/fake_ensemble.h"

#include <map>
#include <string>

namespace gregor::coord {

struct fake_client_options {
    // A chroot like "/kafka" (every path is relative to it), or empty.
    std::string chroot;
};

class fake_client final : public client {
public:
    explicit fake_client(fake_ensemble& ensemble, fake_client_options opts = {});
    fake_client(const fake_client&) = delete;
    fake_client& operator=(const fake_client&) = delete;
    ~fake_client() override;

    void create(std::string path, std::string data, create_mode mode,
                callback<std::string> done) override;
    void get(std::string path, watch_fn watch, callback<node_data> done) override;
    void set(std::string path, std::string data, model::zk_version expected,
             callback<znode_stat> done) override;
    void remove(std::string path, model::zk_version expected, callback<void> done) override;
    void exists(std::string path, watch_fn watch,
                callback<std::optional<znode_stat>> done) override;
    void get_children(std::string path, watch_fn watch, callback<children> done) override;
    void read_many(std::vector<std::string> paths,
                   callback<std::vector<result<node_data>>> done) override;
    void multi(std::vector<op> ops, multi_fn done) override;

    listener_id add_session_listener(session_fn fn) override;
    void remove_session_listener(listener_id id) override;
    session_id session() const override { return session_; }
    bool is_connected() const override { return delivered_connected_; }
    void close() override;

    // Test controls (see the header comment).
    // With `linger_ephemerals`, the session's ephemerals stay behind (owned by the dead
    // session) as ZOOKEEPER-2985 lets them, to test stale-registration handling.
    void expire_session(bool linger_ephemerals = false);
    void disconnect();
    void reconnect();
    // Makes read_many fail with `e` (as a server without multiRead does), or work again.
    void fail_read_many(std::optional<std::error_code> e) { read_many_error_ = e; }
    void hold() { held_ = true; }
    void release();
    bool link_up() const { return link_up_; }

private:
    friend class fake_ensemble;

    // Returns the error a call fails with before reaching the tree, if any.
    // Why an operation on `path` is refused now, if it is; `request_bytes` as zk_client's.
    std::optional<std::error_code> refuse(const std::string& path,
                                          std::size_t request_bytes = 0) const;
    std::string to_abs(const std::string& path) const;
    std::string to_rel(const std::string& path) const;
    watch_fn wrap_watch(watch_fn fn) const;
    template <class T>
    void complete(callback<T> done, result<T> r);
    void queue_session_event(session_state state, session_id s);
    void start_new_session();

    fake_ensemble& ensemble_;
    std::string chroot_;
    std::uint64_t key_ = 0;
    session_id session_;
    bool link_up_ = true;
    bool closed_ = false;
    bool held_ = false;
    bool expired_while_down_ = false;
    bool delivered_connected_ = false;
    std::optional<std::error_code> read_many_error_;
    listener_id next_listener_ = 1;
    std::map<listener_id, session_fn> listeners_;
};

}  // namespace gregor::coord

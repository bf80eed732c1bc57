// broker_registration: a broker's membership in the cluster, kept alive across sessions.
//
// Drives Kafka's start-up and re-registration procedure over a coord::client:
//   1. ensure the top-level paths (paths::top_level_paths), pipelined;
//   2. read /cluster/id, or create it with a fresh 22-character id if it is missing;
//   3. register the ephemeral /brokers/ids/<id> with the "checked ephemeral" procedure:
//      multi{create empty ephemeral, set payload at version 0}. On node_exists the node is
//      read: owned by our current session means an earlier attempt applied (its response
//      was lost) and counts as success; owned by one of our previous sessions means a stale
//      node ZooKeeper has not removed yet (ZOOKEEPER-2985): delete it and register again;
//      owned by any other session is first waited for: a broker restarted (by systemd, say)
//      soon after a crash finds the node of its dead run, which ZooKeeper deletes only when
//      that session times out. It watches the node and registers as soon as it goes; the
//      id is called taken (fatal) only if the same session still holds it after `wait`
//      (the session timeout plus slack), or a different session holds it after that one.
// The broker epoch is the registration node's czxid. When the session expires the broker
// registers again as soon as a new session connects and the owner hears the new epoch.
// While registered it watches its own node: if another client deletes it while the session
// lives (the controller, having found this broker's process gone, or an operator), the
// broker is no longer a member, so it registers again at once, with a new epoch, as after an
// expiry (on_lost, then on_registered).
// Transient failures (connection loss, expiry) are retried when the next session event
// says the client is connected again. Sans-IO-ish: it only talks to coord::client.
//
// Owned by the broker; lives on the client's loop and must be called there. Callbacks run
// on the loop. The client must outlive it; destroying it drops pending completions.
#pragma once

#include "coord/client.h"
#include "coord/znode_json.h"

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace gregor::coord {

struct registration_handlers {
    // Each successful registration (the first and every one after a session expiry).
    std::function<void(model::broker_epoch)> on_registered;
    // The registration was lost: with its session (`expired`), or deleted by another client
    // while the session lives. A new attempt follows by itself.
    std::function<void(bool expired)> on_lost;
    // Registration cannot succeed (another owner, malformed /cluster/id, ...).
    std::function<void(const error&)> on_fatal;
    // Runs `fn` on the loop after `delay` (the owner's timer). Empty: a node held by another
    // session is fatal at once, without waiting.
    std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)> after;
};

class broker_registration {
public:
    using random_fn = std::function<std::array<std::uint8_t, 16>()>;

    // `random` supplies the bytes of a new cluster id (tests pass a fixed one).
    // `foreign_owner_wait`: how long a node held by another session is waited for before the
    // id is called taken (the broker passes its session timeout plus slack).
    broker_registration(client& c, model::node_id id, broker_info info, random_fn random,
                        registration_handlers handlers,
                        std::chrono::milliseconds foreign_owner_wait = {});
    broker_registration(const broker_registration&) = delete;
    broker_registration& operator=(const broker_registration&) = delete;
    ~broker_registration();

    // Starts the procedure. REQUIRES: called once.
    void start();

    // The cluster id, empty until it has been read or created.
    const std::string& cluster_id() const { return cluster_id_; }
    // The current broker epoch, or model::no_broker_epoch while not registered.
    model::broker_epoch epoch() const { return epoch_; }
    bool registered() const { return phase_ == phase::registered; }
    bool failed() const { return phase_ == phase::failed; }

private:
    enum class phase { idle, ensuring_paths, reading_cluster_id, registering, registered, failed };

    void run_phase();
    void ensure_paths();
    void read_cluster_id();
    void create_cluster_id();
    void register_broker();
    void on_node_exists();
    // The node is held by `owner`, neither this session nor one of ours: waits for it to go
    // (first time) or gives up.
    void on_foreign_owner(session_id owner);
    void on_session(const session_event& ev);
    // Watches the node registered with `epoch` (see the header comment).
    void watch_own_node(model::broker_epoch epoch);
    void on_own_node_deleted(model::broker_epoch epoch);
    // Handles an error of the current phase: transient ones wait for reconnection.
    void on_error(const error& e, std::string_view during);
    void fatal(error e);
    // Wraps a completion so it runs only if this object and its attempt are still current.
    template <class F>
    auto guard(F f);

    client& client_;
    model::node_id id_;
    std::string path_;
    std::string payload_;
    random_fn random_;
    registration_handlers handlers_;
    listener_id listener_ = 0;

    phase phase_ = phase::idle;
    bool waiting_for_connection_ = false;
    std::uint64_t attempt_ = 0;
    std::string cluster_id_;
    model::broker_epoch epoch_ = model::no_broker_epoch;
    session_id registered_session_;
    std::set<session_id> previous_sessions_;
    std::chrono::milliseconds foreign_owner_wait_;
    // The other session waited for (at most one per broker_registration), and whether the
    // wait is over.
    std::optional<session_id> waited_for_;
    bool watch_on_connect_ = false;  // the watch of our own node failed to be set
    bool wait_over_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace gregor::coord

// coord::client: the asynchronous coordination interface (ZooKeeper's data model).
//
// The broker's drivers and, through sans-IO effects, the controller talk to ZooKeeper only
// through this interface. Two implementations exist: zk_client (the real ZooKeeper C client
// driven from an Asio loop) and fake_client (in memory, deterministic, for unit and
// simulation tests); one contract test suite runs against both.
//
// Threading: an instance belongs to one event loop. Every method must be called on that
// loop, and every completion, watch event and session event runs on it, never inline inside
// the call that started the operation (so a caller may issue calls from inside callbacks).
//
// Sessions: the client holds one ZooKeeper session at a time. Session listeners see
// `connected` (a session is usable), `disconnected` (the connection dropped; the session may
// still be alive and may come back with its ephemerals and watches), and `expired` (the
// session is gone: its ephemerals were deleted and its watches dropped). After expiry the
// client opens a new session by itself, announced by a `connected` event with a new
// session_id. Completions and watch events that belong to an older session are dropped,
// never delivered as if current.
#pragma once

#include "base/named_type.h"
#include "base/result.h"
#include "coord/errc.h"
#include "model/fundamental.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gregor::coord {

using session_id = named_type<std::int64_t, struct session_id_tag>;
// A ZooKeeper transaction id: czxid/mzxid. Totally ordered across the whole ensemble.
using zxid = named_type<std::int64_t, struct zxid_tag>;

// "Any version" for set and remove, as in ZooKeeper.
inline constexpr model::zk_version any_version{-1};
inline constexpr session_id no_session{0};

// The metadata of a znode (ZooKeeper's Stat, minus times and ACL version).
struct znode_stat {
    zxid czxid;                  // transaction that created the znode
    zxid mzxid;                  // transaction that last changed its data
    zxid pzxid;                  // transaction that last changed its children
    model::zk_version version;   // data version: 0 at create, +1 per set
    std::int32_t cversion = 0;   // child version: +1 per child create or remove
    session_id ephemeral_owner;  // owning session, or no_session for persistent znodes
    std::int32_t data_length = 0;
    std::int32_t num_children = 0;

    bool operator==(const znode_stat&) const = default;
};

enum class create_mode { persistent, ephemeral, persistent_sequential, ephemeral_sequential };

inline bool is_ephemeral(create_mode m) {
    return m == create_mode::ephemeral || m == create_mode::ephemeral_sequential;
}
inline bool is_sequential(create_mode m) {
    return m == create_mode::persistent_sequential || m == create_mode::ephemeral_sequential;
}

struct node_data {
    std::string data;
    znode_stat stat;
};

struct children {
    std::vector<std::string> names;  // child names (not full paths), in no particular order
    znode_stat stat;                 // the parent's stat
};

// One-shot watches, as in ZooKeeper: get/exists watch the node's data (created, changed,
// deleted); get_children watches its child list (children changed, or the node deleted).
enum class watch_event_type { created, deleted, data_changed, children_changed };
struct watch_event {
    watch_event_type type;
    std::string path;
};
using watch_fn = std::function<void(const watch_event&)>;

enum class session_state { connected, disconnected, expired };
struct session_event {
    session_state state;
    session_id session;  // the session the event is about (the old one for `expired`)
};
using session_fn = std::function<void(const session_event&)>;

// Multi operations (executed atomically: all apply or none).
struct create_op {
    std::string path;
    std::string data;
    create_mode mode = create_mode::persistent;
};
struct set_op {
    std::string path;
    std::string data;
    model::zk_version version = any_version;
};
struct remove_op {
    std::string path;
    model::zk_version version = any_version;
};
struct check_op {
    std::string path;
    model::zk_version version;
};
using op = std::variant<create_op, set_op, remove_op, check_op>;

// A bound on the bytes of the request that carries `ops` as one multi, or one create or set
// of `path` with `data` (paths, data and each op's fixed fields, ACL included).
std::size_t request_bytes(const std::vector<op>& ops);
std::size_t request_bytes(std::string_view path, std::string_view data);

struct op_result {
    std::error_code error;           // ok, or why this op failed / was not attempted
    std::string path;                // create: the created path (sequential suffix included)
    std::optional<znode_stat> stat;  // set: the new stat
};

// The outcome of a multi. `error` is empty iff every op applied. When an op failed, the ops
// before it report ok (rolled back), the failing op its own error, the ones after it
// errc::runtime_inconsistency, as ZooKeeper reports them; `results` is empty when the
// whole request failed (connection loss, session expiry, closed).
struct multi_response {
    std::error_code error;
    std::vector<op_result> results;

    // Returns the index of the op that failed, or results.size() if none did.
    std::size_t failed_index() const;
};

template <class T>
using callback = std::function<void(result<T>)>;
using multi_fn = std::function<void(multi_response)>;
using listener_id = std::uint64_t;

class client {
public:
    virtual ~client() = default;

    // Creates `path` with `data`. Completes with the created path (with the 10-digit suffix
    // for sequential modes). Errors: node_exists, no_node (parent missing),
    // no_children_for_ephemerals, and the transient ones.
    virtual void create(std::string path, std::string data, create_mode mode,
                        callback<std::string> done) = 0;
    // Reads data and stat. A non-empty `watch` is left iff the read succeeds.
    virtual void get(std::string path, watch_fn watch, callback<node_data> done) = 0;
    // Writes data iff the version matches (or `expected` is any_version); returns the new stat.
    virtual void set(std::string path, std::string data, model::zk_version expected,
                     callback<znode_stat> done) = 0;
    // Deletes a childless znode iff the version matches (or `expected` is any_version).
    virtual void remove(std::string path, model::zk_version expected, callback<void> done) = 0;
    // Completes with the stat, or nullopt when the node does not exist. A non-empty `watch`
    // is left in both cases (fires on creation when absent).
    virtual void exists(std::string path, watch_fn watch,
                        callback<std::optional<znode_stat>> done) = 0;
    // Lists children. A non-empty `watch` is left iff the listing succeeds.
    virtual void get_children(std::string path, watch_fn watch, callback<children> done) = 0;
    // Reads many znodes without leaving watches: one result per path, in order, each the
    // node or its own error (no_node, bad_arguments). The whole call fails with the transient
    // errors, errc::closed, or errc::unsupported when the server cannot batch reads (the
    // caller then reads one by one). Sees every write committed before the call, but is not
    // ordered with this client's other operations (zk_client reads on a session of its own,
    // with ZooKeeper's multiRead, after a sync).
    virtual void read_many(std::vector<std::string> paths,
                           callback<std::vector<result<node_data>>> done) = 0;
    // Runs all ops atomically. REQUIRES: 1 <= ops.size() <= limits::multi_ops_max.
    virtual void multi(std::vector<op> ops, multi_fn done) = 0;

    // Session listeners run on the loop, in registration order.
    virtual listener_id add_session_listener(session_fn fn) = 0;
    virtual void remove_session_listener(listener_id id) = 0;

    // The current session, or no_session before the first connection.
    virtual session_id session() const = 0;
    // Returns true iff the last session event delivered was `connected`.
    virtual bool is_connected() const = 0;
    // Ends the session now (its ephemerals go away at once). Pending operations complete
    // with errc::closed; later calls fail with errc::closed. Idempotent.
    virtual void close() = 0;
};

}  // namespace gregor::coord

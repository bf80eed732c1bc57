// fake_tree: the in-memory znode tree behind fake_ensemble.
//
// Implements ZooKeeper's data semantics on absolute paths: versions, cversion-based
// sequential names, ephemeral owners, czxid/mzxid/pzxid from the zxid the caller passes,
// and atomic multi (ops applied in order with an undo log; on the first failure everything
// is rolled back). It knows nothing about sessions' liveness or watches: it returns what
// changed so the ensemble can fire watches. Owned by one fake_ensemble; single-threaded.
#pragma once

#include "coord/client.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gregor::coord::detail {

// A change the ensemble turns into watch events.
struct tree_change {
    enum class kind { created, deleted, data_changed } what;
    std::string path;
};

class fake_tree {
public:
    fake_tree();

    result<std::string> create(const std::string& path, std::string data, create_mode mode,
                               session_id owner, zxid tx, std::vector<tree_change>& changes);
    result<znode_stat> set(const std::string& path, std::string data, model::zk_version expected,
                           zxid tx, std::vector<tree_change>& changes);
    result<void> remove(const std::string& path, model::zk_version expected, zxid tx,
                        std::vector<tree_change>& changes);
    result<void> check(const std::string& path, model::zk_version expected) const;
    // Applies all ops or none. Per-op results follow ZooKeeper's reporting (see client.h).
    multi_response multi(const std::vector<op>& ops, session_id owner, zxid tx,
                         std::vector<tree_change>& changes);

    result<node_data> get(const std::string& path) const;
    std::optional<znode_stat> exists(const std::string& path) const;
    result<children> get_children(const std::string& path) const;
    // The paths of every ephemeral znode owned by `owner`.
    std::vector<std::string> ephemerals_of(session_id owner) const;

private:
    struct node {
        std::string data;
        znode_stat stat;
        std::set<std::string> children;
    };
    // What a failed multi undoes: a node as it was (nullopt: absent), or only a parent's stat
    // and whether it listed `child` (copying a parent with many children per op would make
    // bulk creates quadratic).
    struct undo_entry {
        std::string path;
        std::optional<node> snapshot;
        bool parent_only = false;
        std::string child;
        bool had_child = false;
    };
    using undo_log = std::vector<undo_entry>;

    result<void> apply(const op& o, session_id owner, zxid tx, op_result& out,
                       std::vector<tree_change>& changes, undo_log& undo);
    void remember(undo_log& undo, const std::string& path) const;
    void remember_parent(undo_log& undo, const std::string& child_path) const;
    void rollback(undo_log& undo);
    void put(const std::string& path, node n);
    void erase(std::map<std::string, node>::iterator it);
    static znode_stat stat_of(const node& n);

    std::map<std::string, node> nodes_;
    std::map<session_id, std::set<std::string>> ephemerals_;  // owner -> paths
};

}  // namespace gregor::coord::detail

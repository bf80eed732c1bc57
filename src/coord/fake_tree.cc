#include "coord/fake_tree.h"

#include "coord/path.h"

#include <fmt/format.h>

namespace gregor::coord::detail {

fake_tree::fake_tree() {
    nodes_.emplace("/", node{});
}

znode_stat fake_tree::stat_of(const node& n) {
    znode_stat s = n.stat;
    s.data_length = static_cast<std::int32_t>(n.data.size());
    s.num_children = static_cast<std::int32_t>(n.children.size());
    return s;
}

result<std::string> fake_tree::create(const std::string& path, std::string data, create_mode mode,
                                      session_id owner, zxid tx,
                                      std::vector<tree_change>& changes) {
    GREGOR_TRY_VOID(validate_path(path));
    if (path == "/") {
        return error(errc::node_exists, "/");
    }
    std::string parent(parent_path(path));
    auto p = nodes_.find(parent);
    if (p == nodes_.end()) {
        return error(errc::no_node, fmt::format("parent of {}", path));
    }
    if (p->second.stat.ephemeral_owner != no_session) {
        return error(errc::no_children_for_ephemerals, parent);
    }
    // ZooKeeper names sequential children after the parent's cversion at creation time.
    std::string name = is_sequential(mode) ? path + sequence_suffix(p->second.stat.cversion) : path;
    if (nodes_.contains(name)) {
        return error(errc::node_exists, name);
    }
    p->second.children.insert(std::string(base_name(name)));
    p->second.stat.cversion += 1;
    p->second.stat.pzxid = tx;
    node n;
    n.data = std::move(data);
    n.stat.czxid = tx;
    n.stat.mzxid = tx;
    n.stat.pzxid = tx;
    n.stat.ephemeral_owner = is_ephemeral(mode) ? owner : no_session;
    put(name, std::move(n));
    changes.push_back({tree_change::kind::created, name});
    return name;
}

result<znode_stat> fake_tree::set(const std::string& path, std::string data,
                                  model::zk_version expected, zxid tx,
                                  std::vector<tree_change>& changes) {
    GREGOR_TRY_VOID(validate_path(path));
    auto it = nodes_.find(path);
    if (it == nodes_.end()) {
        return error(errc::no_node, path);
    }
    node& n = it->second;
    if (expected != any_version && expected != n.stat.version) {
        return error(errc::bad_version,
                     fmt::format("{} is at version {}, not {}", path, n.stat.version, expected));
    }
    n.data = std::move(data);
    n.stat.version += 1;
    n.stat.mzxid = tx;
    changes.push_back({tree_change::kind::data_changed, path});
    return stat_of(n);
}

result<void> fake_tree::remove(const std::string& path, model::zk_version expected, zxid tx,
                               std::vector<tree_change>& changes) {
    GREGOR_TRY_VOID(validate_path(path));
    if (path == "/") {
        return error(errc::bad_arguments, "cannot remove /");
    }
    auto it = nodes_.find(path);
    if (it == nodes_.end()) {
        return error(errc::no_node, path);
    }
    if (expected != any_version && expected != it->second.stat.version) {
        return error(errc::bad_version, fmt::format("{} is at version {}, not {}", path,
                                                    it->second.stat.version, expected));
    }
    if (!it->second.children.empty()) {
        return error(errc::not_empty, path);
    }
    erase(it);
    node& parent = nodes_.at(std::string(parent_path(path)));
    parent.children.erase(std::string(base_name(path)));
    parent.stat.cversion += 1;
    parent.stat.pzxid = tx;
    changes.push_back({tree_change::kind::deleted, path});
    return ok();
}

result<void> fake_tree::check(const std::string& path, model::zk_version expected) const {
    GREGOR_TRY_VOID(validate_path(path));
    auto it = nodes_.find(path);
    if (it == nodes_.end()) {
        return error(errc::no_node, path);
    }
    if (expected != any_version && expected != it->second.stat.version) {
        return error(errc::bad_version, fmt::format("{} is at version {}, not {}", path,
                                                    it->second.stat.version, expected));
    }
    return ok();
}

void fake_tree::put(const std::string& path, node n) {
    if (n.stat.ephemeral_owner != no_session) {
        ephemerals_[n.stat.ephemeral_owner].insert(path);
    }
    nodes_.insert_or_assign(path, std::move(n));
}

void fake_tree::erase(std::map<std::string, node>::iterator it) {
    session_id owner = it->second.stat.ephemeral_owner;
    if (owner != no_session) {
        auto e = ephemerals_.find(owner);
        if (e != ephemerals_.end()) {
            e->second.erase(it->first);
            if (e->second.empty()) {
                ephemerals_.erase(e);
            }
        }
    }
    nodes_.erase(it);
}

void fake_tree::remember(undo_log& undo, const std::string& path) const {
    auto it = nodes_.find(path);
    undo.push_back({path, it == nodes_.end() ? std::nullopt : std::optional<node>(it->second),
                    false, {}, false});
}

void fake_tree::remember_parent(undo_log& undo, const std::string& child_path) const {
    std::string parent(parent_path(child_path));
    auto it = nodes_.find(parent);
    if (it == nodes_.end()) {
        undo.push_back({parent, std::nullopt, false, {}, false});
        return;
    }
    std::string child(base_name(child_path));
    node bare{it->second.data, it->second.stat, {}};
    bool had = it->second.children.contains(child);
    undo.push_back({parent, std::move(bare), true, std::move(child), had});
}

void fake_tree::rollback(undo_log& undo) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
        auto cur = nodes_.find(it->path);
        if (it->parent_only) {
            if (cur != nodes_.end()) {
                cur->second.data = it->snapshot->data;
                cur->second.stat = it->snapshot->stat;
                if (it->had_child) {
                    cur->second.children.insert(it->child);
                } else {
                    cur->second.children.erase(it->child);
                }
            }
        } else if (it->snapshot) {
            if (cur != nodes_.end()) {
                erase(cur);
            }
            put(it->path, *it->snapshot);
        } else if (cur != nodes_.end()) {
            erase(cur);
        }
    }
    undo.clear();
}

result<void> fake_tree::apply(const op& o, session_id owner, zxid tx, op_result& out,
                              std::vector<tree_change>& changes, undo_log& undo) {
    if (const auto* c = std::get_if<create_op>(&o)) {
        if (c->path.size() > 1 && c->path.front() == '/') {
            remember_parent(undo, c->path);
        }
        // The created name is only known after creation; remember it as absent then.
        GREGOR_TRY(out.path, create(c->path, c->data, c->mode, owner, tx, changes));
        undo.back().child = std::string(base_name(out.path));  // a sequential name
        undo.push_back({out.path, std::nullopt, false, {}, false});
        return ok();
    }
    if (const auto* s = std::get_if<set_op>(&o)) {
        remember(undo, s->path);
        GREGOR_TRY(auto st, set(s->path, s->data, s->version, tx, changes));
        out.stat = st;
        return ok();
    }
    if (const auto* r = std::get_if<remove_op>(&o)) {
        remember(undo, r->path);
        if (r->path.size() > 1 && r->path.front() == '/') {
            remember_parent(undo, r->path);
        }
        return remove(r->path, r->version, tx, changes);
    }
    const auto& k = std::get<check_op>(o);
    return check(k.path, k.version);
}

multi_response fake_tree::multi(const std::vector<op>& ops, session_id owner, zxid tx,
                                std::vector<tree_change>& changes) {
    multi_response resp;
    resp.results.resize(ops.size());
    std::vector<tree_change> staged;
    undo_log undo;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        auto r = apply(ops[i], owner, tx, resp.results[i], staged, undo);
        if (r.has_error()) {
            rollback(undo);
            for (std::size_t j = 0; j < ops.size(); ++j) {
                resp.results[j] = op_result{};
                if (j > i) {
                    resp.results[j].error = make_error_code(errc::runtime_inconsistency);
                }
            }
            resp.results[i].error = r.code();
            resp.error = r.code();
            return resp;
        }
    }
    changes.insert(changes.end(), staged.begin(), staged.end());
    return resp;
}

result<node_data> fake_tree::get(const std::string& path) const {
    GREGOR_TRY_VOID(validate_path(path));
    auto it = nodes_.find(path);
    if (it == nodes_.end()) {
        return error(errc::no_node, path);
    }
    return node_data{it->second.data, stat_of(it->second)};
}

std::optional<znode_stat> fake_tree::exists(const std::string& path) const {
    auto it = nodes_.find(path);
    if (it == nodes_.end()) {
        return std::nullopt;
    }
    return stat_of(it->second);
}

result<children> fake_tree::get_children(const std::string& path) const {
    GREGOR_TRY_VOID(validate_path(path));
    auto it = nodes_.find(path);
    if (it == nodes_.end()) {
        return error(errc::no_node, path);
    }
    children out;
    out.names.assign(it->second.children.begin(), it->second.children.end());
    out.stat = stat_of(it->second);
    return out;
}

std::vector<std::string> fake_tree::ephemerals_of(session_id owner) const {
    auto it = ephemerals_.find(owner);
    if (it == ephemerals_.end()) {
        return {};
    }
    return {it->second.begin(), it->second.end()};
}

}  // namespace gregor::coord::detail

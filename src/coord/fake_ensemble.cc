#include "coord/fake_ensemble.h"

#include "coord/fake_client.h"
#include "coord/path.h"

#include <algorithm>

namespace gregor::coord {

fake_ensemble::~fake_ensemble() {
    GREGOR_ASSERT(clients_.empty(), "fake_ensemble destroyed with {} clients attached",
                  clients_.size());
}

std::uint64_t fake_ensemble::attach(fake_client* c) {
    std::uint64_t key = next_key_++;
    clients_.emplace(key, c);
    return key;
}

void fake_ensemble::detach(std::uint64_t key) {
    clients_.erase(key);
}

session_id fake_ensemble::open_session(std::uint64_t key) {
    session_id s{next_session_++};
    sessions_.emplace(s, key);
    return s;
}

void fake_ensemble::end_session(session_id s, bool linger_ephemerals) {
    if (sessions_.erase(s) == 0) {
        return;
    }
    for (auto* table : {&data_watches_, &child_watches_}) {
        for (auto it = table->begin(); it != table->end();) {
            std::erase_if(it->second, [s](const watch_reg& w) { return w.session == s; });
            it = it->second.empty() ? table->erase(it) : std::next(it);
        }
    }
    if (linger_ephemerals) {
        return;
    }
    // ZooKeeper deletes all ephemerals of a closing session in one transaction.
    zxid tx = next_zxid();
    std::vector<detail::tree_change> changes;
    auto paths = tree_.ephemerals_of(s);
    // Deepest first is not needed (ephemerals have no children), but keep the order stable.
    for (const auto& p : paths) {
        ignore_error(tree_.remove(p, any_version, tx, changes), "listed just above");
    }
    fire(changes);
}

void fake_ensemble::enqueue(delivery d) {
    queue_.push_back(std::move(d));
    schedule_drain();
}

void fake_ensemble::schedule_drain() {
    if (!post_ || drain_scheduled_ || !has_pending()) {
        return;
    }
    drain_scheduled_ = true;
    post_([this] {
        drain_scheduled_ = false;
        run_pending();
    });
}

void fake_ensemble::add_watch(bool child, const std::string& path, std::uint64_t key, session_id s,
                              watch_fn fn) {
    auto& table = child ? child_watches_ : data_watches_;
    table[path].push_back(watch_reg{key, s, std::move(fn)});
}

void fake_ensemble::fire_one(std::map<std::string, std::vector<watch_reg>>& table,
                             const std::string& path, watch_event_type type) {
    auto it = table.find(path);
    if (it == table.end()) {
        return;
    }
    std::vector<watch_reg> regs = std::move(it->second);
    table.erase(it);
    for (auto& w : regs) {
        watch_event ev{type, path};
        enqueue(
            delivery{w.client_key, w.session, true, [fn = std::move(w.fn), ev] { fn(ev); }, {}});
    }
}

void fake_ensemble::fire(const std::vector<detail::tree_change>& changes) {
    using kind = detail::tree_change::kind;
    for (const auto& c : changes) {
        switch (c.what) {
            case kind::created:
                fire_one(data_watches_, c.path, watch_event_type::created);
                fire_one(child_watches_, std::string(parent_path(c.path)),
                         watch_event_type::children_changed);
                break;
            case kind::data_changed:
                fire_one(data_watches_, c.path, watch_event_type::data_changed);
                break;
            case kind::deleted:
                fire_one(data_watches_, c.path, watch_event_type::deleted);
                fire_one(child_watches_, c.path, watch_event_type::deleted);
                fire_one(child_watches_, std::string(parent_path(c.path)),
                         watch_event_type::children_changed);
                break;
        }
    }
}

void fake_ensemble::fail_pending_completions(std::uint64_t key, std::error_code why) {
    for (auto& d : queue_) {
        if (d.client_key == key && d.fail) {
            d.run = [fail = std::move(d.fail), why] { fail(why); };
            d.fail = nullptr;
        }
    }
}

bool fake_ensemble::deliverable(const delivery& d) const {
    auto it = clients_.find(d.client_key);
    if (it == clients_.end()) {
        return true;  // dropped when reached
    }
    const fake_client& c = *it->second;
    if (c.held_) {
        return false;
    }
    return !(d.is_watch && !c.link_up_);
}

bool fake_ensemble::has_pending() const {
    for (const auto& d : queue_) {
        if (deliverable(d)) {
            return true;
        }
    }
    return false;
}

std::size_t fake_ensemble::run_pending() {
    std::size_t ran = 0;
    for (;;) {
        auto it = std::find_if(queue_.begin(), queue_.end(),
                               [this](const delivery& d) { return deliverable(d); });
        if (it == queue_.end()) {
            return ran;
        }
        delivery d = std::move(*it);
        queue_.erase(it);
        auto c = clients_.find(d.client_key);
        if (c == clients_.end()) {
            continue;
        }
        if (d.session != no_session && d.session != c->second->session_) {
            // A callback of an older session: watches vanish, completions report expiry
            // (unless already turned into a failure).
            if (d.is_watch) {
                continue;
            }
            if (d.fail) {
                d.run = [fail = std::move(d.fail)] {
                    fail(make_error_code(errc::session_expired));
                };
            }
        }
        d.run();
        ++ran;
    }
}

std::optional<node_data> fake_ensemble::peek(const std::string& path) const {
    auto r = tree_.get(path);
    if (r.has_error()) {
        return std::nullopt;
    }
    return std::move(r).value();
}

}  // namespace gregor::coord

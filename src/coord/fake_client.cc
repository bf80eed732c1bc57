#include "coord/fake_client.h"

#include "coord/limits.h"
#include "coord/path.h"

namespace gregor::coord {

fake_client::fake_client(fake_ensemble& ensemble, fake_client_options opts)
    : ensemble_(ensemble), chroot_(std::move(opts.chroot)) {
    GREGOR_ASSERT(chroot_.empty() || validate_path(chroot_).has_value(), "bad chroot '{}'",
                  chroot_);
    if (chroot_ == "/") {
        chroot_.clear();
    }
    key_ = ensemble_.attach(this);
    start_new_session();
}

fake_client::~fake_client() {
    if (!closed_) {
        ensemble_.end_session(session_);
    }
    ensemble_.detach(key_);
}

void fake_client::start_new_session() {
    session_ = ensemble_.open_session(key_);
    expired_while_down_ = false;
    queue_session_event(session_state::connected, session_);
}

void fake_client::queue_session_event(session_state state, session_id s) {
    ensemble_.enqueue(fake_ensemble::delivery{key_,
                                              no_session,
                                              false,
                                              [this, state, s] {
                                                  delivered_connected_ =
                                                      state == session_state::connected;
                                                  // Listeners may add or remove listeners; iterate
                                                  // over a snapshot.
                                                  auto snapshot = listeners_;
                                                  for (auto& [id, fn] : snapshot) {
                                                      if (listeners_.contains(id)) {
                                                          fn(session_event{state, s});
                                                      }
                                                  }
                                              },
                                              {}});
}

std::optional<std::error_code> fake_client::refuse(const std::string& path,
                                                   std::size_t request_bytes) const {
    if (request_bytes > limits::request_bytes_max) {
        return make_error_code(errc::request_too_large);
    }
    if (closed_) {
        return make_error_code(errc::closed);
    }
    if (!link_up_) {
        return make_error_code(errc::connection_loss);
    }
    if (auto v = validate_path(path); v.has_error()) {
        return v.code();
    }
    return std::nullopt;
}

std::string fake_client::to_abs(const std::string& path) const {
    if (chroot_.empty()) {
        return path;
    }
    return path == "/" ? chroot_ : chroot_ + path;
}

std::string fake_client::to_rel(const std::string& path) const {
    if (chroot_.empty()) {
        return path;
    }
    return path.size() == chroot_.size() ? std::string("/") : path.substr(chroot_.size());
}

watch_fn fake_client::wrap_watch(watch_fn fn) const {
    if (chroot_.empty()) {
        return fn;
    }
    return [fn = std::move(fn), this](const watch_event& e) { fn({e.type, to_rel(e.path)}); };
}

template <class T>
void fake_client::complete(callback<T> done, result<T> r) {
    ensemble_.enqueue(fake_ensemble::delivery{key_, session_, false,
                                              [done, r = std::move(r)] { done(r); },
                                              [done](std::error_code e) { done(error(e)); }});
}

void fake_client::create(std::string path, std::string data, create_mode mode,
                         callback<std::string> done) {
    if (auto e = refuse(path, request_bytes(path, data))) {
        return complete<std::string>(std::move(done), error(*e));
    }
    std::vector<detail::tree_change> changes;
    auto r = ensemble_.tree_.create(to_abs(path), std::move(data), mode, session_,
                                    ensemble_.next_zxid(), changes);
    ensemble_.fire(changes);
    if (r.has_value()) {
        r = to_rel(r.value());
    }
    complete(std::move(done), std::move(r));
}

void fake_client::get(std::string path, watch_fn watch, callback<node_data> done) {
    if (auto e = refuse(path)) {
        return complete<node_data>(std::move(done), error(*e));
    }
    auto r = ensemble_.tree_.get(to_abs(path));
    if (r.has_value() && watch) {
        ensemble_.add_watch(false, to_abs(path), key_, session_, wrap_watch(std::move(watch)));
    }
    complete(std::move(done), std::move(r));
}

void fake_client::read_many(std::vector<std::string> paths,
                            callback<std::vector<result<node_data>>> done) {
    using all = std::vector<result<node_data>>;
    if (auto e = refuse("/")) {
        return complete<all>(std::move(done), error(*e));
    }
    if (read_many_error_) {
        return complete<all>(std::move(done), error(*read_many_error_, "test control"));
    }
    all out;
    out.reserve(paths.size());
    for (const auto& p : paths) {
        if (auto v = validate_path(p); v.has_error()) {
            out.emplace_back(error(v.code(), p));
        } else {
            out.push_back(ensemble_.tree_.get(to_abs(p)));
        }
    }
    complete<all>(std::move(done), std::move(out));
}

void fake_client::set(std::string path, std::string data, model::zk_version expected,
                      callback<znode_stat> done) {
    if (auto e = refuse(path, request_bytes(path, data))) {
        return complete<znode_stat>(std::move(done), error(*e));
    }
    std::vector<detail::tree_change> changes;
    auto r = ensemble_.tree_.set(to_abs(path), std::move(data), expected, ensemble_.next_zxid(),
                                 changes);
    ensemble_.fire(changes);
    complete(std::move(done), std::move(r));
}

void fake_client::remove(std::string path, model::zk_version expected, callback<void> done) {
    if (auto e = refuse(path)) {
        return complete<void>(std::move(done), error(*e));
    }
    std::vector<detail::tree_change> changes;
    auto r = ensemble_.tree_.remove(to_abs(path), expected, ensemble_.next_zxid(), changes);
    ensemble_.fire(changes);
    complete(std::move(done), std::move(r));
}

void fake_client::exists(std::string path, watch_fn watch,
                         callback<std::optional<znode_stat>> done) {
    if (auto e = refuse(path)) {
        return complete<std::optional<znode_stat>>(std::move(done), error(*e));
    }
    auto st = ensemble_.tree_.exists(to_abs(path));
    if (watch) {
        ensemble_.add_watch(false, to_abs(path), key_, session_, wrap_watch(std::move(watch)));
    }
    complete(std::move(done), result<std::optional<znode_stat>>(st));
}

void fake_client::get_children(std::string path, watch_fn watch, callback<children> done) {
    if (auto e = refuse(path)) {
        return complete<children>(std::move(done), error(*e));
    }
    auto r = ensemble_.tree_.get_children(to_abs(path));
    if (r.has_value() && watch) {
        ensemble_.add_watch(true, to_abs(path), key_, session_, wrap_watch(std::move(watch)));
    }
    complete(std::move(done), std::move(r));
}

namespace {

const std::string& op_path(const op& o) {
    return std::visit([](const auto& x) -> const std::string& { return x.path; }, o);
}

}  // namespace

void fake_client::multi(std::vector<op> ops, multi_fn done) {
    GREGOR_ASSERT(!ops.empty() && ops.size() <= limits::multi_ops_max, "multi of {} ops",
                  ops.size());
    std::optional<std::error_code> refused;
    if (request_bytes(ops) > limits::request_bytes_max) {
        refused = make_error_code(errc::request_too_large);
    }
    for (auto& o : ops) {
        refused = refused ? refused : refuse(op_path(o));
        std::visit([this](auto& x) { x.path = to_abs(x.path); }, o);
    }
    multi_response resp;
    if (refused) {
        resp.error = *refused;
    } else {
        std::vector<detail::tree_change> changes;
        resp = ensemble_.tree_.multi(ops, session_, ensemble_.next_zxid(), changes);
        ensemble_.fire(changes);
        for (auto& r : resp.results) {
            r.path = r.path.empty() ? r.path : to_rel(r.path);
        }
    }
    ensemble_.enqueue(fake_ensemble::delivery{key_, session_, false,
                                              [done, resp = std::move(resp)] { done(resp); },
                                              [done](std::error_code e) {
                                                  done(multi_response{e, {}});
                                              }});
}

listener_id fake_client::add_session_listener(session_fn fn) {
    listener_id id = next_listener_++;
    listeners_.emplace(id, std::move(fn));
    return id;
}

void fake_client::remove_session_listener(listener_id id) {
    listeners_.erase(id);
}

void fake_client::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    ensemble_.end_session(session_);
    ensemble_.fail_pending_completions(key_, make_error_code(errc::closed));
}

void fake_client::expire_session(bool linger_ephemerals) {
    GREGOR_ASSERT(!closed_, "expire_session on a closed client");
    ensemble_.end_session(session_, linger_ephemerals);
    if (!link_up_) {
        expired_while_down_ = true;  // the client learns about it when it reconnects
        return;
    }
    queue_session_event(session_state::expired, session_);
    start_new_session();
}

void fake_client::disconnect() {
    GREGOR_ASSERT(!closed_, "disconnect on a closed client");
    if (!link_up_) {
        return;
    }
    link_up_ = false;
    ensemble_.fail_pending_completions(key_, make_error_code(errc::connection_loss));
    queue_session_event(session_state::disconnected, session_);
}

void fake_client::reconnect() {
    GREGOR_ASSERT(!closed_, "reconnect on a closed client");
    if (link_up_) {
        return;
    }
    link_up_ = true;
    if (expired_while_down_) {
        queue_session_event(session_state::expired, session_);
        start_new_session();
    } else {
        queue_session_event(session_state::connected, session_);
    }
    ensemble_.schedule_drain();  // held watch events may now be delivered
}

void fake_client::release() {
    held_ = false;
    ensemble_.schedule_drain();
}

}  // namespace gregor::coord

// zk_client: operations, their C completions, and watches.
#include "coord/logger.h"
#include "coord/path.h"
#include "coord/zk_client.h"
#include "coord/zk_convert.h"
#include "coord/zk_impl.h"
#include "coord/limits.h"

#include <boost/asio/post.hpp>

namespace gregor::coord {

// What a C completion hands back, copied out of the library's buffers.
struct zk_raw {
    int rc = ZOK;
    std::string value;
    struct Stat stat {};
    std::vector<std::string> names;
    std::vector<op_result> multi;
};

namespace {

using impl = zk_client::impl;

impl& impl_of(zhandle_t* zh) {
    return *static_cast<impl*>(const_cast<void*>(zoo_get_context(zh)));
}

std::unique_ptr<zk_task> take(const void* data) {
    return std::unique_ptr<zk_task>(static_cast<zk_task*>(const_cast<void*>(data)));
}

void* watch_ctx(std::uint64_t id) {
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
}

void finish_with(const void* data, zk_raw raw, bool watch_set);

void watch_fired(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
    (void)state;
    if (type == ZOO_SESSION_EVENT) {
        return;  // session changes reach listeners through the global watcher
    }
    impl_of(zh).on_watch(reinterpret_cast<std::uintptr_t>(ctx), type, path);
}

void create_done(int rc, const char* value, const void* data) {
    zk_raw raw;
    raw.rc = rc;
    if (rc == ZOK && value != nullptr) {
        raw.value = value;
    }
    finish_with(data, std::move(raw), false);
}

void data_done(int rc, const char* value, int len, const struct Stat* st, const void* data) {
    zk_raw raw;
    raw.rc = rc;
    if (rc == ZOK) {
        if (value != nullptr && len > 0) {
            raw.value.assign(value, static_cast<std::size_t>(len));
        }
        raw.stat = *st;
    }
    finish_with(data, std::move(raw), rc == ZOK);
}

void stat_done(int rc, const struct Stat* st, const void* data) {
    zk_raw raw;
    raw.rc = rc;
    if (rc == ZOK) {
        raw.stat = *st;
    }
    // exists leaves its watch also when the node is missing.
    finish_with(data, std::move(raw), rc == ZOK || rc == ZNONODE);
}

void void_done(int rc, const void* data) {
    zk_raw raw;
    raw.rc = rc;
    finish_with(data, std::move(raw), false);
}

void children_done(int rc, const struct String_vector* strings, const struct Stat* st,
                   const void* data) {
    zk_raw raw;
    raw.rc = rc;
    if (rc == ZOK) {
        for (std::int32_t i = 0; strings != nullptr && i < strings->count; ++i) {
            raw.names.emplace_back(strings->data[i]);
        }
        raw.stat = *st;
    }
    finish_with(data, std::move(raw), rc == ZOK);
}

void multi_done(int rc, const void* data) {
    auto* t = static_cast<zk_task*>(const_cast<void*>(data));
    zk_raw raw;
    raw.rc = rc;
    bool per_op = rc == ZOK || rc == ZNONODE || rc == ZNODEEXISTS || rc == ZBADVERSION ||
                  rc == ZNOTEMPTY || rc == ZNOCHILDRENFOREPHEMERALS || rc == ZBADARGUMENTS;
    for (std::size_t i = 0; per_op && i < t->zresults.size(); ++i) {
        op_result r;
        int err = t->zresults[i].err;
        r.error = err == ZOK ? std::error_code{} : detail::from_zk(err);
        if (err == ZOK && rc == ZOK && std::holds_alternative<create_op>(t->ops[i])) {
            r.path = t->path_buffers[i].c_str();
        }
        if (err == ZOK && rc == ZOK && std::holds_alternative<set_op>(t->ops[i])) {
            r.stat = detail::from_zk(t->stats[i]);
        }
        raw.multi.push_back(std::move(r));
    }
    finish_with(data, std::move(raw), false);
}

}  // namespace

namespace {

void finish_with(const void* data, zk_raw raw, bool watch_set) {
    auto t = take(data);
    auto self = t->owner.lock();
    if (!self) {
        return;
    }
    if (t->watch_id != 0 && !watch_set) {
        self->drop_watch(t->watch_id);
    }
    auto on_result = std::move(t->on_result);
    self->finish(*t, [on_result = std::move(on_result), raw = std::move(raw)] { on_result(raw); });
}

}  // namespace

void zk_client::impl::finish(zk_task& t, std::function<void()> deliver) {
    if (t.generation == generation_ && in_flight_ > 0) {
        --in_flight_;
    }
    if (cfg_.on_request_done) {
        cfg_.on_request_done(std::chrono::steady_clock::now() - t.sent);
    }
    boost::asio::post(ioc_, [weak = weak_from_this(), gen = t.generation,
                             deliver = std::move(deliver), fail = std::move(t.fail)] {
        auto self = weak.lock();
        if (!self) {
            return;
        }
        if (self->closed_) {
            fail(make_error_code(errc::closed));
        } else if (gen != self->generation_) {
            fail(make_error_code(errc::session_expired));  // never as if current
        } else {
            deliver();
        }
    });
    pump();
}

void zk_client::impl::post_failure(std::function<void(std::error_code)> fail, std::error_code e) {
    boost::asio::post(ioc_, [weak = weak_from_this(), fail = std::move(fail), e] {
        if (weak.lock()) {
            fail(e);
        }
    });
}

void zk_client::impl::fail_queued(std::error_code e) {
    auto queued = std::move(queued_);
    queued_.clear();
    for (auto& t : queued) {
        post_failure(std::move(t->fail), e);
    }
}

void zk_client::impl::enqueue(std::unique_ptr<zk_task> t, const std::string& path,
                              std::size_t request_bytes) {
    std::error_code refused;
    if (request_bytes > limits::request_bytes_max) {
        refused = make_error_code(errc::request_too_large);
    } else if (closed_) {
        refused = make_error_code(errc::closed);
    } else if (!connected_) {
        refused = make_error_code(errc::connection_loss);
    } else if (auto v = validate_path(path); v.has_error()) {
        refused = v.code();
    } else if (queued_.size() >= cfg_.queued_max) {
        refused = make_error_code(errc::queue_full);
    }
    if (refused) {
        return post_failure(std::move(t->fail), refused);
    }
    queued_.push_back(std::move(t));
    pump();
}

void zk_client::impl::pump() {
    bool sent = false;
    while (connected_ && zh_ != nullptr && in_flight_ < cfg_.in_flight_max && !queued_.empty()) {
        auto t = std::move(queued_.front());
        queued_.pop_front();
        t->generation = generation_;
        t->sent = std::chrono::steady_clock::now();
        int rc = t->submit(zh_, t.get());
        if (rc != ZOK) {
            if (t->watch_id != 0) {
                drop_watch(t->watch_id);
            }
            post_failure(std::move(t->fail), detail::from_zk(rc));
            continue;
        }
        ++in_flight_;
        (void)t.release();  // owned by the library until its completion runs
        sent = true;
    }
    if (sent) {
        schedule_rearm();
    }
}

std::uint64_t zk_client::impl::register_watch(watch_fn fn) {
    std::uint64_t id = next_watch_++;
    watches_.emplace(id, std::move(fn));
    return id;
}

void zk_client::impl::drop_watch(std::uint64_t id) {
    watches_.erase(id);
}

void zk_client::impl::on_watch(std::uint64_t id, int type, const char* path) {
    auto it = watches_.find(id);
    if (it == watches_.end()) {
        return;
    }
    watch_fn fn = std::move(it->second);
    watches_.erase(it);
    watch_event ev;
    ev.path = path != nullptr ? path : "";
    if (type == ZOO_CREATED_EVENT) {
        ev.type = watch_event_type::created;
    } else if (type == ZOO_DELETED_EVENT) {
        ev.type = watch_event_type::deleted;
    } else if (type == ZOO_CHANGED_EVENT) {
        ev.type = watch_event_type::data_changed;
    } else if (type == ZOO_CHILD_EVENT) {
        ev.type = watch_event_type::children_changed;
    } else {
        return;  // ZOO_NOTWATCHING_EVENT: removed watches are not reported
    }
    boost::asio::post(ioc_, [weak = weak_from_this(), gen = generation_, fn = std::move(fn), ev] {
        auto self = weak.lock();
        if (self && !self->closed_ && gen == self->generation_) {
            fn(ev);
        }
    });
}

namespace {

template <class T>
std::unique_ptr<zk_task> make_task(const std::shared_ptr<impl>& owner, callback<T> done,
                                   std::function<result<T>(const zk_raw&)> convert,
                                   std::string path) {
    auto t = std::make_unique<zk_task>();
    t->owner = owner;
    t->fail = [done, path](std::error_code e) { done(error(e, path)); };
    t->on_result = [done, convert = std::move(convert), path](const zk_raw& raw) {
        if (raw.rc != ZOK) {
            done(error(detail::from_zk(raw.rc), path));
        } else {
            done(convert(raw));
        }
    };
    return t;
}

const char* data_ptr(const std::string& s) {
    return s.empty() ? nullptr : s.data();
}
int data_len(const std::string& s) {
    return s.empty() ? -1 : static_cast<int>(s.size());
}

}  // namespace

void zk_client::create(std::string path, std::string data, create_mode mode,
                       callback<std::string> done) {
    auto t = make_task<std::string>(
        impl_, std::move(done), [](const zk_raw& r) { return result<std::string>(r.value); }, path);
    const std::size_t bytes = request_bytes(path, data);
    t->submit = [path, data = std::move(data), mode](zhandle_t* zh, zk_task* self) {
        return zoo_acreate(zh, path.c_str(), data_ptr(data), data_len(data), &ZOO_OPEN_ACL_UNSAFE,
                           detail::to_zk_mode(mode), create_done, self);
    };
    impl_->enqueue(std::move(t), path, bytes);
}

void zk_client::get(std::string path, watch_fn watch, callback<node_data> done) {
    auto t = make_task<node_data>(
        impl_, std::move(done),
        [](const zk_raw& r) {
            return result<node_data>(node_data{r.value, detail::from_zk(r.stat)});
        },
        path);
    t->submit = [path, watch = std::move(watch)](zhandle_t* zh, zk_task* self) {
        self->watch_id = watch ? impl_of(zh).register_watch(watch) : 0;
        return zoo_awget(zh, path.c_str(), watch ? watch_fired : nullptr, watch_ctx(self->watch_id),
                         data_done, self);
    };
    impl_->enqueue(std::move(t), path);
}

void zk_client::read_many(std::vector<std::string> paths,
                          callback<std::vector<result<node_data>>> done) {
    auto& m = *impl_;
    std::optional<error> refused;
    if (m.closed_) {
        refused = error(errc::closed);
    } else if (!m.connected_ || m.zh_ == nullptr) {
        refused = error(errc::connection_loss);
    } else if (m.multi_reads_.size() >= limits::multi_reads_max) {
        refused = error(errc::queue_full, "batched reads");
    }
    const char* current = refused ? nullptr : zoo_get_current_server(m.zh_);
    auto server = current != nullptr ? detail::parse_server(current)
                                     : result<std::pair<std::string, std::uint16_t>>(
                                           error(errc::connection_loss, "no current server"));
    if (!refused && server.has_error()) {
        refused = server.err();
    }
    if (refused) {
        boost::asio::post(m.ioc_, [weak = m.weak_from_this(), done = std::move(done),
                                   e = std::move(*refused)] {
            if (weak.lock()) {
                done(e);
            }
        });
        return;
    }
    detail::multi_read_config cfg;
    cfg.host = server->first;
    cfg.port = server->second;
    cfg.chroot = m.chroot_;
    cfg.session_timeout = m.cfg_.session_timeout;
    std::uint64_t id = m.next_multi_read_++;
    auto finished = [weak = m.weak_from_this(), id, done = std::move(done)](
                        result<std::vector<result<node_data>>> r) {
        auto self = weak.lock();
        if (!self) {
            return;  // the client was destroyed: pending callbacks are dropped
        }
        self->multi_reads_.erase(id);
        done(self->closed_ ? result<std::vector<result<node_data>>>(error(errc::closed))
                           : std::move(r));
    };
    m.multi_reads_.emplace(id, detail::start_multi_read(m.ioc_, std::move(cfg), std::move(paths),
                                                        std::move(finished)));
}

void zk_client::impl::cancel_multi_reads() {
    auto running = std::move(multi_reads_);
    multi_reads_.clear();
    for (auto& [id, handle] : running) {
        handle->cancel();
    }
}

void zk_client::set(std::string path, std::string data, model::zk_version expected,
                    callback<znode_stat> done) {
    auto t = make_task<znode_stat>(
        impl_, std::move(done),
        [](const zk_raw& r) { return result<znode_stat>(detail::from_zk(r.stat)); }, path);
    const std::size_t bytes = request_bytes(path, data);
    t->submit = [path, data = std::move(data), expected](zhandle_t* zh, zk_task* self) {
        return zoo_aset(zh, path.c_str(), data.data(), static_cast<int>(data.size()), expected(),
                        stat_done, self);
    };
    impl_->enqueue(std::move(t), path, bytes);
}

void zk_client::remove(std::string path, model::zk_version expected, callback<void> done) {
    auto t = make_task<void>(
        impl_, std::move(done), [](const zk_raw&) { return result<void>(); }, path);
    t->submit = [path, expected](zhandle_t* zh, zk_task* self) {
        return zoo_adelete(zh, path.c_str(), expected(), void_done, self);
    };
    impl_->enqueue(std::move(t), path);
}

void zk_client::exists(std::string path, watch_fn watch, callback<std::optional<znode_stat>> done) {
    using out = std::optional<znode_stat>;
    auto t = make_task<out>(
        impl_,
        [done = std::move(done)](result<out> r) {
            // A missing node is an answer here, not an error.
            if (r.has_error() && r.code() == errc::no_node) {
                return done(out{});
            }
            done(std::move(r));
        },
        [](const zk_raw& r) { return result<out>(out(detail::from_zk(r.stat))); }, path);
    t->submit = [path, watch = std::move(watch)](zhandle_t* zh, zk_task* self) {
        self->watch_id = watch ? impl_of(zh).register_watch(watch) : 0;
        return zoo_awexists(zh, path.c_str(), watch ? watch_fired : nullptr,
                            watch_ctx(self->watch_id), stat_done, self);
    };
    impl_->enqueue(std::move(t), path);
}

void zk_client::get_children(std::string path, watch_fn watch, callback<children> done) {
    auto t = make_task<children>(
        impl_, std::move(done),
        [](const zk_raw& r) {
            return result<children>(children{r.names, detail::from_zk(r.stat)});
        },
        path);
    t->submit = [path, watch = std::move(watch)](zhandle_t* zh, zk_task* self) {
        self->watch_id = watch ? impl_of(zh).register_watch(watch) : 0;
        return zoo_awget_children2(zh, path.c_str(), watch ? watch_fired : nullptr,
                                   watch_ctx(self->watch_id), children_done, self);
    };
    impl_->enqueue(std::move(t), path);
}

namespace {

int submit_multi(zhandle_t* zh, zk_task* t, std::size_t chroot_bytes) {
    std::size_t n = t->ops.size();
    t->zops.resize(n);
    t->zresults.resize(n);
    t->path_buffers.resize(n);
    t->stats.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        zoo_op_t* z = &t->zops[i];
        if (auto* c = std::get_if<create_op>(&t->ops[i])) {
            // Room for the chroot and the 10-digit sequential suffix.
            t->path_buffers[i].assign(c->path.size() + chroot_bytes + 16, '\0');
            zoo_create_op_init(z, c->path.c_str(), data_ptr(c->data), data_len(c->data),
                               &ZOO_OPEN_ACL_UNSAFE, detail::to_zk_mode(c->mode),
                               t->path_buffers[i].data(),
                               static_cast<int>(t->path_buffers[i].size()));
        } else if (auto* s = std::get_if<set_op>(&t->ops[i])) {
            zoo_set_op_init(z, s->path.c_str(), s->data.data(), static_cast<int>(s->data.size()),
                            s->version(), &t->stats[i]);
        } else if (auto* r = std::get_if<remove_op>(&t->ops[i])) {
            zoo_delete_op_init(z, r->path.c_str(), r->version());
        } else {
            const auto& k = std::get<check_op>(t->ops[i]);
            zoo_check_op_init(z, k.path.c_str(), k.version());
        }
    }
    return zoo_amulti(zh, static_cast<int>(n), t->zops.data(), t->zresults.data(), multi_done, t);
}

}  // namespace

void zk_client::multi(std::vector<op> ops, multi_fn done) {
    GREGOR_ASSERT(!ops.empty() && ops.size() <= limits::multi_ops_max, "multi of {} ops",
                  ops.size());
    auto t = std::make_unique<zk_task>();
    t->owner = impl_;
    t->fail = [done](std::error_code e) { done(multi_response{e, {}}); };
    t->on_result = [done](const zk_raw& raw) {
        done(
            multi_response{raw.rc == ZOK ? std::error_code{} : detail::from_zk(raw.rc), raw.multi});
    };
    // Every path must be valid; the first invalid one refuses the whole request.
    std::string check_path = "/";
    for (const auto& o : ops) {
        const auto& p = std::visit([](const auto& x) -> const std::string& { return x.path; }, o);
        if (validate_path(p).has_error()) {
            check_path = p;
        }
    }
    const std::size_t bytes = request_bytes(ops);
    t->ops = std::move(ops);
    t->submit = [chroot = impl_->chroot_.size()](zhandle_t* zh, zk_task* self) {
        return submit_multi(zh, self, chroot);
    };
    impl_->enqueue(std::move(t), check_path, bytes);
}

}  // namespace gregor::coord

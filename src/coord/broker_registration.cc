#include "coord/broker_registration.h"

#include "coord/logger.h"
#include "coord/znode_paths.h"

namespace gregor::coord {

broker_registration::broker_registration(client& c, model::node_id id, broker_info info,
                                         random_fn random, registration_handlers handlers,
                                         std::chrono::milliseconds foreign_owner_wait)
    : client_(c),
      id_(id),
      path_(paths::broker(id)),
      payload_(encode_broker(info)),
      random_(std::move(random)),
      handlers_(std::move(handlers)),
      foreign_owner_wait_(foreign_owner_wait) {}

broker_registration::~broker_registration() {
    if (listener_ != 0) {
        client_.remove_session_listener(listener_);
    }
}

template <class F>
auto broker_registration::guard(F f) {
    return [weak = std::weak_ptr<int>(alive_), attempt = attempt_, this,
            f = std::move(f)](auto&& r) mutable {
        if (weak.expired() || attempt != attempt_) {
            return;  // destroyed, or a newer attempt superseded this one
        }
        f(std::forward<decltype(r)>(r));
    };
}

void broker_registration::start() {
    GREGOR_ASSERT(phase_ == phase::idle, "broker_registration::start called twice");
    listener_ = client_.add_session_listener([this](const session_event& ev) { on_session(ev); });
    phase_ = phase::ensuring_paths;
    run_phase();
}

void broker_registration::run_phase() {
    ++attempt_;
    waiting_for_connection_ = false;
    switch (phase_) {
        case phase::ensuring_paths:
            return ensure_paths();
        case phase::reading_cluster_id:
            return read_cluster_id();
        case phase::registering:
            return register_broker();
        case phase::idle:
        case phase::registered:
        case phase::failed:
            return;
    }
}

void broker_registration::ensure_paths() {
    // One session's requests are applied in order, so parents listed first exist in time.
    auto all = paths::top_level_paths();
    auto remaining = std::make_shared<std::size_t>(all.size());
    for (auto p : all) {
        client_.create(std::string(p), "", create_mode::persistent,
                       guard([this, remaining](result<std::string> r) {
                           if (r.has_error() && r.code() != errc::node_exists) {
                               ++attempt_;  // ignore the rest of this batch
                               return on_error(r.err(), "ensuring top-level paths");
                           }
                           if (--*remaining == 0) {
                               phase_ = phase::reading_cluster_id;
                               run_phase();
                           }
                       }));
    }
}

void broker_registration::read_cluster_id() {
    client_.get(std::string(paths::cluster_id), {}, guard([this](result<node_data> r) {
                    if (r.has_error() && r.code() == errc::no_node) {
                        return create_cluster_id();
                    }
                    if (r.has_error()) {
                        return on_error(r.err(), "reading /cluster/id");
                    }
                    auto id = decode_cluster_id(r->data);
                    if (id.has_error()) {
                        return fatal(id.err());
                    }
                    cluster_id_ = std::move(id).value();
                    GREGOR_LOG(coord_log, info, "cluster id {}", cluster_id_);
                    phase_ = phase::registering;
                    run_phase();
                }));
}

void broker_registration::create_cluster_id() {
    auto bytes = random_();
    std::string id = make_cluster_id(bytes);
    client_.create("/cluster", "", create_mode::persistent, [](result<std::string>) {});
    client_.create(std::string(paths::cluster_id), encode_cluster_id(id), create_mode::persistent,
                   guard([this](result<std::string> r) {
                       if (r.has_error() && r.code() != errc::node_exists) {
                           return on_error(r.err(), "creating /cluster/id");
                       }
                       read_cluster_id();  // ours or a racing broker's: read what won
                   }));
}

void broker_registration::register_broker() {
    std::vector<op> ops{create_op{path_, "", create_mode::ephemeral},
                        set_op{path_, payload_, model::zk_version{0}}};
    client_.multi(std::move(ops), guard([this](multi_response resp) {
                      if (!resp.error) {
                          const auto& st = resp.results.at(1).stat;
                          GREGOR_ASSERT(st.has_value(), "set op without a stat");
                          epoch_ = model::broker_epoch{st->czxid()};
                          registered_session_ = client_.session();
                          phase_ = phase::registered;
                          GREGOR_LOG(coord_log, info, "registered broker {} at {} epoch {}", id_,
                                     path_, epoch_);
                          watch_own_node(epoch_);
                          return handlers_.on_registered(epoch_);
                      }
                      if (resp.error == errc::node_exists && resp.failed_index() == 0) {
                          return on_node_exists();
                      }
                      on_error(error(resp.error, path_), "registering the broker");
                  }));
}

void broker_registration::on_node_exists() {
    client_.get(path_, {}, guard([this](result<node_data> r) {
                    if (r.has_error() && r.code() == errc::no_node) {
                        return run_phase();  // it went away meanwhile: try again
                    }
                    if (r.has_error()) {
                        return on_error(r.err(), "reading the existing registration");
                    }
                    session_id owner = r->stat.ephemeral_owner;
                    if (owner == client_.session()) {
                        // An earlier attempt of this session applied; only its response was lost.
                        epoch_ = model::broker_epoch{r->stat.czxid()};
                        registered_session_ = owner;
                        phase_ = phase::registered;
                        watch_own_node(epoch_);
                        return handlers_.on_registered(epoch_);
                    }
                    if (!previous_sessions_.contains(owner)) {
                        return on_foreign_owner(owner);
                    }
                    GREGOR_LOG(coord_log, info, "removing stale {} of our previous session {:#x}",
                               path_, owner());
                    client_.remove(path_, r->stat.version, guard([this](result<void> rr) {
                                       if (rr.has_error() && rr.code() != errc::no_node &&
                                           rr.code() != errc::bad_version) {
                                           return on_error(rr.err(),
                                                           "removing the stale registration");
                                       }
                                       run_phase();
                                   }));
                }));
}

void broker_registration::on_foreign_owner(session_id owner) {
    bool can_wait = handlers_.after && foreign_owner_wait_.count() > 0;
    if (!can_wait || wait_over_ || (waited_for_ && *waited_for_ != owner)) {
        std::string held =
            waited_for_ == owner
                ? fmt::format(
                      "{} is still registered by ZooKeeper session {:#x} after waiting {} "
                      "ms for that session to expire (this broker's session is {:#x})",
                      path_, owner(), foreign_owner_wait_.count(), client_.session()())
                : fmt::format(
                      "{} is registered by ZooKeeper session {:#x}, not by this broker "
                      "(session {:#x})",
                      path_, owner(), client_.session()());
        return fatal(
            error(errc::fatal_registration,
                  fmt::format("{}; is another broker running with broker.id={}?", held, id_)));
    }
    if (!waited_for_) {
        waited_for_ = owner;
        GREGOR_LOG(coord_log, warn,
                   "{} is registered by ZooKeeper session {:#x}, not by this broker (session "
                   "{:#x}): waiting up to {} ms for that session to expire, as it does when an "
                   "earlier run of broker {} ended without closing it (kill -9, a crash, a "
                   "power loss); if another broker runs with broker.id={}, this ends in an error",
                   path_, owner(), client_.session()(), foreign_owner_wait_.count(), id_, id_);
        handlers_.after(foreign_owner_wait_, [weak = std::weak_ptr<int>(alive_), this] {
            if (weak.expired() || phase_ != phase::registering) {
                return;
            }
            wait_over_ = true;
            run_phase();  // registers if the node went; else fatal above
        });
    }
    // Register again as soon as the node is deleted (or already was).
    auto retry = [weak = std::weak_ptr<int>(alive_), this] {
        if (!weak.expired() && phase_ == phase::registering && !waiting_for_connection_) {
            run_phase();
        }
    };
    client_.exists(
        path_,
        [retry](const watch_event& ev) {
            if (ev.type == watch_event_type::deleted) {
                retry();
            }
        },
        guard([this, retry](result<std::optional<znode_stat>> r) {
            if (r.has_error()) {
                return on_error(r.err(), "watching the existing registration");
            }
            if (!r->has_value()) {
                retry();  // deleted between the read and the watch
            }
        }));
}

void broker_registration::watch_own_node(model::broker_epoch epoch) {
    auto deleted = [weak = std::weak_ptr<int>(alive_), this, epoch] {
        if (!weak.expired()) {
            on_own_node_deleted(epoch);
        }
    };
    client_.exists(
        path_,
        [weak = std::weak_ptr<int>(alive_), this, epoch, deleted](const watch_event& ev) {
            if (ev.type == watch_event_type::deleted) {
                deleted();
            } else if (!weak.expired() && phase_ == phase::registered && epoch_ == epoch) {
                watch_own_node(epoch);  // a data change: watches fire once, so watch again
            }
        },
        [weak = std::weak_ptr<int>(alive_), this, epoch,
         deleted](result<std::optional<znode_stat>> r) {
            if (weak.expired()) {
                return;
            }
            if (r.has_error()) {
                // No watch was left: set it again once connected (an expiry instead
                // registers anew, and watches the new node then).
                watch_on_connect_ = true;
                return;
            }
            if (!r->has_value() || (*r)->czxid() != epoch()) {
                deleted();  // deleted (or replaced) between the registration and the watch
            }
        });
}

void broker_registration::on_own_node_deleted(model::broker_epoch epoch) {
    if (phase_ != phase::registered || epoch_ != epoch) {
        return;  // expired meanwhile, or already registered again
    }
    GREGOR_LOG(coord_log, warn,
               "{} (epoch {}) was deleted by another ZooKeeper client while this broker's session "
               "{:#x} lives (the controller found this broker's process gone, or an operator "
               "removed it): registering again with a new broker epoch",
               path_, epoch, client_.session()());
    epoch_ = model::no_broker_epoch;
    phase_ = phase::registering;
    if (handlers_.on_lost) {
        handlers_.on_lost(/*expired=*/false);
    }
    run_phase();
}

void broker_registration::on_session(const session_event& ev) {
    if (phase_ == phase::failed || phase_ == phase::idle) {
        return;
    }
    if (ev.state == session_state::expired) {
        previous_sessions_.insert(ev.session);
        ++attempt_;  // completions of the old session are void
        if (phase_ == phase::registered) {
            epoch_ = model::no_broker_epoch;
            phase_ = phase::registering;
            if (handlers_.on_lost) {
                handlers_.on_lost(/*expired=*/true);
            }
        }
        waiting_for_connection_ = true;
        return;
    }
    if (ev.state == session_state::connected && waiting_for_connection_) {
        run_phase();
    } else if (ev.state == session_state::connected && watch_on_connect_ &&
               phase_ == phase::registered) {
        watch_on_connect_ = false;
        watch_own_node(epoch_);
    }
}

void broker_registration::on_error(const error& e, std::string_view during) {
    if (is_transient(e.code) || e.code == errc::runtime_inconsistency) {
        GREGOR_LOG(coord_log, info, "{} interrupted ({}); retrying when connected", during,
                   e.to_string());
        waiting_for_connection_ = true;
        if (client_.is_connected() && e.code == errc::operation_timeout) {
            run_phase();
        }
        return;
    }
    fatal(error(e.code, fmt::format("{}: {}", during, e.to_string())));
}

void broker_registration::fatal(error e) {
    GREGOR_LOG(coord_log, err, "broker registration failed: {}", e.to_string());
    phase_ = phase::failed;
    if (handlers_.on_fatal) {
        handlers_.on_fatal(e);
    }
}

}  // namespace gregor::coord

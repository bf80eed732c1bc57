// The controller's event queue, election and resignation.
#include "controller/impl.h"
#include "controller/logger.h"

#include "base/assert.h"
#include "coord/errc.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

namespace gregor::controller {

using model::kafka_error;

std::int16_t error_code(kafka_error e) {
    return static_cast<std::int16_t>(e);
}

controller::impl::impl(asio::io_context& i, coord::client& z, broker_channels& ch,
                       controller_config c, controller_hooks h)
  : ioc(i),
    zk(z),
    channels(ch),
    cfg(std::move(c)),
    hooks(std::move(h)),
    client_id("gregor-controller-" + std::to_string(cfg.self())),
    wake(std::make_unique<wakeup>(i.get_executor())),
    loop_finished(std::make_unique<wakeup>(i.get_executor())),
    rng(cfg.assignment_seed != 0 ? cfg.assignment_seed : std::random_device{}()) {}

void controller::impl::enqueue(std::string name, std::function<asio::awaitable<void>()> run,
                               std::function<void()> refuse, bool coalesce) {
    if (stopping) {
        if (refuse) {
            asio::post(ioc, std::move(refuse));
        }
        return;
    }
    if (coalesce && !queued_names.insert(name).second) {
        return;  // the queued one will read the latest state
    }
    if (refuse && queue.size() >= cfg.event_queue_max) {
        GREGOR_LOG_RATE_LIMITED(controller_log, warn, std::chrono::seconds(5), "controller event queue full; refusing {}",
                                name);
        asio::post(ioc, std::move(refuse));
        return;
    }
    queue.push_back({std::move(name), std::move(run), std::move(refuse)});
    wake->notify();
}

// The event loop owns a strong reference for as long as it runs (a parameter: g++ 12 does not
// keep a coroutine's local shared_ptr alive reliably).
asio::awaitable<void> controller::impl::run_loop(std::shared_ptr<impl> self) {
    for (;;) {
        while (self->queue.empty() && !self->stopping) {
            co_await self->wake->wait();
        }
        if (self->stopping) {
            break;
        }
        event ev = std::move(self->queue.front());
        self->queue.pop_front();
        self->queued_names.erase(ev.name);
        co_await ev.run();
    }
    for (event& ev : self->queue) {
        if (ev.refuse) {
            ev.refuse();
        }
    }
    self->queue.clear();
    self->loop_done = true;
    self->loop_finished->notify();
}

coord::watch_fn controller::impl::watch_event(std::string name,
                                              std::function<asio::awaitable<void>()> run) {
    std::weak_ptr<impl> weak = weak_from_this();
    std::uint64_t gen = generation;
    return [weak, gen, name = std::move(name), run = std::move(run)](const coord::watch_event&) {
        auto self = weak.lock();
        if (self && self->generation == gen && self->is_active) {
            self->enqueue(name, run, {}, true);
        }
    };
}

coord::watch_fn controller::impl::controller_watch() {
    std::weak_ptr<impl> weak = weak_from_this();
    return [weak](const coord::watch_event& ev) {
        auto self = weak.lock();
        if (!self) {
            return;
        }
        if (ev.type == coord::watch_event_type::deleted) {
            self->controller_gone_seen = std::chrono::system_clock::now();
            self->enqueue("reelect", [self]() -> asio::awaitable<void> {
                if (self->is_active) {
                    self->resign("/controller was deleted");
                }
                return self->elect();
            }, {}, true);
        } else {
            self->enqueue("controller_change", [self] { return self->learn_controller(); }, {},
                          true);
        }
    };
}

asio::awaitable<coord::multi_response> controller::impl::fenced(const std::vector<coord::op>& body) {
    std::vector<coord::op> ops;
    ops.push_back(coord::check_op{std::string(coord::paths::controller_epoch), ctx.epoch_version});
    ops.insert(ops.end(), body.begin(), body.end());
    coord::multi_response r = co_await zk::multi(zk, ops);
    if (fenced_out(r)) {
        resign("/controller_epoch moved on: another controller was elected");
    }
    co_return r;
}

asio::awaitable<coord::multi_response> controller::impl::fenced_op(const coord::op& one) {
    std::vector<coord::op> ops;
    ops.push_back(one);
    auto r = co_await fenced(ops);
    co_return r;
}

bool controller::impl::fenced_out(const coord::multi_response& r) const {
    return r.error && !r.results.empty() && r.failed_index() == 0 &&
           (r.results[0].error == coord::errc::bad_version ||
            r.results[0].error == coord::errc::no_node);
}

asio::awaitable<void> controller::impl::elect() {
    if (stopping || is_active || !zk.is_connected()) {
        co_return;
    }
    const std::string controller_path(coord::paths::controller);
    const std::string epoch_path(coord::paths::controller_epoch);
    const coord::watch_fn watch = controller_watch();
    const coord::watch_fn no_watch;
    auto present = co_await zk::exists(zk, controller_path, watch);
    if (!present) {
        GREGOR_LOG(controller_log, info, "cannot read /controller ({}); retrying on reconnect",
                   present.err().to_string());
        co_return;
    }
    if (*present) {
        co_await learn_controller();
        co_return;
    }
    auto epoch_node = co_await zk::get(zk, epoch_path, no_watch);
    if (!epoch_node && epoch_node.code() == coord::errc::no_node) {
        // The first election of the cluster: /controller_epoch starts at 0.
        const std::string zero = coord::encode_controller_epoch(model::controller_epoch(0));
        co_await zk::create(zk, epoch_path, zero, coord::create_mode::persistent);
        epoch_node = co_await zk::get(zk, epoch_path, no_watch);
    }
    if (!epoch_node) {
        co_return;
    }
    auto current = coord::decode_controller_epoch(epoch_node->data);
    if (!current) {
        GREGOR_LOG(controller_log, err, "/controller_epoch is malformed: {}",
                   current.err().to_string());
        co_return;
    }
    model::controller_epoch next(current->value() + 1);
    coord::controller_data me{cfg.self, cfg.now(), std::nullopt};
    std::vector<coord::op> ops;
    ops.push_back(coord::create_op{std::string(coord::paths::controller),
                                   coord::encode_controller(me), coord::create_mode::ephemeral});
    ops.push_back(coord::set_op{std::string(coord::paths::controller_epoch),
                                coord::encode_controller_epoch(next), epoch_node->stat.version});
    auto r = co_await zk::multi(zk, ops);
    if (!r.error) {
        model::zk_version version = r.results[1].stat->version;
        co_await become_controller(next, version);
        co_return;
    }
    // Lost the race (node_exists / bad_version), or a lost response: learn who won.
    co_await learn_controller();
}

asio::awaitable<void> controller::impl::learn_controller() {
    if (stopping) {
        co_return;
    }
    const std::string controller_path(coord::paths::controller);
    const std::string epoch_path(coord::paths::controller_epoch);
    const coord::watch_fn watch = controller_watch();
    const coord::watch_fn no_watch;
    auto node = co_await zk::get(zk, controller_path, watch);
    if (!node) {
        if (node.code() == coord::errc::no_node) {
            // Deleted between the events: compete again (and keep a watch).
            if (is_active) {
                resign("/controller is gone");
            }
            co_await elect();
        }
        co_return;
    }
    auto who = coord::decode_controller(node->data);
    model::node_id id = who ? who->broker : model::no_node;
    if (id == cfg.self && !is_active && node->stat.ephemeral_owner == zk.session()) {
        // Our own create applied but its answer was lost: we are controller.
        auto e = co_await zk::get(zk, epoch_path, no_watch);
        if (e) {
            if (auto v = coord::decode_controller_epoch(e->data)) {
                model::controller_epoch epoch = *v;
                model::zk_version version = e->stat.version;
                co_await become_controller(epoch, version);
                co_return;
            }
        }
    }
    if (is_active && id != cfg.self) {
        resign("/controller now names broker " + std::to_string(id()));
    }
    if (known != id) {
        GREGOR_LOG(controller_log, info, "broker {} is the controller", id());
    }
    known = id;
}

void controller::impl::resign(const std::string& why) {
    if (!is_active) {
        return;
    }
    GREGOR_LOG(controller_log, warn, "resigning as controller (epoch {}): {}", ctx.epoch(), why);
    is_active = false;
    ++generation;
    known = model::no_node;
    for (const auto& [id, b] : ctx.brokers) {
        channels.remove_broker(id);
    }
    ctx.clear();
    deleting.clear();
    processes_gone.clear();
    if (rebalance_timer) {
        rebalance_timer->cancel();
    }
    // Pending admin requests are answered NOT_CONTROLLER; watch events die with the role.
    std::deque<event> keep;
    for (event& ev : queue) {
        if (ev.refuse) {
            ev.refuse();
        } else if (ev.name == "reelect" || ev.name == "controller_change" || ev.name == "elect") {
            keep.push_back(std::move(ev));
        } else {
            queued_names.erase(ev.name);
        }
    }
    queue = std::move(keep);
    if (hooks.on_role_change) {
        hooks.on_role_change(model::no_controller_epoch);
    }
}

void controller::impl::on_session(const coord::session_event& ev) {
    auto self = shared_from_this();
    switch (ev.state) {
    case coord::session_state::expired:
        // Kafka's Expire: resign at once, ahead of anything queued.
        resign("ZooKeeper session expired");
        known = model::no_node;
        break;
    case coord::session_state::connected:
        if (ev.session != last_session) {
            last_session = ev.session;
            enqueue("elect", [self] { return self->elect(); }, {}, true);
        } else if (is_active) {
            // Same session back after a disconnect: watches may have been missed.
            enqueue("broker_change", [self] { return self->on_broker_change(); }, {}, true);
            enqueue("topic_change", [self] { return self->on_topic_change(); }, {}, true);
            enqueue("deletion_change", [self] { return self->on_deletion_change(); }, {}, true);
            enqueue("preferred_replica_election",
                    [self] { return self->on_preferred_election_node(); }, {}, true);
            enqueue("log_dir_event", [self] { return self->on_log_dir_event(); }, {}, true);
            enqueue(
                "unclean_receipts", [self] { return self->on_unclean_receipts(); }, {}, true);
        } else {
            enqueue("elect", [self] { return self->elect(); }, {}, true);
        }
        break;
    case coord::session_state::disconnected:
        break;
    }
}

asio::awaitable<void> controller::impl::become_controller(model::controller_epoch e,
                                                          model::zk_version v) {
    ctx.clear();
    ctx.epoch = e;
    ctx.epoch_version = v;
    is_active = true;
    known = cfg.self;
    ++generation;
    GREGOR_LOG(controller_log, info, "broker {} is now the controller with epoch {}", cfg.self(),
               e());
    if (hooks.on_role_change) {
        hooks.on_role_change(e);
    }
    co_await on_failover();
}

// ---- public API ---------------------------------------------------------------------------

controller::controller(asio::io_context& ioc, coord::client& zk, broker_channels& channels,
                       controller_config config, controller_hooks hooks)
  : impl_(std::make_shared<impl>(ioc, zk, channels, std::move(config), std::move(hooks))) {
    if (!impl_->cfg.now) {
        impl_->cfg.now = [] { return model::timestamp_ms(0); };
    }
}

controller::~controller() {
    impl_->stopping = true;
    if (impl_->rebalance_timer) {
        impl_->rebalance_timer->cancel();
    }
    if (impl_->session_listener != 0) {
        impl_->zk.remove_session_listener(impl_->session_listener);
    }
    impl_->wake->notify();
}

void controller::start() {
    GREGOR_ASSERT(!impl_->started, "controller started twice");
    impl_->started = true;
    std::weak_ptr<impl> weak = impl_;
    impl_->session_listener = impl_->zk.add_session_listener([weak](const coord::session_event& ev) {
        if (auto self = weak.lock()) {
            self->on_session(ev);
        }
    });
    impl_->last_session = impl_->zk.session();
    if (impl_->cfg.fast_crash_detection) {
        impl_->channels.watch_processes([weak](model::node_id id) {
            if (auto self = weak.lock()) {
                self->report_process_gone(id);
            }
        });
    }
    auto self = impl_;
    impl_->enqueue("elect", [self] { return self->elect(); }, {}, true);
    asio::co_spawn(impl_->ioc, impl::run_loop(impl_), asio::detached);
}

asio::awaitable<void> controller::stop() {
    auto self = impl_;
    if (self->started && !self->stopping) {
        // Step down visibly, in turn with other events: deleting /controller (fenced) lets
        // another broker win now rather than after our session times out.
        std::function<asio::awaitable<bool>()> work = [self]() -> asio::awaitable<bool> {
            // From here on no election runs: deleting /controller starts one, and a broker
            // on its way out must not win it (alone, it would).
            self->stopping = true;
            if (self->is_active) {
                const coord::op remove = coord::remove_op{std::string(coord::paths::controller),
                                                          coord::any_version};
                co_await self->fenced_op(remove);
                self->resign("broker shutting down");
            }
            co_return true;
        };
        std::function<bool()> refuse = [] { return false; };
        co_await self->submit<bool>("stop", work, refuse);
    }
    self->stopping = true;
    self->wake->notify();
    while (self->started && !self->loop_done) {
        co_await self->loop_finished->wait();
    }
}

bool controller::active() const {
    return impl_->is_active;
}
model::node_id controller::known_controller() const {
    return impl_->known;
}
model::controller_epoch controller::epoch() const {
    return impl_->ctx.epoch;
}
const controller_context& controller::context() const {
    return impl_->ctx;
}
const decision_journal& controller::journal() const {
    return impl_->decisions;
}
can_stop_answer controller::can_stop(model::node_id broker) const {
    return check_can_stop(impl_->ctx, broker, impl_->cfg.broker_properties);
}

asio::awaitable<protocol::controlled_shutdown_response> controller::controlled_shutdown(
    const protocol::controlled_shutdown_request& req) {
    using R = protocol::controlled_shutdown_response;
    auto self = impl_;
    std::function<asio::awaitable<R>()> work = [self, req]() {
        return self->do_controlled_shutdown(req);
    };
    std::function<R()> refuse = [] {
        R r;
        r.error_code = error_code(kafka_error::stale_controller_epoch);
        return r;
    };
    auto out = co_await self->submit<R>("controlled_shutdown", work, refuse);
    co_return out;
}

}  // namespace gregor::controller

// The simulation's event queue, broker processes, faults and load. Controller requests are
// in cluster_control.cc, fetchers and ISR changes in cluster_data.cc, the invariants in
// cluster_checks.cc.
#include "sim/cluster.h"

#include "controller/tests/sim_broker.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "sim/control_channels.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>

namespace gregor::sim {

namespace asio = boost::asio;
using model::node_id;

namespace {

constexpr std::int64_t heal_max_ms = 60'000;
constexpr std::size_t produces_in_flight_max = 32;
constexpr std::int64_t produce_timeout_ms = 2000;
const std::string topic = "events";

storage::log_config log_config() {
    storage::log_config c;
    c.segment_bytes = 2048;  // small segments: fetches and recovery cross rolls
    c.segment_index_bytes = 1024;
    return c;
}

coord::broker_info info_for(node_id id) {
    coord::broker_info b;
    b.timestamp = model::timestamp_ms(1);
    b.endpoints.push_back({"PLAINTEXT", "127.0.0.1", 9090 + id(), "PLAINTEXT"});
    return b;
}

asio::awaitable<protocol::controlled_shutdown_response> ask_shutdown(
    controller::controller* ctl, std::shared_ptr<const protocol::controlled_shutdown_request> req) {
    co_return co_await ctl->controlled_shutdown(*req);
}

}  // namespace

sim_knobs sim_knobs::random(std::mt19937_64& rng) {
    sim_knobs k;
    const int drops[] = {0, 1, 5, 15};
    const std::int64_t delays[] = {3, 20, 80};
    const std::int64_t lags[] = {100, 300, 1000};
    const std::int32_t mins[] = {1, 2, 2, 3};
    k.brokers = 3 + static_cast<int>(rng() % 2);
    k.partitions = 1 + static_cast<int>(rng() % 3);
    k.drop_percent = drops[rng() % 4];
    k.delay_max_ms = delays[rng() % 3];
    k.lag_time_max_ms = lags[rng() % 3];
    k.min_insync = mins[rng() % 4];
    k.fault_every_ms = 100 + static_cast<std::int64_t>(rng() % 500);
    k.produce_every_ms = 5 + static_cast<std::int64_t>(rng() % 30);
    k.session_timeout_ms = 100 + static_cast<std::int64_t>(rng() % 400);
    return k;
}

cluster::cluster(std::uint64_t seed, bool trace)
    : rng_(seed),
      knobs_(sim_knobs::random(rng_)),
      tracing_(trace),
      ensemble_([this](std::function<void()> fn) { asio::post(ioc_, std::move(fn)); }) {
    for (int i = 1; i <= knobs_.brokers; ++i) {
        nodes_.push_back(std::make_unique<node>(node_id(i)));
    }
    for (auto& n : nodes_) {
        start(*n);
    }
}

cluster::~cluster() {
    queue_.clear();
    for (auto& n : nodes_) {
        if (n->running) {
            kill(*n);
        }
        n->zk.reset();
    }
    settle();
    nodes_.clear();
    settle();
    queue_.clear();  // what the last handlers scheduled
}

// ---- Event queue.

void cluster::after(std::int64_t delay_ms, std::function<void()> fn) {
    queue_.emplace(std::make_pair(now_ms_ + std::max<std::int64_t>(delay_ms, 0), ++seq_),
                   std::move(fn));
}

void cluster::send(node_id from, node_id to, std::function<void()> fn) {
    if (cut(from, to) || (faults_ && chance(knobs_.drop_percent))) {
        return;
    }
    after(net_delay(), std::move(fn));
}

bool cluster::cut(node_id a, node_id b) const {
    return cut_links_.contains({a(), b()});
}

std::int64_t cluster::pick(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(hi - lo + 1));
}

bool cluster::chance(int percent) {
    return static_cast<int>(rng_() % 100) < percent;
}

std::int64_t cluster::net_delay() {
    if (!faults_) {
        return pick(1, 5);
    }
    if (rng_() % 20 == 0) {
        return pick(1, 400);  // late enough to arrive after a retry
    }
    return pick(1, knobs_.delay_max_ms);
}

void cluster::settle() {
    for (;;) {
        ioc_.restart();
        std::size_t ran = ioc_.poll();
        for (auto& n : nodes_) {
            if (n->running) {
                n->env.drain();
            }
        }
        if (ran == 0) {
            return;
        }
    }
}

void cluster::fail(std::string why) {
    if (broken_.empty()) {
        broken_ = fmt::format("t={}ms: {}", now_ms_, why);
    }
}

void cluster::trace(const std::string& what) {
    if (tracing_) {
        std::printf("t=%lld %s\n", static_cast<long long>(now_ms_), what.c_str());
    }
}

std::string cluster::run(std::int64_t fault_ms) {
    settle();
    after(pick(0, 50), [this] { create_topic(); });
    after(pick(50, knobs_.fault_every_ms), [this] { fault_tick(); });
    after(pick(0, 20), [this] { produce_tick(); });
    bool healing = false;
    while (!queue_.empty() && broken_.empty()) {
        auto it = queue_.begin();
        now_ms_ = it->first.first;
        auto fn = std::move(it->second);
        queue_.erase(it);
        if (!healing && now_ms_ >= fault_ms) {
            healing = true;
            faults_ = false;  // no more drops or faults; the broken parts come back
            cut_links_.clear();
        }
        fn();
        after_event();
        ++stats_.events;
        if (healing && broken_.empty() && converged()) {
            stats_.heal_ms = now_ms_ - fault_ms;
            final_checks();
            return broken_;
        }
        if (now_ms_ > fault_ms + heal_max_ms) {
            fail("the cluster did not converge after the faults stopped: " + dump());
        }
    }
    return broken_.empty() ? "event queue ran dry: " + dump() : broken_;
}

// ---- Broker processes.

void cluster::start(node& n) {
    ++n.incarnation;
    n.running = true;
    n.epoch = model::no_broker_epoch;
    n.known_controller = model::no_node;
    n.live.clear();
    n.leaders.clear();
    n.following.clear();
    n.seen.clear();
    n.alter = 0;
    n.unanswered.reset();
    n.alter_quiet_until_ms = 0;
    auto ctx = n.env.ctx();
    ctx.clock = [this] { return now(); };
    n.logs = std::make_unique<storage::log_manager>(
        ctx, std::vector<std::string>{"/data"}, [](const std::string&) { return log_config(); });
    auto loaded = n.logs->load(now());
    if (!loaded) {
        fail(fmt::format("broker {} cannot load its logs: {}", n.id(), loaded.err().to_string()));
        return;
    }
    node* np = &n;
    replication::replication_config rc{
        .min_insync_replicas = knobs_.min_insync,
        .lag_time_max = std::chrono::milliseconds(knobs_.lag_time_max_ms)};
    n.replicas = std::make_unique<broker::replica_manager>(
        n.id, *n.logs, [rc](const std::string&) { return rc; },
        [np](node_id b) { return np->live.contains(b); });
    n.zk = std::make_unique<coord::fake_client>(ensemble_);
    n.zk_cut = false;
    n.stopping = false;
    n.shutdown_attempt = -1;
    n.channels = std::make_unique<control_channels>(*this, n.id);
    controller::controller_hooks hooks;
    hooks.on_role_change = [this, id = n.id](model::controller_epoch e) {
        if (e == model::no_controller_epoch) {
            trace(fmt::format("broker {} resigned as controller", id()));
            return;
        }
        ++stats_.controller_elections;
        trace(fmt::format("broker {} is controller in epoch {}", id(), e()));
        auto [it, fresh] = activations_.emplace(e, id);
        if (!fresh && it->second != id) {
            fail(fmt::format("brokers {} and {} both became controller in epoch {}", it->second(),
                             id(), e()));
        }
    };
    n.ctl = std::make_unique<controller::controller>(
        ioc_, *n.zk, *n.channels, controller::sim::sim_controller_config(n.id, rng_() | 1), hooks);
    n.ctl_started = false;
    coord::registration_handlers h;
    h.on_registered = [this, np](model::broker_epoch e) {
        np->epoch = e;
        trace(fmt::format("broker {} registered, broker epoch {}", np->id(), e()));
        if (!np->ctl_started) {
            np->ctl_started = true;
            np->ctl->start();
        }
    };
    h.after = [this](std::chrono::milliseconds delay, std::function<void()> fn) {
        after(delay.count(), std::move(fn));
    };
    h.on_fatal = [this, np](const error& e) {
        fail(fmt::format("broker {} cannot register: {}", np->id(), e.to_string()));
    };
    n.registration = std::make_unique<coord::broker_registration>(
        *n.zk, n.id, info_for(n.id),
        [] {
            return std::array<std::uint8_t, 16>{1, 2, 3};
        },
        std::move(h), std::chrono::milliseconds(knobs_.session_timeout_ms + 100));
    n.registration->start();
    const std::uint64_t inc = n.incarnation;
    after(knobs_.lag_time_max_ms / 2, [this, id = n.id, inc] { shrink_tick(id, inc); });
    after(pick(50, 500), [this, id = n.id, inc] { checkpoint_tick(id, inc); });
    trace(fmt::format("broker {} started (incarnation {})", n.id(), n.incarnation));
}

// kill -9: the process and its queued disk work vanish, the page cache stays; its
// ZooKeeper session lives on until the session timeout, then the broker starts again.
void cluster::kill(node& n) {
    trace(fmt::format("broker {} killed", n.id()));
    report_process_gone(n);
    n.running = false;
    n.stopping = false;
    n.registration.reset();
    n.ctl.reset();
    settle();
    n.channels.reset();
    n.replicas.reset();
    n.logs.reset();
    n.env.worker = std::make_unique<storage::io_worker>(storage::io_worker::mode::manual);
    n.env.exec = std::make_unique<storage::manual_executor>();
    n.following.clear();
    n.alter = 0;
    n.unanswered.reset();
    n.alter_quiet_until_ms = 0;
    n.old_zk = std::move(n.zk);  // the session outlives the process
    n.old_zk_incarnation = n.incarnation;
}

// Fast crash detection (src/controller/README.md): a controller whose channel to `n` was up
// when `n` died sees the watch connection end and the listener refuse a moment later and
// reports it, unless the link between them is cut (the connection's end never arrives) or
// `n` runs again by then (its new listener accepts).
void cluster::report_process_gone(node& n) {
    for (auto& m : nodes_) {
        if (m->id == n.id || !m->running || !m->channels || cut(m->id, n.id)) {
            continue;
        }
        std::weak_ptr<int> watch = m->channels->watch_of(n.id);
        if (watch.expired()) {
            continue;
        }
        after(pick(1, 20), [this, mid = m->id, minc = m->incarnation, nid = n.id,
                            ninc = n.incarnation, watch] {
            node& w = at(mid);
            node& dead = at(nid);
            if (!w.running || w.incarnation != minc || watch.expired() || dead.running ||
                dead.incarnation != ninc) {
                return;
            }
            ++stats_.gone_reports;
            trace(fmt::format("broker {}'s watch: broker {}'s process is gone", mid(), nid()));
            w.channels->report_gone(nid);
        });
    }
}

// The killed process's session ends at its timeout; the broker starts again after it, or
// (as under a supervisor that restarts at once) before it, when its registration has to
// wait for the old one to go.
void cluster::schedule_restart(node_id id, std::uint64_t incarnation) {
    after(knobs_.session_timeout_ms, [this, id, incarnation] {
        node& n = at(id);
        if (n.old_zk && n.old_zk_incarnation == incarnation) {
            trace(fmt::format("broker {}'s old session timed out", id()));
            n.old_zk.reset();  // its ephemerals (registration, maybe /controller) go
            settle();
        }
    });
    const bool early = chance(30);
    stats_.early_restarts += early ? 1 : 0;
    const std::int64_t delay =
        early ? pick(5, knobs_.session_timeout_ms / 2) : knobs_.session_timeout_ms + pick(10, 300);
    after(delay, [this, id, incarnation] {
        if (at(id).incarnation == incarnation && !at(id).running) {
            start(at(id));
        }
    });
}

// SIGTERM: Kafka's controlled shutdown (the controller moves this broker's leaderships
// away; up to 3 attempts, each timing out after 300 ms), then a clean stop.
void cluster::controlled_shutdown(node& n, int attempt) {
    if (!n.running || !n.stopping) {
        return;
    }
    const node_id id = n.id;
    const std::uint64_t inc = n.incarnation;
    n.shutdown_attempt = attempt;
    // The attempt's end: an answer (done or not) or its timeout, whichever comes first.
    auto finish = [this, id, inc, attempt](bool done) {
        node& m = at(id);
        if (!m.running || m.incarnation != inc || !m.stopping || m.shutdown_attempt != attempt) {
            return;
        }
        m.shutdown_attempt = -1;
        if (done || attempt >= 3) {
            stop_cleanly(m);
            return;
        }
        after(pick(20, 100), [this, id, inc, attempt] {
            if (at(id).incarnation == inc) {
                controlled_shutdown(at(id), attempt + 1);
            }
        });
    };
    after(300, [finish] { finish(false); });
    const node_id to = n.known_controller;
    if (to() < 1) {
        return;
    }
    auto req = std::make_shared<protocol::controlled_shutdown_request>();
    req->broker_id = id;
    req->broker_epoch = n.epoch;
    send(id, to, [this, id, to, req, finish] {
        node& c = at(to);
        if (!c.running || !c.ctl) {
            return;
        }
        asio::co_spawn(ioc_, ask_shutdown(c.ctl.get(), req),
                       [this, id, to, finish](std::exception_ptr ep,
                                              protocol::controlled_shutdown_response r) {
                           if (ep) {
                               return;
                           }
                           const bool done = r.error_code == 0 && r.remaining_partitions.empty();
                           send(to, id, [finish, done] { finish(done); });
                       });
    });
}

// The rest of a clean stop: the controller resigns, logs close with their clean-shutdown
// markers and checkpoints, the session closes (its ephemerals go at once); a restart follows.
void cluster::stop_cleanly(node& n) {
    trace(fmt::format("broker {} stops cleanly", n.id()));
    n.running = false;
    n.stopping = false;
    n.registration.reset();
    asio::co_spawn(ioc_, n.ctl->stop(), asio::detached);
    settle();
    n.ctl.reset();
    settle();
    n.channels.reset();
    n.replicas.reset();
    if (auto closed = n.logs->shutdown(); !closed) {
        fail(fmt::format("broker {}: clean shutdown failed: {}", n.id(), closed.err().to_string()));
    }
    n.logs.reset();
    n.env.drain();
    n.following.clear();
    n.alter = 0;
    n.unanswered.reset();
    n.zk.reset();
    settle();
    const std::uint64_t inc = n.incarnation;
    after(pick(10, 300), [this, id = n.id, inc] {
        if (at(id).incarnation == inc && !at(id).running) {
            start(at(id));
        }
    });
}

// The broker keeps ZooKeeper but reaches no other broker for a while.
void cluster::isolate(node& n) {
    ++stats_.isolations;
    trace(fmt::format("broker {} cut off from the other brokers", n.id()));
    for (auto& m : nodes_) {
        if (m->id != n.id) {
            cut_links_.insert({n.id(), m->id()});
            cut_links_.insert({m->id(), n.id()});
        }
    }
    after(pick(50, 2 * knobs_.lag_time_max_ms), [this, id = n.id] {
        std::erase_if(cut_links_,
                      [id](const auto& l) { return l.first == id() || l.second == id(); });
        trace(fmt::format("broker {} reaches the other brokers again", id()));
    });
}

void cluster::expire(node& n) {
    ++stats_.expiries;
    trace(fmt::format("broker {}: session expired", n.id()));
    n.zk->expire_session();
}

void cluster::cut_from_zookeeper(node& n) {
    ++stats_.zk_cuts;
    n.zk->disconnect();
    n.zk_cut = true;
    const bool expires = chance(50);
    trace(
        fmt::format("broker {} cut from ZooKeeper{}", n.id(), expires ? " (session expires)" : ""));
    const std::uint64_t inc = n.incarnation;
    after(pick(20, 2 * knobs_.session_timeout_ms), [this, id = n.id, inc, expires] {
        node& m = at(id);
        if (m.incarnation != inc || !m.running || !m.zk_cut) {
            return;
        }
        if (expires) {
            ++stats_.expiries;
            m.zk->expire_session();
        }
        m.zk_cut = false;
        m.zk->reconnect();
        trace(fmt::format("broker {} reconnected to ZooKeeper", id()));
    });
}

// ---- Faults and load.

node* cluster::victim() {
    // Often the controller: its failover is the riskiest moment.
    if (chance(40)) {
        for (auto& n : nodes_) {
            if (n->running && n->ctl && n->ctl->active()) {
                return n.get();
            }
        }
    }
    node& n = *nodes_[rng_() % nodes_.size()];
    return n.running ? &n : nullptr;
}

void cluster::fault_tick() {
    if (!faults_) {
        return;
    }
    after(pick(knobs_.fault_every_ms / 2, knobs_.fault_every_ms), [this] { fault_tick(); });
    int down = 0;
    for (auto& n : nodes_) {
        down += n->running ? 0 : 1;
    }
    node* v = victim();
    if (v == nullptr) {
        return;
    }
    switch (rng_() % 6) {
        case 0:
            if (down == 0 && !v->stopping) {  // one process down at most: 2 of 3 replicas stay
                ++stats_.crashes;
                const std::uint64_t inc = v->incarnation;
                kill(*v);
                schedule_restart(v->id, inc);
            }
            break;
        case 3:
            if (down == 0 && !v->stopping) {
                ++stats_.controlled_shutdowns;
                v->stopping = true;
                trace(fmt::format("broker {}: controlled shutdown", v->id()));
                controlled_shutdown(*v, 1);
            }
            break;
        case 4:
            if (cut_links_.empty()) {
                isolate(*v);
            }
            break;
        case 1:
            if (!v->zk_cut) {
                expire(*v);
            }
            break;
        case 2:
            if (!v->zk_cut) {
                cut_from_zookeeper(*v);
            }
            break;
        case 5:
            // A wrong report about a live broker (a firewall answering for it, say): it must
            // cost a bounce at most, never an acknowledged write.
            for (auto& m : nodes_) {
                if (m->running && m->ctl && m->ctl->active() && m->id != v->id && m->channels &&
                    !m->channels->watch_of(v->id).expired()) {
                    ++stats_.false_gone_reports;
                    trace(fmt::format("broker {}'s watch wrongly reports broker {} gone", m->id(),
                                      v->id()));
                    m->channels->report_gone(v->id);
                    break;
                }
            }
            break;
        default:
            break;
    }
}

void cluster::create_topic() {
    coord::topic_assignment t;
    for (int p = 0; p < knobs_.partitions; ++p) {
        std::vector<node_id> replicas;
        for (int r = 0; r < 3; ++r) {
            replicas.push_back(node_id(1 + (p + r) % knobs_.brokers));
        }
        t.partitions.emplace(model::partition_id(p), std::move(replicas));
    }
    coord::fake_client admin(ensemble_);
    admin.create(coord::paths::topic(topic), coord::encode_topic(t), coord::create_mode::persistent,
                 [this](result<std::string> r) {
                     if (!r) {
                         fail("cannot create the topic znode: " + r.err().to_string());
                     }
                 });
    settle();
    topic_created_ = true;
    trace(fmt::format("topic {} created with {} partitions", topic, knobs_.partitions));
}

void cluster::produce_tick() {
    if (!faults_) {
        return;
    }
    after(pick(1, knobs_.produce_every_ms), [this] { produce_tick(); });
    if (!topic_created_ || produces_.size() >= produces_in_flight_max) {
        return;
    }
    tp_t tp{topic, model::partition_id(static_cast<std::int32_t>(
                       rng_() % static_cast<std::uint64_t>(knobs_.partitions)))};
    // The client's metadata: some broker's cache, or a random broker (stale metadata).
    node& asked = *nodes_[rng_() % nodes_.size()];
    auto known = asked.leaders.find(tp);
    node_id target = known != asked.leaders.end() && !chance(20)
                         ? known->second
                         : node_id(static_cast<std::int32_t>(1 + rng_() % nodes_.size()));
    if (target() < 1 || target() > knobs_.brokers) {
        return;
    }
    node& n = at(target);
    replication::partition* p = n.running ? n.replicas->leader(tp) : nullptr;
    if (p == nullptr || p->check_append(-1) != model::kafka_error::none) {
        ++stats_.produce_failed;
        return;
    }
    bytes data = replication::test::produce_batch(static_cast<int>(1 + rng_() % 4), next_stamp_++);
    auto appended = p->append(data, now(), false);
    if (!appended) {
        fail(fmt::format("append on leader {} of {} failed: {}", target(), tp,
                         appended.err().to_string()));
        return;
    }
    produces_.push_back(pending_produce{tp, target, n.incarnation, appended->appended.first_offset,
                                        appended->appended.last_offset + 1, p->state().leader_epoch,
                                        std::move(data), now_ms_ + produce_timeout_ms});
}

void cluster::shrink_tick(node_id id, std::uint64_t incarnation) {
    node& n = at(id);
    if (!n.running || n.incarnation != incarnation) {
        return;
    }
    n.replicas->for_each([this](replication::partition& p) {
        if (p.is_leader()) {
            p.maybe_shrink_isr(now());
        }
    });
    after(knobs_.lag_time_max_ms / 2, [this, id, incarnation] { shrink_tick(id, incarnation); });
}

// replication-offset-checkpoint (and the others), through the I/O worker: what a restart
// starts from.
void cluster::checkpoint_tick(node_id id, std::uint64_t incarnation) {
    node& n = at(id);
    if (!n.running || n.incarnation != incarnation) {
        return;
    }
    n.logs->write_checkpoints([](result<void>) {});  // the partitions keep their logs' hw
    after(pick(50, 500), [this, id, incarnation] { checkpoint_tick(id, incarnation); });
}

std::string cluster::dump() {
    std::string out;
    for (int p = 0; p < knobs_.partitions; ++p) {
        tp_t tp{topic, model::partition_id(p)};
        auto s = zk_state(tp);
        out += s ? fmt::format("{}: zk leader {} epoch {} isr [{}]; ", tp, s->leader(),
                               s->leader_epoch(), fmt::join(s->isr, ","))
                 : fmt::format("{}: no state; ", tp);
    }
    for (auto& n : nodes_) {
        out += fmt::format("broker {}: ", n->id());
        if (!n->running) {
            out += "down; ";
            continue;
        }
        out += fmt::format("epoch {} controller {}{} ", n->epoch(), n->ctl->active() ? "yes" : "no",
                           n->zk_cut ? " cut" : "");
        n->replicas->for_each([&out](replication::partition& p) {
            out += fmt::format("[{} {} epoch {} isr [{}] leo {} hw {} pending {}] ", p.tp(),
                               p.is_leader() ? "leads" : "follows", p.state().leader_epoch(),
                               fmt::join(p.state().isr, ","), p.log_end_offset(),
                               p.high_watermark(), p.isr_change_pending());
        });
        out += "; ";
    }
    return out;
}

}  // namespace gregor::sim

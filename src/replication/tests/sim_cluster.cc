// The simulation's moving parts: event queue, fetchers, controller, faults and producers.
// The invariant checks live in sim_checks.cc.
#include "replication/tests/sim_cluster.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>

namespace gregor::replication::sim {

using model::kafka_error;
using model::node_id;

namespace {

constexpr std::int32_t replica_count = 3;
constexpr std::int64_t fetch_timeout_ms = 150;
constexpr std::int64_t alter_timeout_ms = 200;
constexpr std::int64_t produce_timeout_ms = 2000;
constexpr std::size_t produces_in_flight_max = 32;

bool contains(const std::vector<node_id>& v, std::int32_t id) {
    return std::find(v.begin(), v.end(), node_id(id)) != v.end();
}

bool same_members(std::vector<node_id> a, std::vector<node_id> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
}

}  // namespace

sim_knobs sim_knobs::random(std::mt19937_64& rng) {
    sim_knobs k;
    const int drops[] = {0, 1, 5, 15};
    const std::int64_t delays[] = {3, 20, 80};
    const std::int64_t lags[] = {100, 300, 1000};
    const std::int32_t mins[] = {1, 2, 2, 3};
    k.drop_percent = drops[rng() % 4];
    k.delay_max_ms = delays[rng() % 3];
    k.lag_time_max_ms = lags[rng() % 3];
    k.min_insync = mins[rng() % 4];
    k.fault_every_ms = 100 + static_cast<std::int64_t>(rng() % 500);
    k.produce_every_ms = 5 + static_cast<std::int64_t>(rng() % 30);
    return k;
}

sim_cluster::sim_cluster(std::uint64_t seed, bool trace)
    : rng_(seed), knobs_(sim_knobs::random(rng_)), tracing_(trace) {
    ctl_.st.leader = node_id(1);
    ctl_.st.leader_epoch = model::leader_epoch(1);
    ctl_.st.partition_epoch = 0;
    for (std::int32_t id = 1; id <= replica_count; ++id) {
        ctl_.st.replicas.push_back(node_id(id));
        ctl_.st.isr.push_back(node_id(id));
        ctl_.registered.insert(id);
        replicas_.push_back(std::make_unique<replica>(id));
        open_replica(id);
    }
}

sim_cluster::~sim_cluster() = default;

sim_cluster::replica& sim_cluster::rep(std::int32_t id) {
    return *replicas_.at(static_cast<std::size_t>(id - 1));
}

void sim_cluster::fail(std::string why) {
    if (broken_.empty()) {
        broken_ = fmt::format("t={}ms: {}", now_ms_, why);
    }
}

void sim_cluster::after(std::int64_t delay_ms, std::function<void()> fn) {
    queue_.emplace(std::make_pair(now_ms_ + std::max<std::int64_t>(delay_ms, 0), ++seq_),
                   std::move(fn));
}

void sim_cluster::send(std::int64_t delay_ms, std::function<void()> fn) {
    if (faults_ && static_cast<int>(rng_() % 100) < knobs_.drop_percent) {
        return;
    }
    after(delay_ms, std::move(fn));
}

std::int64_t sim_cluster::pick(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(hi - lo + 1));
}

std::int64_t sim_cluster::net_delay() {
    if (!faults_) {
        return pick(1, 5);
    }
    if (rng_() % 20 == 0) {
        return pick(1, 3 * fetch_timeout_ms);  // late enough to arrive after a retry
    }
    return pick(1, knobs_.delay_max_ms);
}

std::string sim_cluster::run(std::int64_t fault_ms) {
    broadcast();
    after(0, [this] { produce_tick(); });
    after(pick(50, knobs_.fault_every_ms), [this] { fault_tick(); });
    after(100, [this] { checkpoint_tick(); });
    for (std::int32_t id = 1; id <= replica_count; ++id) {
        after(knobs_.lag_time_max_ms / 2, [this, id] { shrink_tick(id); });
    }
    const std::int64_t heal_max_ms = 60'000;
    bool healing = false;
    while (!queue_.empty() && broken_.empty()) {
        auto it = queue_.begin();
        now_ms_ = it->first.first;
        auto fn = std::move(it->second);
        queue_.erase(it);
        if (!healing && now_ms_ >= fault_ms) {
            healing = true;
            faults_ = false;  // no more drops, faults or produces; broken brokers come back
        }
        fn();
        after_event();
        ++(healing ? stats_.heal_events : stats_.fault_events);
        if (healing && broken_.empty() && converged()) {
            stats_.heal_ms = now_ms_ - fault_ms;
            final_checks();
            return broken_;
        }
        if (now_ms_ > fault_ms + heal_max_ms) {
            fail("replicas did not converge after the faults stopped: " + dump());
        }
    }
    return broken_.empty() ? "event queue ran dry" : broken_;
}

void sim_cluster::trace(const std::string& what) {
    if (tracing_) {
        std::printf("t=%lld %s\n", static_cast<long long>(now_ms_), what.c_str());
    }
}

std::string sim_cluster::dump() {
    const partition_state& s = ctl_.st;
    std::string out =
        fmt::format("controller: leader {} epoch {} partition epoch {} isr [{}]", s.leader(),
                    s.leader_epoch(), s.partition_epoch, fmt::join(s.isr, ","));
    for (auto& r : replicas_) {
        out += fmt::format("; replica {}: ", r->node.id());
        if (!r->running) {
            out += "down";
            continue;
        }
        partition& p = *r->node.part;
        auto pos = p.next_fetch();
        out += fmt::format(
            "{} epoch {} leader {} isr [{}] leo {} hw {} last epoch {} pending {} registered {}",
            p.is_leader() ? "leading" : "following", p.state().leader_epoch(), p.state().leader(),
            fmt::join(p.state().isr, ","), p.log_end_offset(), p.high_watermark(),
            pos.last_fetched_epoch(), p.isr_change_pending(),
            ctl_.registered.contains(r->node.id()));
    }
    return out;
}

// ---- Fetchers.

void sim_cluster::start_fetch(std::int32_t id) {
    replica& r = rep(id);
    if (!r.running || r.fetch != 0 || r.node.part->is_leader()) {
        return;
    }
    std::int32_t leader = r.node.part->state().leader();
    if (leader == model::no_node() || leader == id) {
        return;
    }
    fetch_position pos = r.node.part->next_fetch();
    std::uint64_t fetch = ++next_id_;
    std::uint64_t inc = r.incarnation;
    std::uint64_t leader_inc = rep(leader).incarnation;
    r.fetch = fetch;
    send(net_delay(), [=, this] { serve(leader, leader_inc, id, inc, fetch, pos); });
    after(fetch_timeout_ms, [=, this] { fetch_timed_out(id, inc, fetch); });
}

void sim_cluster::fetch_timed_out(std::int32_t id, std::uint64_t incarnation, std::uint64_t fetch) {
    replica& r = rep(id);
    if (r.incarnation != incarnation || r.fetch != fetch) {
        return;
    }
    r.fetch = 0;
    after(pick(10, 50), [this, id] { start_fetch(id); });
}

void sim_cluster::serve(std::int32_t leader, std::uint64_t leader_inc, std::int32_t follower,
                        std::uint64_t follower_inc, std::uint64_t fetch, fetch_position pos) {
    replica& l = rep(leader);
    if (!l.running || l.incarnation != leader_inc) {
        return;  // the connection died with the process
    }
    auto max_bytes = static_cast<std::size_t>(pick(64, 4096));
    auto reply = std::make_shared<const test::fetch_reply>(
        test::serve_fetch(*l.node.part, test::fetch_of(node_id(follower), pos), now(), max_bytes));
    send(net_delay(), [=, this] { on_reply(follower, follower_inc, fetch, leader, pos, reply); });
}

void sim_cluster::on_reply(std::int32_t follower, std::uint64_t incarnation, std::uint64_t fetch,
                           std::int32_t leader, fetch_position pos,
                           std::shared_ptr<const test::fetch_reply> reply) {
    replica& r = rep(follower);
    if (!r.running || r.incarnation != incarnation || r.fetch != fetch) {
        return;  // timed out, or the fetcher restarted meanwhile
    }
    r.fetch = 0;
    partition& p = *r.node.part;
    fetch_position cur = p.next_fetch();
    if (p.is_leader() || p.state().leader() != leader || cur.fetch_offset != pos.fetch_offset ||
        cur.current_leader_epoch != pos.current_leader_epoch) {
        after(1, [this, follower] { start_fetch(follower); });
        return;
    }
    std::vector<test::stored_batch> before;
    if (reply->diverging || reply->error == kafka_error::offset_out_of_range) {
        before = test::read_batches(*r.node.log);
    }
    auto progress = p.on_leader_reply(reply->view(), now());
    if (!progress) {
        fail(fmt::format("replica {}: on_leader_reply failed: {}", follower,
                         progress.err().to_string()));
        return;
    }
    if (progress->truncated) {
        ++stats_.truncations;
        trace(fmt::format("replica {} truncated to {} (leader {} diverging {}/{}, error {})",
                          follower, p.log_end_offset(), leader,
                          reply->diverging ? reply->diverging->epoch() : -2,
                          reply->diverging ? reply->diverging->start_offset() : -2,
                          model::kafka_error_name(reply->error)));
        // Following a stale leader (a zombie) may cut committed batches the current
        // leader holds; a follower of the current leader never may.
        if (p.state().leader_epoch == ctl_.st.leader_epoch) {
            check_truncation(follower, before);
        }
    }
    std::int64_t next = pick(5, 30);  // nothing new: poll again (replica.fetch.wait.max.ms)
    if (progress->error != kafka_error::none) {
        next = pick(20, 50);  // replica.fetch.backoff.ms
    } else if (progress->appended_bytes > 0 || progress->truncated) {
        next = 0;
    }
    after(next, [this, follower] { start_fetch(follower); });
}

// ---- Controller.

void sim_cluster::send_state(std::int32_t target) {
    partition_state s = ctl_.st;
    std::uint64_t inc = rep(target).incarnation;
    after(pick(1, faults_ ? 100 : 5), [=, this] { on_state(target, inc, s); });
}

void sim_cluster::broadcast() {
    if (ctl_.st.leader == model::no_node) {
        return;  // offline: nobody to follow until an ISR member returns
    }
    for (std::int32_t id : ctl_.registered) {
        send_state(id);
    }
}

void sim_cluster::on_state(std::int32_t target, std::uint64_t incarnation,
                           const partition_state& s) {
    replica& r = rep(target);
    if (!r.running || r.incarnation != incarnation) {
        return;
    }
    partition& p = *r.node.part;
    if (s.leader_epoch <= p.state().leader_epoch) {
        return;  // LeaderAndIsr rules: only a newer leader epoch counts
    }
    r.alter = 0;
    r.fetch = 0;
    trace(fmt::format("replica {} {} epoch {} isr [{}] (leo {} hw {} last epoch {})", target,
                      s.leader() == target ? "leads" : "follows", s.leader_epoch(),
                      fmt::join(s.isr, ","), p.log_end_offset(), p.high_watermark(),
                      p.next_fetch().last_fetched_epoch()));
    if (s.leader() == target) {
        p.become_leader(s, now());
    } else {
        p.become_follower(s, now());
        start_fetch(target);
    }
}

// Kafka's onBrokerFailure for this partition: out of the ISR (unless it is the last
// member), a new leader from the live ISR if it led, and a new leader epoch.
void sim_cluster::broker_failed(std::int32_t id) {
    if (ctl_.registered.erase(id) == 0) {
        return;
    }
    partition_state& s = ctl_.st;
    bool led = s.leader() == id;
    if (!led && !contains(s.isr, id)) {
        return;
    }
    std::vector<node_id> isr;
    for (node_id m : s.isr) {
        if (m() != id) {
            isr.push_back(m);
        }
    }
    if (isr.empty()) {
        isr = s.isr;  // the last ISR member stays, so only it can lead again (no unclean)
    }
    s.isr = isr;
    if (led) {
        s.leader = model::no_node;
        for (node_id c : s.replicas) {
            if (contains(s.isr, c()) && ctl_.registered.contains(c())) {
                s.leader = c;
                ++stats_.leader_changes;
                break;
            }
        }
    }
    ++s.leader_epoch;
    ++s.partition_epoch;
    trace(fmt::format("controller: broker {} failed: leader {} epoch {} isr [{}]", id, s.leader(),
                      s.leader_epoch(), fmt::join(s.isr, ",")));
    broadcast();
}

void sim_cluster::broker_started(std::int32_t id) {
    ctl_.registered.insert(id);
    partition_state& s = ctl_.st;
    if (s.leader == model::no_node && contains(s.isr, id)) {
        s.leader = node_id(id);
        ++s.leader_epoch;
        ++s.partition_epoch;
        ++stats_.leader_changes;
        trace(fmt::format("controller: broker {} back, leads epoch {}", id, s.leader_epoch()));
        broadcast();
        return;
    }
    trace(fmt::format("controller: broker {} back", id));
    send_state(id);
}

void sim_cluster::move_leader() {
    partition_state& s = ctl_.st;
    std::vector<std::int32_t> candidates;
    for (node_id m : s.isr) {
        if (m != s.leader && ctl_.registered.contains(m())) {
            candidates.push_back(m());
        }
    }
    if (s.leader == model::no_node || candidates.empty()) {
        return;
    }
    s.leader = node_id(candidates[rng_() % candidates.size()]);
    ++s.leader_epoch;
    ++s.partition_epoch;
    ++stats_.leader_changes;
    trace(fmt::format("controller: leadership moves to {} epoch {}", s.leader(), s.leader_epoch()));
    broadcast();
}

void sim_cluster::send_alter(std::int32_t id, std::uint64_t incarnation, std::uint64_t alter,
                             isr_proposal prop) {
    replica& r = rep(id);
    if (!r.running || r.incarnation != incarnation || r.alter != alter) {
        return;  // answered, or superseded by a new leader epoch
    }
    send(net_delay(), [=, this] { on_alter(id, incarnation, alter, prop); });
    // No answer in time: ask again (Kafka's AlterPartitionManager retries until answered).
    after(alter_timeout_ms, [=, this] { send_alter(id, incarnation, alter, prop); });
}

// The controller's AlterPartition checks, in Kafka's order.
void sim_cluster::on_alter(std::int32_t from, std::uint64_t incarnation, std::uint64_t alter,
                           const isr_proposal& prop) {
    const partition_state& s = ctl_.st;
    kafka_error error = kafka_error::none;
    if (!ctl_.registered.contains(from)) {
        error = kafka_error::stale_broker_epoch;
    } else if (prop.leader_epoch < s.leader_epoch) {
        error = kafka_error::fenced_leader_epoch;
    } else if (prop.leader_epoch > s.leader_epoch || s.leader() != from) {
        error = kafka_error::not_controller;
    } else if (same_members(prop.isr, s.isr)) {
        error = kafka_error::none;  // a retry of what is already written
    } else if (prop.partition_epoch != s.partition_epoch) {
        error = kafka_error::invalid_update_version;
    } else {
        for (node_id m : prop.isr) {
            if (!ctl_.registered.contains(m())) {
                error = kafka_error::ineligible_replica;
            }
        }
        if (error == kafka_error::none) {
            bool grew = prop.isr.size() > ctl_.st.isr.size();
            trace(fmt::format("controller: isr [{}] -> [{}] from leader {} epoch {}",
                              fmt::join(ctl_.st.isr, ","), fmt::join(prop.isr, ","), from,
                              prop.leader_epoch()));
            ctl_.st.isr = prop.isr;
            ++ctl_.st.partition_epoch;
            ++stats_.isr_commits;
            if (grew && faults_ && rng_() % 4 == 0) {
                // The riskiest moment for a new ISR member: the leader dies before the
                // member fetched again, so the member may be elected with what it has.
                after(pick(1, 20), [this, from] {
                    if (rep(from).running) {
                        crash(from);
                    }
                });
            }
        }
    }
    partition_state answer = ctl_.st;
    send(net_delay(), [=, this] { on_alter_answer(from, incarnation, alter, error, answer); });
}

void sim_cluster::on_alter_answer(std::int32_t id, std::uint64_t incarnation, std::uint64_t alter,
                                  kafka_error error, const partition_state& s) {
    replica& r = rep(id);
    if (!r.running || r.incarnation != incarnation || r.alter != alter) {
        return;
    }
    r.alter = 0;
    if (error == kafka_error::none) {
        r.node.part->on_isr_committed(s);
    } else {
        r.node.part->on_isr_refused(error);
    }
}

// ---- Faults and load.

void sim_cluster::fault_tick() {
    if (!faults_) {
        return;
    }
    auto id = static_cast<std::int32_t>(1 + rng_() % replica_count);
    int down = 0;
    for (auto& r : replicas_) {
        down += r->running ? 0 : 1;
    }
    switch (rng_() % 4) {
        case 0:
            if (rep(id).running && down < 2) {
                crash(id);
            }
            break;
        case 1:
            expire(id);
            break;
        case 2:
            move_leader();
            break;
        default:
            break;
    }
    after(pick(knobs_.fault_every_ms / 2, knobs_.fault_every_ms), [this] { fault_tick(); });
}

void sim_cluster::crash(std::int32_t id) {
    replica& r = rep(id);
    trace(fmt::format("replica {} killed (leo {} hw {})", id, r.node.part->log_end_offset(),
                      r.node.part->high_watermark()));
    r.running = false;
    r.node.kill();
    ++stats_.crashes;
    // The controller notices when the ZooKeeper session expires; the broker comes back
    // later as a new process.
    after(pick(20, 400), [this, id] {
        broker_failed(id);
        after(pick(10, 600), [this, id] { restart(id); });
    });
}

void sim_cluster::open_replica(std::int32_t id) {
    replica& r = rep(id);
    auto alive = [this](node_id n) { return ctl_.registered.contains(n()); };
    replication_config cfg{.min_insync_replicas = knobs_.min_insync,
                           .lag_time_max = std::chrono::milliseconds(knobs_.lag_time_max_ms)};
    auto opened = r.node.open(cfg, r.checkpoint_hw, alive, now());
    if (!opened) {
        fail(fmt::format("replica {} failed to open: {}", id, opened.err().to_string()));
        return;
    }
    r.running = true;
    r.fetch = 0;
    r.alter = 0;
    r.seen_leading = false;
}

void sim_cluster::restart(std::int32_t id) {
    ++rep(id).incarnation;
    open_replica(id);
    trace(fmt::format("replica {} restarted (leo {} hw {})", id,
                      rep(id).node.part->log_end_offset(), rep(id).node.part->high_watermark()));
    after(pick(1, 50), [this, id] { broker_started(id); });
}

// A session expiry of a broker that keeps running: the controller acts as if it died and
// the broker, unaware, serves on stale state until it registers again.
void sim_cluster::expire(std::int32_t id) {
    replica& r = rep(id);
    if (!r.running || !ctl_.registered.contains(id)) {
        return;
    }
    ++stats_.expiries;
    trace(fmt::format("replica {}: session expired", id));
    broker_failed(id);
    std::uint64_t inc = r.incarnation;
    after(pick(10, 400), [this, id, inc] {
        if (rep(id).running && rep(id).incarnation == inc) {
            broker_started(id);
        }
    });
}

void sim_cluster::produce_tick() {
    if (!faults_) {
        return;
    }
    after(pick(1, knobs_.produce_every_ms), [this] { produce_tick(); });
    std::int32_t target = ctl_.st.leader();
    if (target == model::no_node() || rng_() % 4 == 0) {
        target = static_cast<std::int32_t>(1 + rng_() % replica_count);  // stale metadata
    }
    replica& r = rep(target);
    if (!r.running || produces_.size() >= produces_in_flight_max) {
        return;
    }
    partition& p = *r.node.part;
    if (p.check_append(-1) != kafka_error::none) {
        ++stats_.produce_failed;
        return;
    }
    bytes data = test::produce_batch(static_cast<int>(1 + rng_() % 4), next_stamp_++);
    auto appended = p.append(data, now(), false);
    if (!appended) {
        fail(fmt::format("append on leader {} failed: {}", target, appended.err().to_string()));
        return;
    }
    produces_.push_back(pending_produce{target, r.incarnation, appended->appended.first_offset,
                                        appended->appended.last_offset + 1, p.state().leader_epoch,
                                        std::move(data), now_ms_ + produce_timeout_ms});
}

void sim_cluster::shrink_tick(std::int32_t id) {
    replica& r = rep(id);
    if (r.running && r.node.part->is_leader()) {
        r.node.part->maybe_shrink_isr(now());
    }
    after(knobs_.lag_time_max_ms / 2, [this, id] { shrink_tick(id); });
}

// replication-offset-checkpoint: what a restart starts from.
void sim_cluster::checkpoint_tick() {
    for (auto& r : replicas_) {
        if (r->running) {
            r->checkpoint_hw = r->node.part->high_watermark();
        }
    }
    after(pick(50, 500), [this] { checkpoint_tick(); });
}

}  // namespace gregor::replication::sim

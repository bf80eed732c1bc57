// Preferred-leader elections the controller starts without an ElectLeaders request: the
// automatic leader rebalance (Kafka's auto.leader.rebalance.enable, checked on a timer while
// active) and /admin/preferred_replica_election (written by Kafka's legacy
// kafka-preferred-replica-election tool, or by hand). Both reuse plan_election's preferred
// strategy: the first assigned replica leads, and only if it is live, in the ISR and not
// shutting down.
//
// The timer only enqueues an event on the controller's loop; the check itself runs there like
// every other event, against the controller's context. Resigning cancels the timer and bumps
// the generation, so a tick of an older role does nothing; winning arms it again.
#include "controller/impl.h"
#include "controller/logger.h"

#include "coord/errc.h"

namespace gregor::controller {
namespace {

using model::kafka_error;

// `n` of `d` in percent, with one decimal only when it is not whole ("33.3", "50").
std::string percent(std::size_t n, std::size_t d) {
    std::uint64_t tenths = (static_cast<std::uint64_t>(n) * 1000 + d / 2) / d;
    if (tenths % 10 == 0) {
        return std::to_string(tenths / 10);
    }
    return fmt::format("{}.{}", tenths / 10, tenths % 10);
}

// Every partition with a state, except those of topics being deleted, as the rebalance rule
// takes them.
std::vector<partition_leadership> leaderships(const controller_context& ctx) {
    std::vector<partition_leadership> out;
    for (const auto& [name, t] : ctx.topics) {
        if (t.deleting) {
            continue;
        }
        for (const auto& [p, r] : t.partitions) {
            if (r.version() >= 0) {
                out.push_back({{name, p}, r.replicas, r.state.isr, r.state.leader});
            }
        }
    }
    return out;
}

// The rebalance event: one check, then the next tick (unless the role changed meanwhile).
// `self` is a parameter so that the coroutine owns it (g++ 12).
asio::awaitable<void> rebalance_tick(std::shared_ptr<controller::impl> self) {
    std::uint64_t gen = self->generation;
    co_await self->on_rebalance_check();
    if (self->generation == gen) {
        self->arm_rebalance_timer(self->cfg.leader_imbalance_check_interval);
    }
}

asio::awaitable<void> rebalance_once(std::shared_ptr<controller::impl> self) {
    co_await self->on_rebalance_check();
}

}  // namespace

asio::awaitable<std::size_t> controller::impl::elect_preferred_leaders(
    const std::vector<model::topic_partition>& tps, const std::string& why) {
    std::vector<state_change> changes;
    std::map<model::topic_partition, model::zk_version> before;
    for (const auto& tp : tps) {
        coord::partition_state next;
        bool unclean = false;
        if (before.contains(tp) || plan_election(tp, true, next, unclean) != kafka_error::none) {
            continue;
        }
        before[tp] = ctx.partition(tp)->version;
        changes.push_back({tp, std::move(next), false, false});
    }
    if (changes.empty()) {
        co_return 0;
    }
    request_batch batch;
    co_await write_changes(changes, why, batch);
    if (!is_active) {
        co_return 0;
    }
    co_await send(batch);
    std::size_t moved = 0;
    for (const auto& [tp, version] : before) {
        const partition_record* r = ctx.partition(tp);
        if (r != nullptr && r->version != version) {
            ++moved;
        }
    }
    co_return moved;
}

void controller::impl::arm_rebalance_timer(std::chrono::milliseconds delay) {
    if (!cfg.auto_leader_rebalance || !is_active || stopping) {
        return;
    }
    if (!rebalance_timer) {
        rebalance_timer = std::make_unique<asio::steady_timer>(ioc);
    }
    rebalance_timer->expires_after(delay);
    std::weak_ptr<impl> weak = weak_from_this();
    std::uint64_t gen = generation;
    rebalance_timer->async_wait([weak, gen](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->generation != gen || !self->is_active) {
            return;
        }
        self->enqueue("auto_rebalance", [self] { return rebalance_tick(self); }, {}, true);
    });
}

asio::awaitable<void> controller::impl::on_rebalance_check() {
    if (!is_active || !cfg.auto_leader_rebalance) {
        co_return;
    }
    const std::uint64_t gen = generation;
    const std::vector<partition_leadership> parts = leaderships(ctx);
    const std::vector<model::topic_partition> chosen =
        imbalanced_partitions(parts, ctx.live_set(), cfg.leader_imbalance_percentage);
    std::map<model::node_id, std::vector<model::topic_partition>> by_broker;
    for (const auto& tp : chosen) {
        by_broker[ctx.partition(tp)->replicas.front()].push_back(tp);
    }
    for (const auto& [broker, tps] : by_broker) {
        std::size_t preferred = 0;
        std::size_t not_led = 0;
        for (const auto& p : parts) {
            if (!p.assignment.empty() && p.assignment.front() == broker) {
                ++preferred;
                if (p.leader != broker) {
                    ++not_led;
                }
            }
        }
        const std::string why =
            fmt::format("auto leader rebalance (broker {} imbalance {}% > {}%)", broker(),
                        percent(not_led, preferred), cfg.leader_imbalance_percentage);
        auto moved = co_await elect_preferred_leaders(tps, why);
        GREGOR_LOG(controller_log, info, "{}: {} of {} partition(s) moved back", why, moved,
                   tps.size());
        if (generation != gen) {
            co_return;
        }
    }
}

coord::watch_fn controller::impl::preferred_election_watch() {
    auto self = shared_from_this();
    return watch_event("preferred_replica_election",
                       [self] { return self->on_preferred_election_node(); });
}

asio::awaitable<void> controller::impl::on_preferred_election_node() {
    if (!is_active) {
        co_return;
    }
    const std::uint64_t gen = generation;
    const std::string path(coord::paths::preferred_replica_election);
    // exists() leaves a watch whether or not the node is there (get() would not on a missing
    // node): its creation, change or deletion brings us back here.
    const coord::watch_fn watch = preferred_election_watch();
    const coord::watch_fn no_watch;
    auto present = co_await zk::exists(zk, path, watch);
    if (!present || !*present || generation != gen) {
        co_return;
    }
    auto node = co_await zk::get(zk, path, no_watch);
    if (!node || generation != gen) {
        co_return;  // gone meanwhile: the watch fired
    }
    auto asked = coord::decode_partition_list(node->data);
    if (!asked) {
        GREGOR_LOG(controller_log, err, "{} is malformed ({}); deleting it", path,
                   asked.err().to_string());
    } else {
        const std::vector<model::topic_partition>& wanted = *asked;
        for (const auto& tp : wanted) {
            if (ctx.partition(tp) == nullptr) {
                GREGOR_LOG(controller_log, warn, "{} names unknown partition {}; skipped", path,
                           tp);
            }
        }
        const std::string why = "preferred replica election (" + path + ")";
        auto moved = co_await elect_preferred_leaders(wanted, why);
        GREGOR_LOG(controller_log, info,
                   "{}: {} of {} partition(s) moved to their preferred leader", path, moved,
                   wanted.size());
    }
    if (!is_active || generation != gen) {
        co_return;
    }
    // Kafka deletes the node once it has acted, whatever the outcome; a node rewritten
    // meanwhile (another version) stays and is read again when the watch fires.
    const coord::op remove = coord::remove_op{path, node->stat.version};
    co_await fenced_op(remove);
}

void controller::check_leader_balance() {
    auto self = impl_;
    self->enqueue("auto_rebalance_now", [self] { return rebalance_once(self); }, {}, true);
}

}  // namespace gregor::controller

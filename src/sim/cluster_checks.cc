// The bookkeeping after every event and the invariants (see cluster.h):
//   - at most one controller per controller epoch (the controllers' role hooks, cluster.cc);
//   - committed: every batch a leader had below its high watermark is recorded once per
//     partition; the same offset never shows other content; a leader of the partition's
//     current leader epoch (ZooKeeper's state) holds all of them when it takes office; no
//     follower of that leader truncates one (cluster_data.cc);
//   - a leader's high watermark never goes back within its epoch, nor passes its log end;
//   - an acknowledged produce was committed as sent;
//   - after the faults stop: every partition has all its replicas in the ISR and identical
//     logs holding every acknowledged produce at its offsets.
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "sim/cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace gregor::sim {

using model::kafka_error;
using model::node_id;
using model::offset;

namespace {

std::string describe(const replication::test::stored_batch& b) {
    return fmt::format("[{}..{}] epoch {} crc {:08x}", b.base(), b.last(), b.epoch(), b.crc);
}

}  // namespace

void cluster::after_event() {
    settle();
    if (tracing_) {
        trace_zk_states();
    }
    for (auto& n : nodes_) {
        send_isr_changes(*n);
    }
    settle();
    observe_leaders();
    settle_produces();
}

// Every write of a partition state znode, with its version (the partition epoch).
void cluster::trace_zk_states() {
    for (int i = 0; i < knobs_.partitions; ++i) {
        tp_t tp{"events", model::partition_id(i)};
        auto node = ensemble_.peek(coord::paths::partition_state(tp.topic, tp.partition));
        if (!node) {
            continue;
        }
        auto [it, fresh] = traced_versions_.try_emplace(tp, model::zk_version(-1));
        if (fresh || it->second != node->stat.version) {
            it->second = node->stat.version;
            trace(fmt::format("zookeeper: {} state version {}: {}", tp, node->stat.version(),
                              node->data));
        }
    }
}

std::optional<coord::partition_state> cluster::zk_state(const tp_t& tp) const {
    auto node = ensemble_.peek(coord::paths::partition_state(tp.topic, tp.partition));
    if (!node) {
        return std::nullopt;
    }
    auto s = coord::decode_partition_state(node->data);
    return s ? std::optional(*s) : std::nullopt;
}

void cluster::observe_leaders() {
    for (auto& n : nodes_) {
        if (!n->running) {
            continue;
        }
        n->replicas->for_each([this, &n](replication::partition& p) {
            if (p.high_watermark() > p.log_end_offset()) {
                fail(fmt::format("broker {}: {} high watermark {} beyond its log end {}", n->id(),
                                 p.tp(), p.high_watermark(), p.log_end_offset()));
            }
            if (!p.is_leader()) {
                n->seen.erase(p.tp());
                return;
            }
            auto [it, fresh] = n->seen.try_emplace(p.tp());
            seen_leadership& seen = it->second;
            if (fresh || seen.epoch != p.state().leader_epoch) {
                seen = {p.state().leader_epoch, p.high_watermark()};
                ++stats_.leader_changes;
                // Only the leader of the current leader epoch must hold everything: one that
                // takes office in an epoch since replaced (a zombie) commits nothing new.
                auto s = zk_state(p.tp());
                if (s && s->leader_epoch == p.state().leader_epoch) {
                    check_new_leader(*n, p);
                }
                commit_range(*n, p, p.log().log_start_offset(), p.high_watermark());
                return;
            }
            if (p.high_watermark() < seen.hw) {
                fail(
                    fmt::format("leader {} of {} in epoch {}: high watermark went back from {} "
                                "to {}",
                                n->id(), p.tp(), seen.epoch(), seen.hw, p.high_watermark()));
            } else if (p.high_watermark() > seen.hw) {
                commit_range(*n, p, seen.hw, p.high_watermark());
                seen.hw = p.high_watermark();
            }
        });
    }
}

// A replica that just became the current leader holds every committed batch.
void cluster::check_new_leader(node& n, replication::partition& p) {
    std::map<std::int64_t, batch> have;
    for (auto& b : replication::test::read_batches(p.log())) {
        have.emplace(b.base(), std::move(b));
    }
    for (const auto& [base, b] : committed_[p.tp()]) {
        auto it = have.find(base);
        if (it == have.end() || it->second != b) {
            fail(fmt::format("leader {} of {} (epoch {}) has {} where {} was committed", n.id(),
                             p.tp(), p.state().leader_epoch,
                             it == have.end() ? "nothing" : describe(it->second), describe(b)));
            return;
        }
    }
}

void cluster::commit_range(node& n, replication::partition& p, offset from, offset to) {
    auto& committed = committed_[p.tp()];
    bool complete = false;
    for (const batch& b : replication::test::read_batches(p.log(), from, to, &complete)) {
        auto [it, fresh] = committed.emplace(b.base(), b);
        if (!fresh && it->second != b) {
            fail(
                fmt::format("{} offset {} committed as {} is now {} below leader {}'s high "
                            "watermark",
                            p.tp(), b.base(), describe(it->second), describe(b), n.id()));
        }
    }
    if (!complete) {
        fail(fmt::format("leader {}: cannot read {} below its high watermark {}", n.id(), p.tp(),
                         to));
    }
}

void cluster::check_truncation(node& n, const tp_t& tp, const std::vector<batch>& before) {
    replication::partition* p = n.replicas->partition(tp);
    storage::log& lg = p->log();
    const auto& committed = committed_[tp];
    for (const auto& b : before) {
        if (b.base >= lg.log_start_offset() && b.last < lg.log_end_offset()) {
            continue;  // kept
        }
        auto it = committed.find(b.base());
        if (it != committed.end() && it->second == b) {
            fail(
                fmt::format("follower {} of the current leader truncated committed batch {} of "
                            "{}",
                            n.id(), describe(b), tp));
            return;
        }
    }
}

void cluster::settle_produces() {
    std::erase_if(produces_, [this](pending_produce& pp) {
        node& n = at(pp.target);
        replication::partition* p =
            n.running && n.incarnation == pp.incarnation ? n.replicas->partition(pp.tp) : nullptr;
        if (p == nullptr) {
            ++stats_.produce_failed;  // the connection died: the client never hears back
            return true;
        }
        auto status = p->acks_all_status(pp.end, pp.epoch);
        if (!status) {
            if (now_ms_ < pp.deadline_ms) {
                return false;
            }
            ++stats_.produce_failed;  // REQUEST_TIMED_OUT
            return true;
        }
        if (*status != kafka_error::none) {
            ++stats_.produce_failed;
            return true;
        }
        // The leader's high watermark passed it, so observe_leaders() recorded it.
        const auto& committed = committed_[pp.tp];
        auto it = committed.find(pp.base());
        if (it == committed.end() || it->second.data != pp.data) {
            fail(fmt::format(
                "produce at {} of {} acknowledged by leader {} but not committed as sent",
                pp.base(), pp.tp, pp.target()));
        }
        ++stats_.acked;
        acked_.push_back(std::move(pp));
        return true;
    });
}

bool cluster::converged() {
    if (!produces_.empty()) {
        return false;
    }
    int controllers = 0;
    for (auto& n : nodes_) {
        if (!n->running || n->zk_cut || n->epoch == model::no_broker_epoch) {
            return false;
        }
        controllers += n->ctl->active() ? 1 : 0;
    }
    if (controllers != 1) {
        return false;
    }
    for (int i = 0; i < knobs_.partitions; ++i) {
        tp_t tp{"events", model::partition_id(i)};
        auto s = zk_state(tp);
        if (!s || s->leader() < 1 || s->isr.size() != 3) {
            return false;
        }
        replication::partition* leader = at(s->leader).replicas->leader(tp);
        if (leader == nullptr || leader->state().leader_epoch != s->leader_epoch) {
            return false;
        }
        for (node_id r : leader->state().replicas) {
            replication::partition* p = at(r).replicas->partition(tp);
            if (p == nullptr || p->state().leader_epoch != s->leader_epoch ||
                p->isr_change_pending() || p->log_end_offset() != leader->log_end_offset() ||
                p->high_watermark() != leader->log_end_offset()) {
                return false;
            }
        }
    }
    return true;
}

void cluster::final_checks() {
    for (int i = 0; i < knobs_.partitions && broken_.empty(); ++i) {
        tp_t tp{"events", model::partition_id(i)};
        auto s = zk_state(tp);
        replication::partition& leader = *at(s->leader).replicas->leader(tp);
        check_new_leader(at(s->leader), leader);
        auto reference = replication::test::read_batches(leader.log());
        for (node_id r : leader.state().replicas) {
            auto mine = replication::test::read_batches(at(r).replicas->partition(tp)->log());
            if (mine != reference) {
                fail(fmt::format("{}: broker {} ({} batches) differs from leader {} ({} batches)",
                                 tp, r(), mine.size(), s->leader(), reference.size()));
            }
        }
        std::map<std::int64_t, const batch*> by_base;
        for (const auto& b : reference) {
            by_base.emplace(b.base(), &b);
        }
        for (const auto& pp : acked_) {
            if (pp.tp != tp) {
                continue;
            }
            auto it = by_base.find(pp.base());
            if (it == by_base.end() || it->second->data != pp.data) {
                fail(fmt::format("acknowledged produce at {} of {} lost or rewritten", pp.base(),
                                 tp));
            }
        }
    }
}

}  // namespace gregor::sim

// The simulation's bookkeeping after every event, and its invariants:
//   - committed: every batch a leader had below its high watermark (what consumers may have
//     read, and every acknowledged produce) is recorded once; the same offset must never
//     show up with other content, every leader of the controller's current epoch must hold
//     all of them when it takes office, and no follower of that leader may truncate one;
//   - a leader's high watermark never goes back within its leader epoch; no replica's high
//     watermark passes its log end offset;
//   - an acknowledged produce is in the leader's log at its offsets, byte for byte;
//   - after the faults stop: one leader, all three in the ISR, every log identical.
#include "replication/tests/sim_cluster.h"
#include "storage/errc.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::replication::sim {

using model::kafka_error;
using model::offset;

namespace {

std::string describe(const test::stored_batch& b) {
    return fmt::format("[{}..{}] epoch {} crc {:08x}", b.base(), b.last(), b.epoch(), b.crc);
}

// The batch starting exactly at `base`, if the log has one.
std::optional<test::stored_batch> batch_at(storage::log& lg, offset base) {
    if (base < lg.log_start_offset() || base >= lg.log_end_offset()) {
        return std::nullopt;
    }
    auto r = lg.read(base, 1, lg.log_end_offset());
    if (!r || r->slice.length == 0) {
        return std::nullopt;
    }
    auto data = r->slice.read_all();
    if (!data) {
        return std::nullopt;
    }
    auto h = model::validate_batch(*data, 1 << 24, model::count_rule::at_most);
    if (!h || h->base_offset != base || h->size_bytes() != data->size()) {
        return std::nullopt;
    }
    return test::stored_batch{h->base_offset, h->last_offset(), h->partition_leader_epoch, h->crc,
                              std::move(*data)};
}

}  // namespace

void sim_cluster::after_event() {
    for (auto& r : replicas_) {
        if (r->running) {
            r->node.drain();
        }
    }
    take_proposals();
    observe_leaders();
    settle_produces();
}

void sim_cluster::take_proposals() {
    for (auto& r : replicas_) {
        if (!r->running) {
            continue;
        }
        if (auto prop = r->node.part->take_isr_proposal()) {
            r->alter = ++next_id_;
            send_alter(r->node.id(), r->incarnation, r->alter, *prop);
        }
    }
}

void sim_cluster::observe_leaders() {
    for (auto& r : replicas_) {
        if (!r->running) {
            continue;
        }
        partition& p = *r->node.part;
        if (p.high_watermark() > p.log_end_offset()) {
            fail(fmt::format("replica {}: high watermark {} beyond its log end {}", r->node.id(),
                             p.high_watermark(), p.log_end_offset()));
        }
        if (!p.is_leader()) {
            r->seen_leading = false;
            continue;
        }
        if (!r->seen_leading || r->seen_epoch != p.state().leader_epoch) {
            r->seen_leading = true;
            r->seen_epoch = p.state().leader_epoch;
            r->seen_hw = p.high_watermark();
            // Only the leader of the controller's current epoch must hold everything: a
            // replica that takes office late, in an epoch the controller has since replaced
            // (a zombie), cannot commit anything and will be told to follow.
            if (p.state().leader_epoch == ctl_.st.leader_epoch) {
                check_new_leader(*r);
            }
            commit_range(*r, p.log().log_start_offset(), p.high_watermark());
            continue;
        }
        if (p.high_watermark() < r->seen_hw) {
            fail(fmt::format("leader {} in epoch {}: high watermark went back from {} to {}",
                             r->node.id(), r->seen_epoch, r->seen_hw, p.high_watermark()));
        } else if (p.high_watermark() > r->seen_hw) {
            commit_range(*r, r->seen_hw, p.high_watermark());
            r->seen_hw = p.high_watermark();
        }
    }
}

// A replica that just became the current leader holds every committed batch.
void sim_cluster::check_new_leader(replica& r) {
    std::map<std::int64_t, test::stored_batch> have;
    for (auto& b : test::read_batches(*r.node.log)) {
        have.emplace(b.base(), std::move(b));
    }
    for (const auto& [base, b] : committed_) {
        auto it = have.find(base);
        if (it == have.end()) {
            fail(fmt::format("leader {} (epoch {}) lacks committed batch {}", r.node.id(),
                             r.node.part->state().leader_epoch, describe(b)));
            return;
        }
        if (it->second != b) {
            fail(fmt::format("leader {} (epoch {}) has {} where {} was committed", r.node.id(),
                             r.node.part->state().leader_epoch, describe(it->second), describe(b)));
            return;
        }
    }
}

void sim_cluster::commit_range(replica& r, offset from, offset to) {
    storage::log& lg = *r.node.log;
    offset next = std::max(from, lg.log_start_offset());
    while (next < to && broken_.empty()) {
        auto read = lg.read(next, 1 << 20, to);
        auto data = read ? read->slice.read_all() : result<bytes>(storage::errc::io_error);
        if (!data || data->empty()) {
            fail(fmt::format("leader {}: cannot read {} below its high watermark {}", r.node.id(),
                             next, to));
            return;
        }
        model::batch_reader reader(*data, 1 << 24, model::count_rule::at_most);
        for (;;) {
            auto e = reader.next();
            if (!e || !*e) {
                break;
            }
            const auto& h = (*e)->header;
            if (h.base_offset >= next) {
                commit(test::stored_batch{h.base_offset, h.last_offset(), h.partition_leader_epoch,
                                          h.crc, bytes((*e)->bytes.begin(), (*e)->bytes.end())},
                       r.node.id());
            }
        }
        next = read->next_offset;
    }
}

void sim_cluster::commit(const test::stored_batch& b, std::int32_t who) {
    auto [it, fresh] = committed_.emplace(b.base(), b);
    if (fresh) {
        trace(fmt::format("committed {} below leader {}'s high watermark", describe(b), who));
    }
    if (!fresh && it->second != b) {
        fail(fmt::format("offset {} committed as {} is now {} below leader {}'s high watermark",
                         b.base(), describe(it->second), describe(b), who));
    }
}

void sim_cluster::check_truncation(std::int32_t id, const std::vector<test::stored_batch>& before) {
    storage::log& lg = *rep(id).node.log;
    for (const auto& b : before) {
        if (b.base >= lg.log_start_offset() && b.last < lg.log_end_offset()) {
            continue;  // kept
        }
        auto it = committed_.find(b.base());
        if (it != committed_.end() && it->second == b) {
            fail(fmt::format("follower {} truncated committed batch {} (log now [{}, {}))", id,
                             describe(b), lg.log_start_offset(), lg.log_end_offset()));
            return;
        }
    }
}

void sim_cluster::settle_produces() {
    std::erase_if(produces_, [this](pending_produce& pp) {
        replica& r = rep(pp.target);
        if (!r.running || r.incarnation != pp.incarnation) {
            ++stats_.produce_failed;  // the connection died: the client never hears back
            return true;
        }
        auto status = r.node.part->acks_all_status(pp.end, pp.epoch);
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
        // The leader's HW passed it, so observe_leaders() just recorded it from its log.
        auto it = committed_.find(pp.base());
        if (it == committed_.end() || it->second.data != pp.data) {
            fail(fmt::format("produce at {} acknowledged by leader {} but not committed as sent",
                             pp.base(), pp.target));
        }
        ++stats_.acked;
        acked_.push_back(std::move(pp));
        return true;
    });
}

bool sim_cluster::converged() {
    const partition_state& s = ctl_.st;
    if (s.leader == model::no_node || s.isr.size() != replicas_.size() || !produces_.empty()) {
        return false;
    }
    if (!rep(s.leader()).running) {
        return false;
    }
    partition& leader = *rep(s.leader()).node.part;
    for (auto& r : replicas_) {
        if (!r->running || !ctl_.registered.contains(r->node.id())) {
            return false;
        }
        partition& p = *r->node.part;
        if (p.state().leader_epoch != s.leader_epoch || p.isr_change_pending() ||
            p.log_end_offset() != leader.log_end_offset() ||
            p.high_watermark() != leader.log_end_offset()) {
            return false;
        }
    }
    return leader.is_leader();
}

void sim_cluster::final_checks() {
    replica& l = rep(ctl_.st.leader());
    check_new_leader(l);
    auto reference = test::read_batches(*l.node.log);
    for (auto& r : replicas_) {
        auto mine = test::read_batches(*r->node.log);
        if (mine != reference) {
            fail(fmt::format("replica {} ({} batches) differs from leader {} ({} batches)",
                             r->node.id(), mine.size(), l.node.id(), reference.size()));
        }
    }
    for (const auto& pp : acked_) {
        auto held = batch_at(*l.node.log, pp.base);
        if (!held || held->data != pp.data) {
            fail(fmt::format("acknowledged produce at {} lost or rewritten", pp.base()));
        }
    }
    stats_.final_log_end = l.node.part->log_end_offset()();
}

}  // namespace gregor::replication::sim

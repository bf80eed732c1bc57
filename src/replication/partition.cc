#include "replication/partition.h"

#include "replication/logger.h"

#include <algorithm>

namespace gregor::replication {

using model::kafka_error;

namespace {

bool contains(const std::vector<model::node_id>& v, model::node_id id) {
    return std::find(v.begin(), v.end(), id) != v.end();
}

}  // namespace

partition::partition(model::node_id self, storage::log& log, model::offset high_watermark,
                     replication_config cfg, liveness alive)
    : self_(self), log_(log), cfg_(cfg), alive_(std::move(alive)) {
    set_hw(std::clamp(high_watermark, log_.log_start_offset(), log_.log_end_offset()));
}

void partition::become_leader(const partition_state& s, model::timestamp_ms now) {
    if (!leader_) {
        leading_since_ = s.leader_epoch;  // a follower may have truncated until now
    }
    if (s.recovering && (!leader_ || s.leader_epoch != state_.leader_epoch)) {
        // The receipt of an unclean election, as far as the new leader can give it: what it
        // holds ends at its log end; the old leader acknowledged at least up to the high
        // watermark known here, maybe more. Each old replica that returns logs what it cuts.
        GREGOR_LOG(replication_log, warn,
                   "{}: leader by unclean election at leader epoch {}: the log ends at {} (high "
                   "watermark known here {}); records the previous leader acknowledged from {} "
                   "on are lost",
                   tp(), s.leader_epoch(), log_.log_end_offset()(), hw_(), log_.log_end_offset()());
        add_receipt({true, s.leader_epoch, log_.log_end_offset(), hw_, model::no_offset});
    }
    state_ = s;
    leader_ = true;
    pending_.reset();
    pending_leaves_.clear();
    pending_sent_ = false;
    log_.assign_epoch(s.leader_epoch, log_.log_end_offset());
    epoch_start_ = log_.log_end_offset();
    set_hw(std::min(hw_, log_.log_end_offset()));
    followers_.clear();
    for (model::node_id r : s.replicas) {
        if (r == self_) {
            continue;
        }
        follower_state f;
        // ISR members get a full lag period to show up; others must catch up to join.
        f.last_caught_up = in_isr(r) ? now : model::timestamp_ms{0};
        followers_.emplace(r, f);
    }
    followers_.shrink_to_fit();
    maybe_advance_hw();
}

void partition::become_follower(const partition_state& s, model::timestamp_ms /*now*/) {
    state_ = s;
    leader_ = false;
    pending_.reset();
    pending_leaves_.clear();
    pending_sent_ = false;
    followers_.clear();
    followers_.shrink_to_fit();
    set_hw(std::min(hw_, log_.log_end_offset()));
}

void partition::add_receipt(const loss_receipt& r) {
    if (receipts_.size() == receipts_max) {
        receipts_.erase(receipts_.begin());  // unread for long: the log lines keep them
    }
    receipts_.push_back(r);
}

bool partition::in_isr(model::node_id id) const {
    return contains(state_.isr, id);
}

std::vector<model::node_id> partition::maximal_isr() const {
    std::vector<model::node_id> out = state_.isr;
    if (pending_) {
        for (model::node_id id : *pending_) {
            if (!contains(out, id)) {
                out.push_back(id);  // an expansion counts at once; a shrink once committed
            }
        }
    }
    return out;
}

std::optional<model::offset> partition::follower_end_offset(model::node_id replica) const {
    auto it = followers_.find(replica);
    if (it == followers_.end() || it->second.end_offset < model::offset{0}) {
        return std::nullopt;
    }
    return it->second.end_offset;
}

// High watermark = the smallest log end offset in the maximal ISR; a member whose position
// is unknown (it has not fetched in this epoch) holds it where it is.
bool partition::maybe_advance_hw() {
    if (!leader_) {
        return false;
    }
    model::offset candidate = log_.log_end_offset();
    for (model::node_id id : maximal_isr()) {
        if (id == self_) {
            continue;
        }
        auto it = followers_.find(id);
        if (it == followers_.end() || it->second.end_offset < model::offset{0}) {
            return false;
        }
        candidate = std::min(candidate, it->second.end_offset);
    }
    if (candidate <= hw_) {
        return false;
    }
    set_hw(candidate);
    return true;
}

kafka_error partition::check_append(std::int16_t acks) const {
    if (!leader_) {
        return kafka_error::not_leader_or_follower;
    }
    if (acks == -1 && state_.isr.size() < static_cast<std::size_t>(cfg_.min_insync_replicas)) {
        return kafka_error::not_enough_replicas;
    }
    return kafka_error::none;
}

result<leader_append> partition::append(mutable_bytes_view records, model::timestamp_ms now,
                                        bool already_validated) {
    GREGOR_ASSERT(leader_, "append on a follower");
    GREGOR_TRY(auto appended,
               log_.append_as_leader(records, state_.leader_epoch, now, already_validated));
    bool advanced = maybe_advance_hw();
    return leader_append{appended, advanced};
}

std::optional<kafka_error> partition::acks_all_status(model::offset end,
                                                      model::leader_epoch epoch) const {
    if (!leader_ || epoch < leading_since_) {
        // Leadership was lost since the append: the records may have been truncated by
        // another leader, so never report success. (Re-elected without a break, as when a
        // new controller bumps the epoch, the records are still here: keep waiting.)
        return kafka_error::not_leader_or_follower;
    }
    if (hw_ < end) {
        return std::nullopt;
    }
    if (maximal_isr().size() < static_cast<std::size_t>(cfg_.min_insync_replicas)) {
        return kafka_error::not_enough_replicas_after_append;
    }
    return kafka_error::none;
}

fetch_decision partition::on_follower_fetch(const follower_fetch& f, model::timestamp_ms now) {
    fetch_decision out;
    auto it = followers_.find(f.replica);
    if (!leader_ || it == followers_.end()) {
        out.error = kafka_error::not_leader_or_follower;
        return out;
    }
    if (f.current_leader_epoch != model::no_leader_epoch &&
        f.current_leader_epoch != state_.leader_epoch) {
        out.error = f.current_leader_epoch < state_.leader_epoch ? kafka_error::fenced_leader_epoch
                                                                 : kafka_error::unknown_leader_epoch;
        return out;
    }
    model::offset leo = log_.log_end_offset();
    if (f.last_fetched_epoch != model::no_leader_epoch) {
        storage::epoch_entry end = log_.epochs().end_offset_for(f.last_fetched_epoch, leo);
        if (end.epoch < f.last_fetched_epoch || end.start_offset < f.fetch_offset) {
            out.diverging = end;  // the follower truncates, then fetches again
            return out;
        }
    }
    if (f.fetch_offset < log_.log_start_offset() || f.fetch_offset > leo) {
        out.error = kafka_error::offset_out_of_range;
        return out;
    }
    // Kafka's rule: caught up now if it asks for our end; caught up as of its previous fetch
    // if it now asks for at least what our end was then.
    follower_state& st = it->second;
    if (f.fetch_offset >= leo) {
        st.last_caught_up = now;
    } else if (st.leader_end_at_last_fetch >= model::offset{0} &&
               f.fetch_offset >= st.leader_end_at_last_fetch) {
        st.last_caught_up = std::max(st.last_caught_up, st.last_fetch);
    }
    st.end_offset = f.fetch_offset;
    st.leader_end_at_last_fetch = leo;
    st.last_fetch = now;
    maybe_expand_isr(f.replica);
    out.high_watermark_advanced = maybe_advance_hw();
    return out;
}

void partition::maybe_expand_isr(model::node_id replica) {
    if (pending_ || in_isr(replica) || (alive_ && !alive_(replica))) {
        return;
    }
    const follower_state& st = followers_.at(replica);
    if (st.end_offset < hw_ || st.end_offset < epoch_start_) {
        return;
    }
    std::vector<model::node_id> next = state_.isr;
    next.push_back(replica);
    GREGOR_LOG(replication_log, info, "{}: proposing ISR [{}] (replica {} caught up at {})",
               tp(), fmt::join(next, ","), replica(), st.end_offset());
    pending_ = std::move(next);
    pending_leaves_.clear();
    pending_sent_ = false;
}

void partition::maybe_shrink_isr(model::timestamp_ms now) {
    if (!leader_ || pending_) {
        return;
    }
    std::vector<model::node_id> next;
    std::vector<isr_leave> out_of_sync;
    std::vector<std::string> described;
    const std::int64_t max = cfg_.lag_time_max.count();
    for (model::node_id id : state_.isr) {
        auto it = followers_.find(id);
        bool lagging =
            id != self_ && (it == followers_.end() || now() - it->second.last_caught_up() > max);
        if (!lagging) {
            next.push_back(id);
            continue;
        }
        auto reason = it == followers_.end() || it->second.last_fetch() == 0
                          ? isr_leave_reason::never_fetched
                      : now() - it->second.last_fetch() > max ? isr_leave_reason::not_fetching
                                                              : isr_leave_reason::behind;
        out_of_sync.push_back({id, reason});
        described.push_back(fmt::format("{} ({})", id(), to_string(reason)));
    }
    if (out_of_sync.empty()) {
        return;
    }
    GREGOR_LOG(replication_log, info,
               "{}: proposing ISR [{}]: replicas {} not caught up for over {} ms", tp(),
               fmt::join(next, ","), fmt::join(described, ", "), max);
    pending_ = std::move(next);
    pending_leaves_ = std::move(out_of_sync);
    pending_sent_ = false;
}

std::optional<isr_proposal> partition::take_isr_proposal() {
    if (!leader_ || !pending_ || pending_sent_) {
        return std::nullopt;
    }
    pending_sent_ = true;
    return isr_proposal{tp(), state_.leader_epoch, state_.partition_epoch, *pending_};
}

bool partition::on_isr_committed(const partition_state& committed) {
    if (!leader_) {
        return false;
    }
    if (committed.leader_epoch != state_.leader_epoch ||
        committed.partition_epoch < state_.partition_epoch) {
        // Decided for another leader epoch (or older than what we hold): not ours to apply.
        // The proposal stays pending, its addition counting for the high watermark, until
        // the LeaderAndIsr that follows: the controller may have written it.
        return false;
    }
    state_.isr = committed.isr;
    state_.partition_epoch = committed.partition_epoch;
    for (const isr_leave& l : pending_leaves_) {
        if (!in_isr(l.replica)) {
            leaves_.push_back(l);
        }
    }
    pending_leaves_.clear();
    pending_.reset();
    pending_sent_ = false;
    GREGOR_LOG(replication_log, info, "{}: ISR now [{}] (partition epoch {})", tp(),
               fmt::join(state_.isr, ","), state_.partition_epoch);
    return maybe_advance_hw();
}

std::string_view to_string(isr_leave_reason r) {
    switch (r) {
        case isr_leave_reason::never_fetched:
            return "never fetched";
        case isr_leave_reason::not_fetching:
            return "not fetching";
        case isr_leave_reason::behind:
            return "behind";
    }
    return "unknown";
}

std::vector<follower_lag> partition::follower_lags(model::timestamp_ms now) const {
    std::vector<follower_lag> out;
    if (!leader_) {
        return out;
    }
    const model::offset leo = log_.log_end_offset();
    for (model::node_id id : state_.replicas) {
        if (id == self_) {
            continue;
        }
        follower_lag l{id, leo(), 0, in_isr(id)};
        if (auto it = followers_.find(id); it != followers_.end()) {
            if (it->second.end_offset >= model::offset(0)) {
                l.offsets = std::max<std::int64_t>(0, leo() - it->second.end_offset());
            }
            if (it->second.last_caught_up() > 0) {
                l.since_caught_up_ms =
                    std::max<std::int64_t>(0, now() - it->second.last_caught_up());
            }
        }
        out.push_back(l);
    }
    return out;
}

void partition::on_isr_refused(kafka_error error) {
    if (!pending_) {
        return;
    }
    GREGOR_LOG(replication_log, warn, "{}: ISR change to [{}] refused: {}", tp(),
               fmt::join(*pending_, ","), model::kafka_error_name(error));
    switch (error) {
        case kafka_error::operation_not_attempted:
        case kafka_error::ineligible_replica:
            // The controller says the partition epoch is current and nothing was written (no
            // controller, past or future, can have written it): back to the committed ISR,
            // asked again when still warranted (the next fetch expands, the next check
            // shrinks).
            pending_.reset();
            pending_leaves_.clear();
            pending_sent_ = false;
            return;
        case kafka_error::fenced_leader_epoch:
        case kafka_error::invalid_update_version:
        case kafka_error::unknown_topic_or_partition:
        case kafka_error::unknown_topic_id:
        case kafka_error::invalid_request:
        case kafka_error::new_leader_elected:
            // Our state is out of date and the change may have been written (an earlier
            // attempt whose answer was lost): it stays pending, its addition counting for the
            // high watermark, until the LeaderAndIsr the controller sends.
            return;
        default:
            pending_sent_ = false;  // sent again as it is (Kafka's retry)
            return;
    }
}

fetch_position partition::next_fetch() const {
    auto latest = log_.epochs().latest();
    return fetch_position{log_.log_end_offset(),
                          latest ? latest->epoch : model::no_leader_epoch, state_.leader_epoch,
                          log_.log_start_offset()};
}

// Kafka's truncation rule for a diverging epoch (KIP-101, KIP-279): find our own end of the
// epoch the leader named; if we never had that epoch, truncate to the end of our largest
// epoch below it and let the next fetch compare again.
result<std::int64_t> partition::truncate_divergent(const storage::epoch_entry& diverging) {
    model::offset leo = log_.log_end_offset();
    model::offset target;
    if (diverging.epoch == model::no_leader_epoch || diverging.start_offset < model::offset{0}) {
        // The leader knows no epoch this old (its log start moved past ours): nothing in
        // common is provable beyond what was committed.
        target = std::min(hw_, leo);
    } else {
        storage::epoch_entry ours = log_.epochs().end_offset_for(diverging.epoch, leo);
        if (ours.epoch == model::no_leader_epoch) {
            target = std::min(diverging.start_offset, leo);
        } else if (ours.epoch != diverging.epoch) {
            target = std::min(ours.start_offset, leo);
        } else {
            target = std::min({diverging.start_offset, ours.start_offset, leo});
        }
    }
    if (target >= leo) {
        // Nothing to cut, but an empty epoch of ours at the log end must go (the log drops
        // it), or the next fetch reports it again and diverges forever.
        GREGOR_TRY_VOID(log_.truncate_to(leo));
        return std::int64_t{0};
    }
    std::int64_t committed = 0;
    if (target < hw_) {
        // Below the high watermark every record was acknowledged: only a leader elected
        // uncleanly can lack them. The receipt: these are gone.
        committed = hw_() - target();
        GREGOR_LOG(replication_log, err,
                   "{}: truncating {} acknowledged records [{}, {}) (and what followed them up "
                   "to {}): the current leader ends epoch {} at {}, it was elected uncleanly",
                   tp(), committed, target(), hw_(), leo(), diverging.epoch(),
                   diverging.start_offset());
        add_receipt({false, state_.leader_epoch, leo, hw_, target});
    } else {
        GREGOR_LOG(replication_log, info,
                   "{}: truncating from {} to {} (leader's epoch {} ends at {})", tp(), leo(),
                   target(), diverging.epoch(), diverging.start_offset());
    }
    GREGOR_TRY_VOID(log_.truncate_to(target));
    set_hw(std::min(hw_, log_.log_end_offset()));
    return committed;
}

result<follower_progress> partition::on_leader_reply(const leader_reply& r,
                                                     model::timestamp_ms now) {
    follower_progress out;
    if (r.error == kafka_error::offset_out_of_range && r.log_start_offset >= model::offset{0} &&
        log_.log_end_offset() < r.log_start_offset) {
        // Far behind: the leader deleted what we need. Start over at its log start.
        GREGOR_LOG(replication_log, info, "{}: restarting the log at the leader's start {}",
                   tp(), r.log_start_offset());
        GREGOR_TRY_VOID(log_.truncate_fully(r.log_start_offset));
        set_hw(r.log_start_offset);
        out.truncated = true;
        return out;
    }
    if (r.error != kafka_error::none) {
        out.error = r.error;
        return out;
    }
    if (r.diverging) {
        model::offset before = log_.log_end_offset();
        auto epoch_before = log_.epochs().latest();
        GREGOR_TRY(out.committed_truncated, truncate_divergent(*r.diverging));
        // An empty epoch dropped at the log end counts: the next fetch asks differently.
        out.truncated =
            log_.log_end_offset() != before || log_.epochs().latest() != epoch_before;
        if (!out.truncated && r.records.empty()) {
            // Nothing to cut and nothing sent: the leader's answer cannot move us (a stale
            // reply); treat it as an error so the fetcher backs off instead of spinning.
            out.error = kafka_error::offset_out_of_range;
        }
        return out;
    }
    if (!r.records.empty()) {
        GREGOR_TRY(auto appended, log_.append_as_follower(r.records, now));
        (void)appended;
        out.appended_bytes = r.records.size();
    }
    if (r.high_watermark >= model::offset{0}) {
        set_hw(std::min(r.high_watermark, log_.log_end_offset()));
    }
    return out;
}

}  // namespace gregor::replication

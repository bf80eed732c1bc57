// group_sim: what clients do with answers, and the driver's side (appends, reloads, time).
#include "group/tests/group_sim.h"

#include <fmt/format.h>

namespace gregor::group::test {

using model::kafka_error;

void group_sim::on_join_reply(std::uint64_t token, const join_response& r) {
    auto& cl = clients_[static_cast<std::size_t>(owner_.at(token))];
    if (cl.awaiting != token) {
        return;  // a duplicate's or an abandoned request's answer
    }
    cl.awaiting.reset();
    switch (r.error) {
    case kafka_error::none: {
        ++stats_.joins;
        cl.member_id = r.member_id;
        cl.generation = r.generation_id;
        identities_.push_back({cl.group_id, r.generation_id, r.member_id,
                               cl.join_version >= 5 ? cl.instance : std::nullopt});
        if (r.leader == r.member_id && !r.skip_assignment) {
            auto [it, fresh] = leaders_.emplace(std::pair(cl.group_id, r.generation_id), r.member_id);
            if (!fresh && it->second != r.member_id && broken_.empty()) {
                broken_ = fmt::format("group {} generation {} led by {} and {}", cl.group_id,
                                      r.generation_id, it->second, r.member_id);
            }
        }
        return send_sync(cl, r);
    }
    case kafka_error::member_id_required:
        cl.member_id = r.member_id;
        return send_join(cl);
    case kafka_error::unknown_member_id:
    case kafka_error::fenced_instance_id:
    case kafka_error::group_max_size_reached:
        ++stats_.expiries;
        return rejoin(cl, false);
    default:
        return rejoin(cl, true);
    }
}

void group_sim::on_sync_reply(std::uint64_t token, const sync_response& r) {
    auto& cl = clients_[static_cast<std::size_t>(owner_.at(token))];
    if (cl.awaiting != token) {
        return;
    }
    cl.awaiting.reset();
    if (r.error == kafka_error::none) {
        ++stats_.stable_syncs;
        auto key = cl.instance && cl.join_version >= 5 ? *cl.instance : cl.member_id;
        auto expected = fmt::format("G{}|{}", cl.generation, key);
        bytes want(expected.begin(), expected.end());
        if (!r.assignment.empty() && r.assignment != want && broken_.empty()) {
            broken_ = fmt::format("member {} of generation {} got an assignment for {}",
                                  cl.member_id, cl.generation,
                                  std::string(r.assignment.begin(), r.assignment.end()));
        }
        cl.in_group = true;
        return;
    }
    bool reset = r.error == kafka_error::unknown_member_id ||
                 r.error == kafka_error::fenced_instance_id;
    rejoin(cl, !reset);
}

void group_sim::heartbeat(client& cl) {
    heartbeat_request r{cl.group_id, cl.generation, cl.member_id,
                        cl.join_version >= 5 ? cl.instance : std::nullopt};
    switch (c_->heartbeat(part_, r, now())) {
    case kafka_error::none:
    case kafka_error::not_coordinator:
    case kafka_error::coordinator_not_available:
        return;
    case kafka_error::unknown_member_id:
    case kafka_error::fenced_instance_id:
        ++stats_.expiries;
        return rejoin(cl, false);
    default:
        return rejoin(cl, true);
    }
}

void group_sim::commit(client& cl) {
    // Mostly the member's own identity; sometimes an assign()-style commit (generation -1,
    // no member) or a zombie's: any identity handed out earlier, of any generation.
    bool manual = chance(10);
    commit_identity id{cl.group_id, cl.generation, cl.member_id,
                       cl.join_version >= 5 ? cl.instance : std::nullopt};
    if (manual) {
        id = commit_identity{cl.group_id, -1, "", std::nullopt};
    } else if (!identities_.empty() && chance(30)) {
        id = identities_[rng_() % identities_.size()];
    }
    if (c_->validate_offset_commit(part_, id, now()) != kafka_error::none) {
        return;
    }
    ++stats_.commits_accepted;
    const classic_group* g = c_->find(id.group_id);
    bool fine = g != nullptr &&
                (manual ? g->is(group_state::empty)
                        : g->generation == id.generation_id && g->has(id.member_id) &&
                              !g->is(group_state::completing_rebalance));
    if (!fine && broken_.empty()) {
        broken_ = fmt::format("commit of {} generation {} accepted; group at {}", id.member_id,
                              id.generation_id, g != nullptr ? g->generation : -2);
    }
}

void group_sim::leave(client& cl) {
    if (cl.member_id.empty() && !cl.instance) {
        return;
    }
    leave_member m{cl.member_id, cl.join_version >= 5 ? cl.instance : std::nullopt, "bye"};
    if (cl.instance && chance(50)) {
        m.member_id.clear();  // an admin removing the static member by instance id
        m.group_instance_id = cl.instance;
    }
    auto o = c_->leave(part_, leave_request{cl.group_id, {m}}, now());
    absorb(std::move(o.out));
    cl.awaiting.reset();
    rejoin(cl, false);
}

void group_sim::complete_append(std::size_t index, bool success) {
    auto a = appends_[index];
    appends_.erase(appends_.begin() + static_cast<std::ptrdiff_t>(index));
    auto error = success ? kafka_error::none
                         : pick(rng_, {kafka_error::request_timed_out,
                                       kafka_error::not_enough_replicas,
                                       kafka_error::not_leader_or_follower,
                                       kafka_error::message_too_large});
    if (success) {
        log_[a.group_id] = a.value;
    } else {
        ++stats_.failed_appends;
    }
    absorb(c_->on_append_done(a.token, error, now()));
}

void group_sim::reload() {
    ++stats_.reloads;
    for (auto& a : appends_) {
        if (chance(50)) {
            log_[a.group_id] = a.value;  // it reached the log before leadership moved
        }
        stale_appends_.push_back(a);
    }
    appends_.clear();
    absorb(c_->unload(part_, model::leader_epoch(epoch_), now()));
    ++epoch_;
    if (!c_->begin_load(part_, model::leader_epoch(epoch_)) && broken_.empty()) {
        broken_ = "begin_load refused a newer epoch";
    }
    loading_ = true;
}

void group_sim::finish_load() {
    std::vector<loaded_group> groups;
    for (const auto& [id, v] : log_) {
        groups.push_back({id, v});
    }
    absorb(c_->complete_load(part_, model::leader_epoch(epoch_), std::move(groups), now()));
    loading_ = false;
    // Generations after the last record were lost with the old coordinator: Kafka hands
    // their numbers out again.
    std::erase_if(leaders_, [&](const auto& kv) {
        auto it = log_.find(kv.first.first);
        return it == log_.end() || kv.first.second > it->second.generation;
    });
}

void group_sim::tick(std::int64_t ms) {
    clock_ += ms;
    absorb(c_->on_time(now()));
    for (auto& cl : clients_) {
        if (cl.silent || draining_) {
            continue;
        }
        if (cl.awaiting && clock_ - cl.sent_at > 60'000) {
            cl.awaiting.reset();  // the client's request timeout: it tries again
            rejoin(cl, true);
        }
        if (cl.in_group && !cl.awaiting && chance(70)) {
            heartbeat(cl);
        } else if (cl.idle && !cl.awaiting && chance(30)) {
            send_join(cl);
        }
    }
}

void group_sim::check(std::string_view where) {
    if (auto next = c_->next_deadline(); next && *next <= now()) {
        absorb(c_->on_time(now()));
    }
    if (!broken_.empty()) {
        return;
    }
    if (auto s = c_->check_invariants(now()); !s.empty()) {
        broken_ = fmt::format("{} at t={}: {}", where, clock_, s);
    }
}

void group_sim::drain() {
    draining_ = true;
    if (loading_) {
        finish_load();
    }
    while (!network_.empty()) {
        deliver(rng_() % network_.size());
    }
    // No more heartbeats: every session ends, every group empties, every record is written.
    for (int round = 0; round < 200 && broken_.empty(); ++round) {
        while (!appends_.empty()) {
            complete_append(0, true);
        }
        if (!c_->next_deadline()) {
            break;
        }
        tick(5'000);
        check("drain");
    }
    if (!appends_.empty() || (c_->next_deadline() && broken_.empty())) {
        broken_ = "drain: the groups never settled";
    }
    absorb(c_->unload(part_, std::nullopt, now()));
    if (broken_.empty() && (!outstanding_.empty() || !undelivered_.empty())) {
        broken_ = fmt::format("{} requests never answered", outstanding_.size() + undelivered_.size());
    }
    if (broken_.empty() && c_->group_count() != 0) {
        broken_ = "groups left after the final unload";
    }
}

}  // namespace gregor::group::test

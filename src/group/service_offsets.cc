// group_service: OffsetCommit, OffsetFetch, OffsetDelete, DeleteGroups and offset expiry.
#include "group/logger.h"
#include "group/service.h"
#include "group/service_parked.h"

namespace gregor::group {

using model::kafka_error;

offset_store* group_service::store_for(model::partition_id p) {
    auto it = stores_.find(p);
    return it == stores_.end() ? nullptr : &it->second;
}

const offset_store* group_service::store_for(model::partition_id p) const {
    auto it = stores_.find(p);
    return it == stores_.end() ? nullptr : &it->second;
}

// NONE iff partition `p`'s offsets are here to read and change.
kafka_error group_service::offsets_status(model::partition_id p) const {
    switch (coordinator_.status(p)) {
        case partition_status::loading:
            return kafka_error::coordinator_load_in_progress;
        case partition_status::not_owned:
            return kafka_error::not_coordinator;
        case partition_status::owned:
            break;
    }
    return store_for(p) == nullptr ? kafka_error::not_coordinator : kafka_error::none;
}

std::size_t group_service::committed_offsets() const {
    std::size_t n = 0;
    for (const auto& [p, store] : stores_) {
        n += store.committed_count();
    }
    return n;
}

asio::awaitable<std::vector<partition_error>> group_service::commit(commit_identity who,
                                                                    commit_request request) {
    model::partition_id p = partition_for(who.group_id);
    model::timestamp_ms now = now_();
    request.membership_error = coordinator_.validate_offset_commit(p, who, now);
    offset_store* store = store_for(p);
    if (store == nullptr && request.membership_error == kafka_error::none) {
        request.membership_error = kafka_error::not_coordinator;
    }
    if (store == nullptr) {
        std::vector<partition_error> out;
        for (const commit_partition& c : request.partitions) {
            out.push_back({c.tp, request.membership_error});
        }
        arm_deadline_timer();
        co_return out;
    }
    commit_plan plan = store->prepare_commit(request, now);
    arm_deadline_timer();  // a commit renews the member's session
    if (!plan.pending) {
        co_return std::move(plan.results);
    }
    auto waiter = std::make_shared<parked>(ioc_);
    request_token token{next_token_++};
    parked_[token()] = waiter;
    pending_commit_id id = *plan.pending;
    std::uint64_t generation = store_generations_[p];
    appends_.append(p, std::move(plan.batch), /*wait_for_isr=*/true, config_.commit_timeout,
                    [this, p, id, token, generation, alive = alive_](offsets_log::appended r) {
                        if (!*alive) {
                            return;
                        }
                        auto it = parked_.find(token());
                        if (it == parked_.end()) {
                            return;  // stopped: already answered
                        }
                        // The store may have been unloaded (and even reloaded) meanwhile.
                        offset_store* current = store_for(p);
                        if (current != nullptr && store_generations_[p] == generation) {
                            it->second->commit = r.error == kafka_error::none
                                                     ? current->complete_commit(id, r.base_offset)
                                                     : current->fail_commit(id, r.error);
                        }
                        it->second->answer();
                    });
    co_await waiter->wait();
    parked_.erase(token());
    // Merge what the append decided into the plan's per-partition answers.
    for (const partition_error& done : waiter->commit) {
        for (partition_error& e : plan.results) {
            if (e.tp == done.tp && e.error == kafka_error::none) {
                e.error = done.error;
            }
        }
    }
    if (waiter->commit.empty()) {
        for (partition_error& e : plan.results) {
            if (e.error == kafka_error::none) {
                e.error = kafka_error::not_coordinator;  // unloaded before the append ended
            }
        }
    }
    co_return std::move(plan.results);
}

offset_fetch_result group_service::fetch(
    std::string_view group_id, const std::optional<std::vector<model::topic_partition>>& partitions,
    bool require_stable) const {
    model::partition_id p = partition_for(group_id);
    offset_fetch_result out;
    out.error = offsets_status(p);
    if (out.error == kafka_error::none) {
        out.offsets = store_for(p)->fetch(group_id, partitions, require_stable);
    }
    return out;
}

offset_delete_result group_service::delete_offsets(
    std::string_view group_id, std::span<const model::topic_partition> partitions) {
    model::partition_id p = partition_for(group_id);
    offset_delete_result out;
    out.error = offsets_status(p);
    if (out.error != kafka_error::none) {
        return out;
    }
    out = store_for(p)->delete_offsets(group_id, partitions, coordinator_.view(group_id));
    append_tombstones(p, group_id, out.cleanup);
    if (out.cleanup.group_dead) {
        coordinator_.drop_if_empty(group_id, now_());
    }
    arm_deadline_timer();
    return out;
}

std::vector<deleted_group> group_service::delete_groups(std::span<const std::string> group_ids) {
    model::timestamp_ms now = now_();
    std::vector<group_ref> refs;
    std::map<std::string, std::optional<group_view>, std::less<>> views;
    for (const std::string& id : group_ids) {
        refs.push_back({partition_for(id), id});
        views.emplace(id, coordinator_.view(id));
    }
    delete_outcome o = coordinator_.delete_groups(refs, now);
    for (const deleted_group& d : o.results) {
        offset_store* store = store_for(partition_for(d.group_id));
        if (d.error != kafka_error::none || store == nullptr) {
            continue;
        }
        std::optional<group_view> view = views[d.group_id];
        if (view) {
            view->state = group_state::empty;  // deleted: it may lose every offset
        }
        group_delete_result r = store->delete_group(d.group_id, view);
        r.cleanup.group_tombstone = false;  // the state machine's effect writes that one
        append_tombstones(partition_for(d.group_id), d.group_id, r.cleanup);
    }
    run(std::move(o.out));
    return std::move(o.results);
}

void group_service::arm_expiry_timer() {
    if (stopped_) {
        return;
    }
    expiry_timer_.expires_after(config_.retention_check_interval);
    expiry_timer_.async_wait([this, alive = alive_](const net::error_code& ec) {
        if (ec || !*alive) {
            return;
        }
        expire_offsets();
        arm_expiry_timer();
    });
}

// KIP-211: every group of every owned partition loses the offsets its state lets expire;
// a group left Empty without offsets dies (and gets its tombstone).
void group_service::expire_offsets() {
    model::timestamp_ms now = now_();
    std::size_t removed = 0;
    for (auto& [p, store] : stores_) {
        for (const std::string& id : store.group_ids()) {
            std::optional<group_view> view = coordinator_.view(id);
            if (!view) {
                continue;
            }
            group_cleanup c = store.expire(id, *view, now);
            removed += c.removed.size();
            append_tombstones(p, id, c);
            if (c.group_dead) {
                coordinator_.drop_if_empty(id, now);
            }
        }
    }
    if (removed > 0) {
        GREGOR_LOG(group_log, info, "expired {} committed offsets", removed);
    }
    arm_deadline_timer();
}

}  // namespace gregor::group

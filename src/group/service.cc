// group_service: carrying out the group cores' effects on the broker's loop. The load of an
// offsets partition is in service_load.cc, offsets and expiry in service_offsets.cc.
#include "group/service.h"

#include "base/assert.h"
#include "group/logger.h"
#include "group/partitioner.h"
#include "group/record_batches.h"
#include "group/service_parked.h"

#include <limits>

namespace gregor::group {

using model::kafka_error;

group_service::group_service(asio::io_context& ioc, service_config config, offsets_log& log,
                             clock_source now, uuid_source new_uuid)
    : ioc_(ioc),
      config_(std::move(config)),
      log_(log),
      appends_(log),
      now_(std::move(now)),
      coordinator_(config_.groups, std::move(new_uuid)),
      partitions_(config_.offsets_topic_partitions),
      deadline_timer_(ioc),
      expiry_timer_(ioc),
      alive_(std::make_shared<bool>(true)) {
    GREGOR_ASSERT(partitions_ > 0, "offsets.topic.num.partitions must be positive, got {}",
                  partitions_);
}

group_service::~group_service() {
    *alive_ = false;
}

void group_service::start() {
    arm_expiry_timer();
}

void group_service::stop() {
    stopped_ = true;
    deadline_timer_.cancel();
    expiry_timer_.cancel();
    loading_.clear();
    model::timestamp_ms now = now_();
    effects out;
    for (const auto& [p, store] : stores_) {
        effects e = coordinator_.unload(p, std::nullopt, now);
        out.insert(out.end(), e.begin(), e.end());
    }
    stores_.clear();
    run(std::move(out));
    // Anything still parked (a commit waiting for its append) is answered now.
    for (auto& [token, p] : std::exchange(parked_, {})) {
        for (partition_error& e : p->commit) {
            e.error = kafka_error::not_coordinator;
        }
        p->answer();
    }
}

void group_service::set_partition_count(std::int32_t partitions) {
    if (partitions_fixed_ || partitions <= 0) {
        return;
    }
    if (partitions != partitions_) {
        GREGOR_LOG(group_log, info, "__consumer_offsets has {} partitions (configured {})",
                   partitions, partitions_);
    }
    partitions_ = partitions;
    partitions_fixed_ = true;
}

model::partition_id group_service::partition_for(std::string_view group_id) const {
    return offsets_partition_for(group_id, partitions_);
}

partition_status group_service::status_of(std::string_view group_id) const {
    return coordinator_.status(partition_for(group_id));
}

asio::awaitable<join_response> group_service::join(join_request request) {
    auto waiter = std::make_shared<parked>(ioc_);
    request_token token{next_token_++};
    parked_[token()] = waiter;
    run(coordinator_.join(partition_for(request.group_id), token, request, now_()));
    co_await waiter->wait();
    parked_.erase(token());
    if (!waiter->join) {
        join_response out;
        out.error = kafka_error::not_coordinator;
        out.member_id = request.member_id;
        co_return out;
    }
    co_return std::move(*waiter->join);
}

asio::awaitable<sync_response> group_service::sync(sync_request request) {
    auto waiter = std::make_shared<parked>(ioc_);
    request_token token{next_token_++};
    parked_[token()] = waiter;
    run(coordinator_.sync(partition_for(request.group_id), token, request, now_()));
    co_await waiter->wait();
    parked_.erase(token());
    co_return waiter->sync ? std::move(*waiter->sync) : sync_failure(kafka_error::not_coordinator);
}

kafka_error group_service::heartbeat(const heartbeat_request& request) {
    kafka_error e = coordinator_.heartbeat(partition_for(request.group_id), request, now_());
    arm_deadline_timer();
    return e;
}

leave_response group_service::leave(const leave_request& request) {
    leave_outcome o = coordinator_.leave(partition_for(request.group_id), request, now_());
    run(std::move(o.out));
    return std::move(o.response);
}

described_group group_service::describe(std::string_view group_id) const {
    return coordinator_.describe(partition_for(group_id), group_id);
}

list_groups_response group_service::list(std::span<const std::string> states_filter,
                                         std::span<const std::string> types_filter) const {
    return coordinator_.list(states_filter, types_filter);
}

// Carries out the state machine's effects in order, then follows its next deadline.
void group_service::run(effects out) {
    for (effect& e : out) {
        if (auto* j = std::get_if<join_reply>(&e)) {
            if (auto it = parked_.find(j->token()); it != parked_.end()) {
                it->second->join = std::move(j->response);
                it->second->answer();
            }
        } else if (auto* s = std::get_if<sync_reply>(&e)) {
            if (auto it = parked_.find(s->token()); it != parked_.end()) {
                it->second->sync = std::move(s->response);
                it->second->answer();
            }
        } else if (auto* a = std::get_if<append_group_record>(&e)) {
            append_group_record_of(*a);
        } else if (auto* t = std::get_if<append_group_tombstone>(&e)) {
            group_cleanup c;
            c.group_tombstone = true;
            append_tombstones(t->partition, t->group_id, c);
        }
    }
    arm_deadline_timer();
}

void group_service::arm_deadline_timer() {
    std::optional<model::timestamp_ms> next = coordinator_.next_deadline();
    if (stopped_ || !next || (armed_deadline_ && *armed_deadline_ == *next)) {
        return;
    }
    armed_deadline_ = next;
    std::int64_t wait_ms = std::max<std::int64_t>((*next)() - now_()(), 0);
    deadline_timer_.expires_after(std::chrono::milliseconds(wait_ms));
    deadline_timer_.async_wait([this, alive = alive_](const net::error_code& ec) {
        if (ec || !*alive) {
            return;  // re-armed for another deadline, or stopped
        }
        armed_deadline_.reset();
        run(coordinator_.on_time(now_()));
    });
}

// A group record (assignment, Empty group, static member replacement): appended with
// acks=all, and its outcome goes back to the state machine.
void group_service::append_group_record_of(const append_group_record& a) {
    model::timestamp_ms now = now_();
    auto batch = build_group_metadata_batch(a.group_id, a.value, now,
                                            batch_settings{config_.offsets.compression});
    append_token token = a.token;
    if (!batch) {
        GREGOR_LOG(group_log, err, "group={}: cannot encode its record: {}", a.group_id,
                   batch.err().to_string());
        asio::post(ioc_, [this, token, alive = alive_] {
            if (*alive) {
                run(coordinator_.on_append_done(token, kafka_error::unknown_server_error, now_()));
            }
        });
        return;
    }
    appends_.append(a.partition, std::move(batch).value(), /*wait_for_isr=*/true,
                    config_.commit_timeout, [this, token, alive = alive_](offsets_log::appended r) {
                        if (*alive && !stopped_) {
                            run(coordinator_.on_append_done(token, r.error, now_()));
                        }
                    });
}

// Tombstones are written with acks=0, as Kafka's cleanup does: a lost batch is written
// again by the next expiry run.
void group_service::append_tombstones(model::partition_id p, std::string_view group,
                                      const group_cleanup& cleanup) {
    if (cleanup.nothing_to_write()) {
        return;
    }
    auto batch = build_cleanup_batch(group, cleanup, now_(), config_.offsets);
    if (!batch) {
        GREGOR_LOG(group_log, err, "group={}: cannot encode its tombstones: {}", group,
                   batch.err().to_string());
        return;
    }
    appends_.append(p, std::move(batch).value(), /*wait_for_isr=*/false, config_.commit_timeout,
                    [group = std::string(group)](offsets_log::appended r) {
                        if (r.error != kafka_error::none) {
                            GREGOR_LOG(group_log, warn, "group={}: tombstones not written: {}",
                                       group, model::kafka_error_name(r.error));
                        }
                    });
}

}  // namespace gregor::group

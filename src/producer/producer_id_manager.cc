#include "producer/producer_id_manager.h"

#include "base/assert.h"
#include "producer/logger.h"

#include <algorithm>

namespace gregor::producer {

producer_id_manager::producer_id_manager(manager_config config) : config_(config) {
    GREGOR_ASSERT(config_.prefetch_percent > 0 && config_.prefetch_percent <= 100,
                  "prefetch_percent {} outside (0, 100]", config_.prefetch_percent);
    GREGOR_ASSERT(config_.retry_backoff.count() > 0, "retry_backoff must be positive");
    GREGOR_ASSERT(config_.retry_backoff <= config_.retry_backoff_max,
                  "retry_backoff above retry_backoff_max");
    GREGOR_ASSERT(config_.timed_retries_max >= 0, "timed_retries_max must not be negative");
}

std::int64_t producer_id_manager::remaining() const {
    return current_ ? current_->size() - handed_out_ : 0;
}

effects producer_id_manager::start(time_point now) {
    return maybe_claim(now);
}

allocation producer_id_manager::allocate(time_point now) {
    if (current_used_up() && next_) {
        current_ = next_;
        next_.reset();
        handed_out_ = 0;
    }
    if (current_used_up()) {
        auto error = exhausted_ ? model::kafka_error::unknown_server_error
                                : model::kafka_error::coordinator_load_in_progress;
        return {error, model::producer_id{-1}, maybe_claim(now)};
    }
    model::producer_id id = current_->first + handed_out_;
    ++handed_out_;
    GREGOR_ASSERT(id > last_handed_out_, "producer id {} after {}", id(), last_handed_out_());
    GREGOR_ASSERT(id <= current_->last, "producer id {} beyond its block", id());
    last_handed_out_ = id;
    return {model::kafka_error::none, id, maybe_claim(now)};
}

// Another block is wanted when none is current, or the current one is used up, or its
// prefetch point was passed, and none is already waiting.
bool producer_id_manager::wants_block() const {
    if (exhausted_ || next_) {
        return false;
    }
    if (!current_ || current_used_up()) {
        return true;
    }
    // Kafka asks once the id at first + size * 0.9 is handed out.
    std::int64_t prefetch_at = current_->size() * config_.prefetch_percent / 100;
    return handed_out_ > prefetch_at;
}

effects producer_id_manager::maybe_claim(time_point now) {
    if (claim_in_flight_ || !wants_block()) {
        return {};
    }
    if (retry_at_ && now < *retry_at_) {
        return {};  // backing off: the wake_at, or a later request, claims
    }
    retry_at_.reset();
    claim_in_flight_ = true;
    return {claim_block{}};
}

effects producer_id_manager::on_claimed(id_block block, time_point now) {
    GREGOR_ASSERT(claim_in_flight_, "a claimed block arrived with no claim in flight");
    GREGOR_ASSERT(block.first <= block.last, "block [{}, {}] is empty", block.first(),
                  block.last());
    claim_in_flight_ = false;
    if (block.first <= highest_claimed_ || block.first <= last_handed_out_) {
        GREGOR_LOG(producer_log, err,
                   "producer id block [{}, {}] does not lie above the ids already claimed (up "
                   "to {}); /latest_producer_id_block was rewritten? The block is not used",
                   block.first(), block.last(), highest_claimed_());
        return failed(now);
    }
    failures_ = 0;
    retry_at_.reset();
    highest_claimed_ = block.last;
    if (!current_ || current_used_up()) {
        current_ = block;
        handed_out_ = 0;
    } else {
        next_ = block;
    }
    return maybe_claim(now);
}

effects producer_id_manager::on_claim_failed(claim_failure why, time_point now) {
    GREGOR_ASSERT(claim_in_flight_, "a claim failure arrived with no claim in flight");
    claim_in_flight_ = false;
    if (why == claim_failure::exhausted) {
        exhausted_ = true;
        retry_at_.reset();
        return {};
    }
    return failed(now);
}

effects producer_id_manager::failed(time_point now) {
    failures_ = std::min(failures_ + 1, config_.timed_retries_max + 1);
    retry_at_ = now + backoff_for(failures_);
    if (failures_ <= config_.timed_retries_max) {
        return {wake_at{*retry_at_}};
    }
    return {};
}

effects producer_id_manager::on_time(time_point now) {
    if (retry_at_ && now < *retry_at_ && !claim_in_flight_) {
        return {wake_at{*retry_at_}};
    }
    return maybe_claim(now);
}

// retry_backoff * 2^(failures - 1), at most retry_backoff_max.
std::chrono::milliseconds producer_id_manager::backoff_for(int failures) const {
    std::chrono::milliseconds out = config_.retry_backoff;
    for (int i = 1; i < failures && out < config_.retry_backoff_max; ++i) {
        out *= 2;
    }
    return std::min(out, config_.retry_backoff_max);
}

}  // namespace gregor::producer

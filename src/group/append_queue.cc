#include "group/append_queue.h"

#include "base/assert.h"
#include "model/record_batch.h"

#include <algorithm>

namespace gregor::group {

namespace {

// Offsets a batch takes in the log: last_offset_delta + 1 (bytes 23..26 of the header).
std::int64_t offsets_of(const bytes& batch) {
    GREGOR_ASSERT(batch.size() >= model::batch_header_bytes, "short batch of {} bytes",
                  batch.size());
    std::uint32_t delta = 0;
    for (std::size_t i = 23; i < 27; ++i) {
        delta = (delta << 8) | batch[i];
    }
    return static_cast<std::int64_t>(static_cast<std::int32_t>(delta)) + 1;
}

}  // namespace

append_queue::append_queue(offsets_log& inner, std::size_t round_bytes_max)
    : inner_(inner), round_bytes_max_(round_bytes_max) {}

append_queue::~append_queue() {
    *alive_ = false;
}

void append_queue::append(model::partition_id p, bytes batch, bool wait_for_isr,
                          std::chrono::milliseconds timeout, append_done done) {
    auto& q = queues_[p];
    q.queued.push_back(pending{std::move(batch), wait_for_isr, timeout, std::move(done)});
    if (!q.in_flight) {
        send_round(p);
    }
}

void append_queue::send_round(model::partition_id p) {
    auto& q = queues_[p];
    std::vector<pending> round;
    std::size_t size = 0;
    while (!q.queued.empty() &&
           (round.empty() || size + q.queued.front().batch.size() <= round_bytes_max_)) {
        size += q.queued.front().batch.size();
        round.push_back(std::move(q.queued.front()));
        q.queued.pop_front();
    }
    if (round.empty()) {
        return;
    }
    bool wait = false;
    std::chrono::milliseconds timeout{0};
    bytes data;
    data.reserve(size);
    for (const auto& e : round) {
        wait = wait || e.wait_for_isr;
        timeout = std::max(timeout, e.timeout);
        data.insert(data.end(), e.batch.begin(), e.batch.end());
    }
    q.in_flight = true;
    ++rounds_;
    batches_ += round.size();
    inner_.append(p, std::move(data), wait, timeout,
                  [this, p, round = std::move(round), alive = alive_](appended r) mutable {
                      if (*alive) {
                          finish_round(p, std::move(round), r);
                      }
                  });
}

void append_queue::finish_round(model::partition_id p, std::vector<pending> round, appended r) {
    // Callers may append again from their callbacks: those queue behind this round's
    // followers until every caller of this round has heard.
    auto next = r.base_offset;
    auto alive = alive_;
    for (auto& e : round) {
        appended mine{r.error, r.error == model::kafka_error::none ? next : model::no_offset};
        next = next + offsets_of(e.batch);
        e.done(mine);
        if (!*alive) {
            return;  // a caller destroyed the queue
        }
    }
    auto it = queues_.find(p);
    if (it == queues_.end()) {
        return;
    }
    it->second.in_flight = false;
    if (it->second.queued.empty()) {
        queues_.erase(it);
        return;
    }
    send_round(p);
}

}  // namespace gregor::group

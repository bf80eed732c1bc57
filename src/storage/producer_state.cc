#include "storage/producer_state.h"

#include "base/assert.h"
#include "storage/errc.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace gregor::storage {
namespace {

constexpr std::int32_t sequence_max = std::numeric_limits<std::int32_t>::max();

// Kafka's inSequence: `next` directly follows `last`, or the sequence wrapped.
bool producer_in_sequence(std::int32_t last, std::int32_t next) {
    return static_cast<std::int64_t>(next) == static_cast<std::int64_t>(last) + 1 ||
           (next == 0 && last == sequence_max);
}

// The retained batch of `stored` that `b` repeats, when the epochs match.
std::optional<duplicate_batch> find_duplicate(const producer_entry* stored,
                                              const producer_batch_info& b) {
    if (stored == nullptr || stored->epoch != b.epoch) {
        return std::nullopt;
    }
    auto last = b.last_sequence();
    for (const auto& m : stored->batches()) {
        if (m.first_sequence() == b.base_sequence && m.last_sequence == last) {
            return duplicate_batch{m.first_offset(), m.last_offset, m.timestamp};
        }
    }
    return std::nullopt;
}

result<void> check_epoch(const producer_entry* current, const producer_batch_info& b) {
    auto stored = current == nullptr ? no_producer_epoch : current->epoch;
    if (b.epoch < stored) {
        return error(errc::invalid_producer_epoch,
                     fmt::format("producer {}: epoch {} is older than the partition's {}",
                                 b.producer, b.epoch, stored));
    }
    return ok();
}

// Kafka's checkSequence for a client batch whose epoch is not below the stored one.
result<void> check_sequence(const producer_entry* current, const producer_batch_info& b) {
    if (current == nullptr || current->epoch == no_producer_epoch) {
        return ok();  // unknown producer: any sequence (KIP-360, Kafka >= 2.5)
    }
    if (b.epoch != current->epoch) {
        if (b.base_sequence != 0) {
            return error(errc::out_of_order_sequence,
                         fmt::format("producer {}: new epoch {} must start at sequence 0, not {}",
                                     b.producer, b.epoch, b.base_sequence));
        }
        return ok();
    }
    if (!producer_in_sequence(current->last_sequence(), b.base_sequence)) {
        return error(errc::out_of_order_sequence,
                     fmt::format("producer {} epoch {}: sequence {} does not follow {}", b.producer,
                                 b.epoch, b.base_sequence, current->last_sequence()));
    }
    return ok();
}

// `stored`: the partition's entry (duplicates are looked up there, as Kafka does);
// `current`: the entry as earlier batches of the same append leave it.
result<std::optional<duplicate_batch>> check_producer_batch(const producer_entry* stored,
                                                            const producer_entry* current,
                                                            const producer_batch_info& b,
                                                            append_origin origin) {
    GREGOR_ASSERT(b.producer() >= 0, "producer check of a batch without producer id");
    if (origin == append_origin::coordinator) {
        GREGOR_TRY_VOID(check_epoch(current, b));
        return std::optional<duplicate_batch>{};
    }
    if (b.base_sequence < 0) {
        return error(errc::invalid_record, fmt::format("producer {}: base sequence {}", b.producer,
                                                       b.base_sequence));
    }
    if (b.epoch < 0) {
        return error(errc::invalid_producer_epoch,
                     fmt::format("producer {}: epoch {}", b.producer, b.epoch));
    }
    if (auto dup = find_duplicate(stored, b)) {
        return dup;
    }
    GREGOR_TRY_VOID(check_epoch(current, b));
    GREGOR_TRY_VOID(check_sequence(current, b));
    return std::optional<duplicate_batch>{};
}

// Records `b` in `e` (Kafka's ProducerAppendInfo update, any origin).
void apply_producer_batch(producer_entry& e, const producer_batch_info& b) {
    GREGOR_ASSERT(b.first_offset <= b.last_offset, "batch offsets {}..{}", b.first_offset,
                  b.last_offset);
    if (e.epoch != b.epoch) {
        e.epoch = b.epoch;
        e.clear_batches();
    }
    if (b.control) {
        e.current_txn_first_offset = model::offset(-1);  // a marker ends the transaction
    } else {
        const auto* last = e.last_batch();
        GREGOR_ASSERT(last == nullptr || b.first_offset > last->last_offset,
                      "producer {}: batch at {} not after its last batch at {}", b.producer,
                      b.first_offset, last == nullptr ? model::offset(-1) : last->last_offset);
        e.add_batch({b.last_sequence(), static_cast<std::int32_t>(b.last_offset() - b.first_offset()),
                     b.last_offset, b.max_timestamp});
    }
    e.last_timestamp = b.max_timestamp;
}

}  // namespace

std::int32_t increment_sequence(std::int32_t seq, std::int32_t delta) {
    GREGOR_ASSERT(seq >= 0 && delta >= 0, "increment_sequence({}, {})", seq, delta);
    if (seq > sequence_max - delta) {
        return delta - (sequence_max - seq) - 1;
    }
    return seq + delta;
}

std::int32_t decrement_sequence(std::int32_t seq, std::int32_t delta) {
    GREGOR_ASSERT(seq >= 0 && delta >= 0, "decrement_sequence({}, {})", seq, delta);
    if (seq < delta) {
        return sequence_max - (delta - seq) + 1;
    }
    return seq - delta;
}

std::int32_t producer_batch_info::last_sequence() const {
    if (base_sequence < 0) {
        return no_sequence;
    }
    auto delta = last_offset() - first_offset();
    GREGOR_ASSERT(delta >= 0 && delta <= sequence_max, "batch offset delta {}", delta);
    return increment_sequence(base_sequence, static_cast<std::int32_t>(delta));
}

std::int32_t producer_batch::first_sequence() const {
    if (last_sequence < 0) {
        return no_sequence;
    }
    return decrement_sequence(last_sequence, offset_delta);
}

void producer_entry::add_batch(const producer_batch& b) {
    if (count_ == batches_.size()) {
        std::move(batches_.begin() + 1, batches_.end(), batches_.begin());
        --count_;
    }
    batches_[count_++] = b;
}

bool producer_expired(const producer_entry& e, model::timestamp_ms now,
                      std::int64_t expiration_ms) {
    GREGOR_ASSERT(expiration_ms >= 0, "expiration {}", expiration_ms);
    if (e.has_open_txn() || e.last_timestamp > now) {
        return false;
    }
    // now >= last timestamp: the difference fits an unsigned 64-bit value.
    auto age = static_cast<std::uint64_t>(now()) - static_cast<std::uint64_t>(e.last_timestamp());
    return age >= static_cast<std::uint64_t>(expiration_ms);
}

producer_state::producer_state(std::size_t producers_max) : producers_max_(producers_max) {
    GREGOR_ASSERT(producers_max_ >= 1, "producer state bound {}", producers_max_);
}

result<std::optional<duplicate_batch>> producer_state::check(const producer_batch_info& b,
                                                             append_origin origin) const {
    const auto* stored = find(b.producer);
    return check_producer_batch(stored, stored, b, origin);
}

void producer_state::apply(const producer_batch_info& b) {
    GREGOR_ASSERT(b.producer() >= 0, "apply of a batch without producer id");
    auto& e = entry_for(b.producer);
    auto before = key_of(e);
    apply_producer_batch(e, b);
    reindex(before, e);
}

producer_state::tables& producer_state::writable() {
    if (!t_) {
        t_ = std::make_unique<tables>();
    }
    return *t_;
}

void producer_state::load(const producer_entry& e) {
    GREGOR_ASSERT(e.id() >= 0, "loading producer id {}", e.id);
    auto& t = writable();
    auto it = t.producers.find(e.id);
    if (it != t.producers.end()) {
        t.by_age.erase(key_of(it->second));
        it->second = e;
    } else {
        t.producers.emplace(e.id, e);
    }
    t.by_age.insert(key_of(e));
    // Inserted first, then trimmed: loading in any order keeps the newest producers_max.
    while (t.producers.size() > producers_max_) {
        evict_one();
    }
}

std::size_t producer_state::expire(model::timestamp_ms now, std::int64_t expiration_ms) {
    if (!t_) {
        return 0;
    }
    auto& t = *t_;
    std::size_t dropped = 0;
    // Entries without an open transaction come first, oldest first: stop at the first one
    // that is not expired.
    while (!t.by_age.empty()) {
        auto id = model::producer_id(t.by_age.begin()->id);
        auto it = t.producers.find(id);
        GREGOR_ASSERT(it != t.producers.end(), "age index names unknown producer {}", id);
        if (!producer_expired(it->second, now, expiration_ms)) {
            break;
        }
        t.by_age.erase(t.by_age.begin());
        t.producers.erase(it);
        ++dropped;
    }
    GREGOR_ASSERT(t.by_age.size() == t.producers.size(), "age index out of step");
    if (t.producers.empty()) {
        t_.reset();
    }
    return dropped;
}

void producer_state::clear() {
    t_.reset();
}

const producer_entry* producer_state::find(model::producer_id id) const {
    if (!t_) {
        return nullptr;
    }
    auto it = t_->producers.find(id);
    return it == t_->producers.end() ? nullptr : &it->second;
}

std::vector<const producer_entry*> producer_state::entries() const {
    std::vector<const producer_entry*> out;
    if (!t_) {
        return out;
    }
    out.reserve(t_->producers.size());
    for (const auto& [id, e] : t_->producers) {
        out.push_back(&e);
    }
    std::sort(out.begin(), out.end(),
              [](const producer_entry* a, const producer_entry* b) { return a->id < b->id; });
    return out;
}

producer_state::age_key producer_state::key_of(const producer_entry& e) {
    return {e.has_open_txn(), e.last_timestamp(), e.id()};
}

producer_entry& producer_state::entry_for(model::producer_id id) {
    auto& t = writable();
    auto it = t.producers.find(id);
    if (it != t.producers.end()) {
        return it->second;
    }
    // Evicted before inserting: the new entry (timestamp -1 until applied) must not be the
    // victim.
    if (t.producers.size() >= producers_max_) {
        evict_one();
    }
    producer_entry fresh;
    fresh.id = id;
    t.by_age.insert(key_of(fresh));
    return t.producers.emplace(id, fresh).first->second;
}

void producer_state::evict_one() {
    GREGOR_ASSERT(t_ && !t_->by_age.empty(), "eviction from an empty producer state");
    auto id = model::producer_id(t_->by_age.begin()->id);
    t_->by_age.erase(t_->by_age.begin());
    auto erased = t_->producers.erase(id);
    GREGOR_ASSERT(erased == 1, "evicted producer {} was not in the map", id);
    ++evictions_;
}

void producer_state::reindex(const age_key& before, const producer_entry& e) {
    auto now = key_of(e);
    if (now == before) {
        return;
    }
    auto node = t_->by_age.extract(before);
    GREGOR_ASSERT(!node.empty(), "producer {} missing from the age index", e.id);
    node.value() = now;
    t_->by_age.insert(std::move(node));
}

result<std::optional<duplicate_batch>> producer_append_checker::check(
    const producer_batch_info& b) {
    const auto* stored = state_.find(b.producer);
    auto pending = std::find_if(pending_.begin(), pending_.end(),
                                [&b](const producer_entry& e) { return e.id == b.producer; });
    const auto* current = pending == pending_.end() ? stored : &*pending;
    GREGOR_TRY(auto dup, check_producer_batch(stored, current, b, origin_));
    if (dup) {
        return dup;
    }
    if (pending == pending_.end()) {
        producer_entry fresh;
        fresh.id = b.producer;
        pending_.push_back(stored == nullptr ? fresh : *stored);
        pending = std::prev(pending_.end());
    }
    apply_producer_batch(*pending, b);
    return std::optional<duplicate_batch>{};
}

}  // namespace gregor::storage

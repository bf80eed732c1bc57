// Goal: producer_state de-duplicates and orders idempotent producers exactly as Kafka 3.x
// does (kafka-transactions.md §2.2-2.4): retries within the 5-batch window are answered
// with their original offsets, every gap and reset is caught, stale epochs are refused,
// unknown (new, expired, evicted) producers start anywhere, expiry follows Kafka's rule,
// and a snapshot plus replay, or a truncation rebuilt from the newest snapshot below it,
// gives the same state as building it batch by batch.
// Method: seeded random client workloads (retries, gaps, epoch bumps, stale epochs, bad
// fields, sequence wrap, time passing) checked three ways: against what the simulated
// client meant (a retry must come back as a duplicate with the offsets it first got),
// against a plain reference model of the rules, and, at the end, snapshot/replay and
// truncation rebuilds against states rebuilt from the accepted batches. GREGOR_SIM_SEEDS
// sets the seed count (default 200), GREGOR_SIM_SEED runs one seed.
#include "storage/producer_state.h"

#include "storage/errc.h"
#include "storage/producer_snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <random>
#include <string>

namespace gregor::storage {
namespace {

constexpr std::int64_t expiration_ms = 60'000;
constexpr std::int64_t seq_mod = std::int64_t{1} << 31;

// ---------------------------------------------------------------------------------------
// Reference model: the rules written the plain way, with 64-bit modular sequence math.

struct model_batch {
    std::int64_t first_seq = 0;
    std::int64_t last_seq = 0;
    std::int64_t first_offset = 0;
    std::int64_t last_offset = 0;
    std::int64_t ts = 0;
};

struct model_producer {
    std::int16_t epoch = -1;
    std::deque<model_batch> batches;
    std::int64_t last_ts = -1;
};

enum class verdict { append, duplicate, out_of_order, bad_epoch, bad_record };

struct model_answer {
    verdict v = verdict::append;
    model_batch original;
};

std::int64_t model_last_seq(const producer_batch_info& b) {
    return (b.base_sequence + (b.last_offset() - b.first_offset())) % seq_mod;
}

struct model_state {
    std::map<std::int64_t, model_producer> producers;

    model_answer check(const producer_batch_info& b) const {
        if (b.base_sequence < 0) {
            return {verdict::bad_record, {}};
        }
        if (b.epoch < 0) {
            return {verdict::bad_epoch, {}};
        }
        auto it = producers.find(b.producer());
        if (it == producers.end()) {
            return {verdict::append, {}};
        }
        const auto& p = it->second;
        if (p.epoch == b.epoch) {
            for (const auto& m : p.batches) {
                if (m.first_seq == b.base_sequence && m.last_seq == model_last_seq(b)) {
                    return {verdict::duplicate, m};
                }
            }
        }
        if (p.epoch == -1) {
            return {verdict::append, {}};
        }
        if (b.epoch < p.epoch) {
            return {verdict::bad_epoch, {}};
        }
        if (b.epoch > p.epoch) {
            return {b.base_sequence == 0 ? verdict::append : verdict::out_of_order, {}};
        }
        std::int64_t last = p.batches.empty() ? -1 : p.batches.back().last_seq;
        bool next = b.base_sequence == last + 1 || (b.base_sequence == 0 && last == seq_mod - 1);
        return {next ? verdict::append : verdict::out_of_order, {}};
    }

    void apply(const producer_batch_info& b) {
        auto& p = producers[b.producer()];
        if (p.epoch != b.epoch) {
            p.epoch = b.epoch;
            p.batches.clear();
        }
        p.batches.push_back({b.base_sequence, model_last_seq(b), b.first_offset(), b.last_offset(),
                             b.max_timestamp()});
        if (p.batches.size() > 5) {
            p.batches.pop_front();
        }
        p.last_ts = b.max_timestamp();
    }

    std::size_t expire(std::int64_t now) {
        return std::erase_if(producers,
                             [now](const auto& kv) { return now - kv.second.last_ts >= expiration_ms; });
    }
};

verdict verdict_of(const result<std::optional<duplicate_batch>>& r) {
    if (r) {
        return *r ? verdict::duplicate : verdict::append;
    }
    if (r.err().code == make_error_code(errc::out_of_order_sequence)) {
        return verdict::out_of_order;
    }
    if (r.err().code == make_error_code(errc::invalid_producer_epoch)) {
        return verdict::bad_epoch;
    }
    EXPECT_EQ(r.err().code, make_error_code(errc::invalid_record)) << r.err().to_string();
    return verdict::bad_record;
}

// Returns "" iff `s` holds exactly the model's producers.
std::string compare_to_model(const producer_state& s, const model_state& m) {
    if (s.size() != m.producers.size()) {
        return "size " + std::to_string(s.size()) + " vs model " +
               std::to_string(m.producers.size());
    }
    for (const auto& [id, p] : m.producers) {
        const auto* e = s.find(model::producer_id(id));
        if (e == nullptr || e->epoch != p.epoch || e->last_timestamp() != p.last_ts ||
            e->batches().size() != p.batches.size()) {
            return "producer " + std::to_string(id) + " differs";
        }
        for (std::size_t i = 0; i < p.batches.size(); ++i) {
            const auto& a = e->batches()[i];
            const auto& b = p.batches[i];
            if (a.first_sequence() != b.first_seq || a.last_sequence != b.last_seq ||
                a.first_offset()() != b.first_offset || a.last_offset() != b.last_offset ||
                a.timestamp() != b.ts) {
                return "producer " + std::to_string(id) + " batch " + std::to_string(i);
            }
        }
    }
    return "";
}

// Returns "" iff `rebuilt` matches `full` modulo the de-duplication window: same producers
// and fields, and each producer's retained batches a non-empty suffix of the full ones.
std::string compare_modulo_window(const producer_state& rebuilt, const producer_state& full) {
    if (rebuilt.size() != full.size()) {
        return "size " + std::to_string(rebuilt.size()) + " vs " + std::to_string(full.size());
    }
    for (const auto* f : full.entries()) {
        const auto* r = rebuilt.find(f->id);
        if (r == nullptr || r->epoch != f->epoch || r->last_timestamp != f->last_timestamp ||
            r->coordinator_epoch != f->coordinator_epoch ||
            r->current_txn_first_offset != f->current_txn_first_offset) {
            return "producer " + std::to_string(f->id()) + " fields differ";
        }
        auto rb = r->batches();
        auto fb = f->batches();
        if (rb.size() > fb.size() || (rb.empty() != fb.empty())) {
            return "producer " + std::to_string(f->id()) + " window size";
        }
        if (!std::equal(rb.begin(), rb.end(), fb.end() - static_cast<std::ptrdiff_t>(rb.size()))) {
            return "producer " + std::to_string(f->id()) + " window is not a suffix";
        }
    }
    return "";
}

// ---------------------------------------------------------------------------------------
// The simulated clients and the run of one seed.

struct client {
    std::int64_t id = 0;
    std::int16_t epoch = 0;
    std::int64_t next_seq = 0;
    std::vector<model_batch> history;  // batches accepted in this epoch, oldest first
};

struct snapshot_point {
    std::int64_t end = 0;
    bytes data;
};

struct sim {
    std::mt19937_64 rng;
    producer_state live;      // checked, applied, expired
    producer_state baseline;  // every accepted batch applied, never expired
    model_state model;
    std::vector<client> clients;
    std::vector<producer_batch_info> log;  // accepted batches in offset order
    std::vector<snapshot_point> snapshots;
    std::int64_t next_offset = 0;
    std::int64_t now = 1'000'000;
    std::int64_t next_id = 100;
    std::string broken;
    int steps = 0;

    explicit sim(std::uint64_t seed) : rng(seed) {}

    std::int64_t pick(std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    }
    void fail(const std::string& what) {
        if (broken.empty()) {
            broken = what;
        }
    }

    producer_batch_info batch(const client& c, std::int16_t epoch, std::int64_t base, int records) {
        producer_batch_info b;
        b.producer = model::producer_id(c.id);
        b.epoch = epoch;
        b.base_sequence = static_cast<std::int32_t>(base);
        b.first_offset = model::offset(next_offset);
        b.last_offset = model::offset(next_offset + records - 1);
        b.max_timestamp = model::timestamp_ms(now + pick(-2000, 2000));
        return b;
    }

    void new_client() {
        client c;
        c.id = next_id++;
        c.epoch = static_cast<std::int16_t>(pick(0, 3));
        c.next_seq = pick(0, 3) == 0 ? seq_mod - pick(1, 8) : pick(0, 1000);
        clients.push_back(c);
    }

    // Sends `b`, compares the verdict with the model's, applies an accepted batch.
    verdict send(client& c, producer_batch_info b) {
        auto expected = model.check(b);
        auto got = live.check(b, append_origin::client);
        auto v = verdict_of(got);
        if (v != expected.v) {
            fail("verdict " + std::to_string(static_cast<int>(v)) + " vs model " +
                 std::to_string(static_cast<int>(expected.v)));
            return v;
        }
        if (v == verdict::duplicate && ((*got)->first_offset() != expected.original.first_offset ||
                                        (*got)->last_offset() != expected.original.last_offset ||
                                        (*got)->timestamp() != expected.original.ts)) {
            fail("duplicate answered with other offsets than the model's");
        }
        if (v != verdict::append) {
            return v;
        }
        bool known = model.producers.contains(c.id) && model.producers[c.id].epoch == b.epoch;
        if (!known) {
            c.history.clear();
        }
        live.apply(b);
        baseline.apply(b);
        model.apply(b);
        log.push_back(b);
        next_offset = b.last_offset() + 1;
        c.epoch = b.epoch;
        c.next_seq = (model_last_seq(b) + 1) % seq_mod;
        c.history.push_back(model.producers[c.id].batches.back());
        return v;
    }

    bool known_same_epoch(const client& c) {
        auto it = model.producers.find(c.id);
        return it != model.producers.end() && it->second.epoch == c.epoch;
    }

    void step();
    void compare_now();
    void check_rebuilds();
};

void sim::step() {
    if (clients.empty() || pick(0, 19) == 0) {
        new_client();
    }
    auto& c = clients[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(clients.size()) - 1))];
    now += pick(0, 3000);
    int records = static_cast<int>(pick(1, 5));
    auto op = pick(0, 99);
    if (op < 40) {  // in order: always accepted
        if (send(c, batch(c, c.epoch, c.next_seq, records)) != verdict::append) {
            fail("in-order batch refused");
        }
    } else if (op < 55 && !c.history.empty()) {  // retry within the window
        auto n = static_cast<std::int64_t>(c.history.size());
        auto m = c.history[static_cast<std::size_t>(pick(std::max<std::int64_t>(0, n - 5), n - 1))];
        bool known = known_same_epoch(c);
        producer_batch_info b = batch(c, c.epoch, m.first_seq,
                                      static_cast<int>(m.last_offset - m.first_offset + 1));
        auto dup = live.check(b, append_origin::client);
        if (known && (!dup || !*dup || (*dup)->first_offset() != m.first_offset ||
                      (*dup)->last_offset() != m.last_offset)) {
            fail("retry within the window not answered with its original offsets");
        }
        send(c, b);
    } else if (op < 63 && known_same_epoch(c)) {  // gap
        auto v = send(c, batch(c, c.epoch, (c.next_seq + pick(1, 50)) % seq_mod, records));
        if (v != verdict::out_of_order) {
            fail("gap not caught");
        }
    } else if (op < 70 && c.history.size() > 5 && known_same_epoch(c)) {  // retry too old
        auto m = c.history[static_cast<std::size_t>(
            pick(0, static_cast<std::int64_t>(c.history.size()) - 6))];
        auto v = send(c, batch(c, c.epoch, m.first_seq,
                               static_cast<int>(m.last_offset - m.first_offset + 1)));
        if (v != verdict::out_of_order) {
            fail("retry outside the window not refused");
        }
    } else if (op < 78) {  // epoch bump, from 0 or (wrongly) from elsewhere
        bool zero = pick(0, 2) != 0;
        bool known = model.producers.contains(c.id) && model.producers[c.id].epoch >= 0;
        auto v = send(c, batch(c, static_cast<std::int16_t>(c.epoch + 1), zero ? 0 : pick(1, 99),
                               records));
        if ((zero && v != verdict::append) || (!zero && known && v != verdict::out_of_order)) {
            fail("epoch bump misjudged");
        }
    } else if (op < 84 && c.epoch > 0 && model.producers.contains(c.id)) {  // stale epoch
        bool known = model.producers[c.id].epoch > c.epoch - 1;
        auto v = send(c, batch(c, static_cast<std::int16_t>(c.epoch - 1), c.next_seq, records));
        if (known && v != verdict::bad_epoch) {
            fail("stale epoch accepted");
        }
    } else if (op < 88) {  // inconsistent producer fields
        bool bad_seq = pick(0, 1) == 0;
        auto v = send(c, bad_seq ? batch(c, c.epoch, -pick(1, 5), records)
                                 : batch(c, static_cast<std::int16_t>(-pick(1, 3)), c.next_seq, records));
        if (v != (bad_seq ? verdict::bad_record : verdict::bad_epoch)) {
            fail("inconsistent producer fields accepted");
        }
    } else if (op < 94) {  // time passes, idle producers expire
        now += pick(0, 40'000);
        auto dropped = live.expire(model::timestamp_ms(now), expiration_ms);
        if (dropped != model.expire(now)) {
            fail("expiry differs from the model");
        }
    } else {  // a snapshot of the never-expired state, as at a segment roll
        snapshots.push_back({next_offset, encode_producer_snapshot(baseline)});
    }
    // Every few steps (and at the end): each step's verdict is compared anyway.
    if (++steps % 4 == 0) {
        compare_now();
    }
}

void sim::compare_now() {
    if (auto diff = compare_to_model(live, model); !diff.empty()) {
        fail("state vs model: " + diff);
    }
}

// Builds the state of the batches in [from, to) on top of the snapshot `from` (if any).
producer_state rebuild(const sim& s, const snapshot_point* from, std::int64_t to,
                       std::string& broken) {
    producer_state out;
    std::int64_t start = 0;
    if (from != nullptr) {
        start = from->end;
        auto r = decode_producer_snapshot(from->data, model::offset(from->end),
                                          [&out](const producer_entry& e) { out.load(e); });
        if (!r) {
            broken = "own snapshot refused: " + r.err().to_string();
        }
    }
    for (const auto& b : s.log) {
        if (b.first_offset() >= start && b.first_offset() < to) {
            out.apply(b);
        }
    }
    return out;
}

void sim::check_rebuilds() {
    // Snapshot + replay of everything after it equals the state built batch by batch
    // (three snapshots per seed keep the sanitizer build fast).
    std::vector<const snapshot_point*> picked;
    for (int i = 0; i < 3 && !snapshots.empty(); ++i) {
        picked.push_back(
            &snapshots[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(snapshots.size()) - 1))]);
    }
    for (const auto* point : picked) {
        const auto& snap = *point;
        auto rebuilt = rebuild(*this, &snap, next_offset, broken);
        if (auto diff = compare_modulo_window(rebuilt, baseline); !diff.empty()) {
            fail("snapshot at " + std::to_string(snap.end) + " + replay: " + diff);
        }
        // And it still answers a retry of every producer's last batch as a duplicate.
        for (const auto* e : baseline.entries()) {
            const auto* last = e->last_batch();
            producer_batch_info b;
            b.producer = e->id;
            b.epoch = e->epoch;
            b.base_sequence = last->first_sequence();
            b.first_offset = last->first_offset();
            b.last_offset = last->last_offset;
            // The original is the oldest retained batch with that range (the baseline,
            // never expired, may hold a re-send accepted while `live` had forgotten it).
            const auto* kept = rebuilt.find(e->id);
            auto original = std::find_if(
                kept->batches().begin(), kept->batches().end(), [last](const producer_batch& m) {
                    return m.first_sequence() == last->first_sequence() &&
                           m.last_sequence == last->last_sequence;
                });
            auto dup = rebuilt.check(b, append_origin::client);
            if (!dup || !*dup || (*dup)->first_offset != original->first_offset()) {
                fail("retry of the last batch not a duplicate after snapshot + replay");
            }
        }
    }
    // Truncation: newest snapshot <= target, replayed to the target, equals the prefix.
    for (int i = 0; i < 4 && !log.empty(); ++i) {
        auto cut = log[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(log.size()) - 1))];
        std::int64_t target = pick(0, 1) == 0 ? cut.first_offset() : next_offset;
        const snapshot_point* base = nullptr;
        for (const auto& snap : snapshots) {
            if (snap.end <= target) {
                base = &snap;
            }
        }
        auto rebuilt = rebuild(*this, base, target, broken);
        auto prefix = rebuild(*this, nullptr, target, broken);
        if (auto diff = compare_modulo_window(rebuilt, prefix); !diff.empty()) {
            fail("truncation to " + std::to_string(target) + ": " + diff);
        }
    }
}

std::pair<std::uint64_t, std::uint64_t> seed_range() {
    if (const char* one = std::getenv("GREGOR_SIM_SEED")) {
        return {std::strtoull(one, nullptr, 10), 1};
    }
    if (const char* n = std::getenv("GREGOR_SIM_SEEDS")) {
        return {0, std::strtoull(n, nullptr, 10)};
    }
    return {0, 200};
}

TEST(producer_state_sim, matches_kafka_rules_snapshots_and_truncation) {
    auto [first, count] = seed_range();
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        sim s(seed);
        for (int i = 0; i < 300 && s.broken.empty(); ++i) {
            s.step();
        }
        s.compare_now();
        if (s.broken.empty()) {
            s.check_rebuilds();
        }
        ASSERT_EQ(s.broken, "") << "seed " << seed << " (rerun: GREGOR_SIM_SEED=" << seed << ")";
    }
}

// ---------------------------------------------------------------------------------------
// Directed cases.

producer_batch_info info(std::int64_t id, std::int16_t epoch, std::int32_t seq, std::int64_t first,
                         int records, std::int64_t ts = 1000) {
    producer_batch_info b;
    b.producer = model::producer_id(id);
    b.epoch = epoch;
    b.base_sequence = seq;
    b.first_offset = model::offset(first);
    b.last_offset = model::offset(first + records - 1);
    b.max_timestamp = model::timestamp_ms(ts);
    return b;
}

TEST(producer_state, sequences_wrap_from_int32_max_to_zero) {
    constexpr auto max = std::numeric_limits<std::int32_t>::max();
    EXPECT_EQ(increment_sequence(max, 1), 0);
    EXPECT_EQ(increment_sequence(max - 2, 5), 2);
    EXPECT_EQ(decrement_sequence(2, 5), max - 2);
    producer_state s;
    auto first = info(1, 0, max - 1, 0, 4);  // sequences max-1, max, 0, 1
    EXPECT_EQ(first.last_sequence(), 1);
    ASSERT_TRUE(s.check(first, append_origin::client));
    s.apply(first);
    EXPECT_EQ(s.find(model::producer_id(1))->batches()[0].first_sequence(), max - 1);
    auto dup = s.check(info(1, 0, max - 1, 10, 4), append_origin::client);
    ASSERT_TRUE(dup && *dup);
    EXPECT_EQ((*dup)->first_offset, model::offset(0));
    EXPECT_TRUE(*s.check(info(1, 0, 2, 10, 1), append_origin::client) == std::nullopt);
    // A last batch ending exactly at INT32_MAX is followed by 0.
    producer_state t;
    t.apply(info(2, 0, max - 2, 0, 3));
    EXPECT_TRUE(t.check(info(2, 0, 0, 3, 1), append_origin::client));
    EXPECT_FALSE(t.check(info(2, 0, 1, 3, 1), append_origin::client));
}

TEST(producer_state, coordinator_origin_gets_only_the_epoch_check) {
    producer_state s;
    s.apply(info(1, 3, 0, 0, 1));
    EXPECT_TRUE(s.check(info(1, 3, 0, 1, 1), append_origin::coordinator));  // no dedup
    EXPECT_TRUE(s.check(info(1, 3, 77, 1, 1), append_origin::coordinator));  // no sequence
    auto stale = s.check(info(1, 2, 1, 1, 1), append_origin::coordinator);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.err().code, make_error_code(errc::invalid_producer_epoch));
}

TEST(producer_state, several_batches_of_one_append_chain_on_each_other) {
    producer_state s;
    s.apply(info(1, 0, 0, 0, 2));  // sequences 0..1
    producer_append_checker c(s, append_origin::client);
    EXPECT_TRUE(c.check(info(1, 0, 2, 2, 3)));  // 2..4
    EXPECT_TRUE(c.check(info(1, 0, 5, 5, 1)));  // follows the pending batch, not the state
    auto gap = c.check(info(1, 0, 7, 6, 1));
    ASSERT_FALSE(gap);
    EXPECT_EQ(gap.err().code, make_error_code(errc::out_of_order_sequence));
    EXPECT_EQ(s.find(model::producer_id(1))->last_sequence(), 1) << "checks never change state";
}

TEST(producer_state, epoch_change_clears_the_window_and_fifo_keeps_five) {
    producer_state s;
    for (int i = 0; i < 7; ++i) {
        s.apply(info(1, 0, i, i, 1));
    }
    const auto* e = s.find(model::producer_id(1));
    ASSERT_EQ(e->batches().size(), 5U);
    EXPECT_EQ(e->batches().front().last_sequence, 2);
    s.apply(info(1, 1, 0, 7, 1));
    EXPECT_EQ(e->batches().size(), 1U);
    // Replication may even lower the epoch; apply never refuses.
    s.apply(info(1, 0, 9, 8, 1));
    EXPECT_EQ(e->epoch, 0);
    EXPECT_EQ(e->batches().size(), 1U);
}

TEST(producer_state, bound_evicts_the_oldest_timestamp_and_spares_open_transactions) {
    producer_state s(3);
    producer_entry txn;
    txn.id = model::producer_id(50);
    txn.epoch = 1;
    txn.last_timestamp = model::timestamp_ms(1);  // oldest of all, but in a transaction
    txn.current_txn_first_offset = model::offset(0);
    s.load(txn);
    s.apply(info(1, 0, 0, 1, 1, 500));
    s.apply(info(2, 0, 0, 2, 1, 300));
    s.apply(info(3, 0, 0, 3, 1, 900));  // full: 2 (ts 300) goes, not 50
    EXPECT_EQ(s.size(), 3U);
    EXPECT_EQ(s.find(model::producer_id(2)), nullptr);
    EXPECT_NE(s.find(model::producer_id(50)), nullptr);
    EXPECT_EQ(s.evictions(), 1U);
    // The evicted producer is unknown again: any sequence is accepted.
    EXPECT_TRUE(s.check(info(2, 0, 1234, 4, 1), append_origin::client));
    // Expiry spares the open transaction too.
    EXPECT_EQ(s.expire(model::timestamp_ms(1'000'000'000), expiration_ms), 2U);
    EXPECT_NE(s.find(model::producer_id(50)), nullptr);
}

TEST(producer_state, eviction_matches_a_reference_under_random_load) {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        std::mt19937_64 rng(seed);
        producer_state s(8);
        std::map<std::int64_t, std::int64_t> ref;  // id -> last timestamp
        std::int64_t offset = 0;
        for (int i = 0; i < 400; ++i) {
            auto id = static_cast<std::int64_t>(rng() % 30);
            auto t = static_cast<std::int64_t>(rng() % 10'000);
            if (!ref.contains(id) && ref.size() == 8) {
                auto victim = std::min_element(ref.begin(), ref.end(), [](auto& a, auto& b) {
                    return std::pair(a.second, a.first) < std::pair(b.second, b.first);
                });
                ref.erase(victim);
            }
            ref[id] = t;
            s.apply(info(id, 0, static_cast<std::int32_t>(i), offset++, 1, t));
            ASSERT_EQ(s.size(), ref.size()) << "seed " << seed;
            for (const auto& [rid, rts] : ref) {
                const auto* e = s.find(model::producer_id(rid));
                ASSERT_NE(e, nullptr) << "seed " << seed << " producer " << rid;
                ASSERT_EQ(e->last_timestamp(), rts);
            }
        }
    }
}

}  // namespace
}  // namespace gregor::storage

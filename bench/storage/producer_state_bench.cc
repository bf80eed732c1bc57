// Producer state of 10,000 idempotent producers: encoding and loading the `.snapshot`
// (what a roll and a clean open cost), rebuilding it batch by batch (what a replay costs
// per batch), and whole log opens on the in-memory file system: clean (the snapshot at the
// log end, no replay) against one that must replay every batch (no snapshot left).
#include "storage/log.h"
#include "storage/memory_file_system.h"
#include "storage/names.h"
#include "storage/producer_snapshot.h"
#include "storage/tests/test_batches.h"

#include <benchmark/benchmark.h>

namespace gregor::storage::bench {
namespace {

constexpr int bench_producers = 10'000;

producer_batch_info bench_batch(int producer, int round) {
    producer_batch_info b;
    b.producer = model::producer_id(1000 + producer);
    b.epoch = 0;
    b.base_sequence = round * 5;
    b.first_offset = model::offset((static_cast<std::int64_t>(round) * bench_producers + producer) * 5);
    b.last_offset = b.first_offset + 4;
    b.max_timestamp = model::timestamp_ms(1'000'000 + round);
    return b;
}

producer_state bench_state(int rounds) {
    producer_state s;
    for (int r = 0; r < rounds; ++r) {
        for (int p = 0; p < bench_producers; ++p) {
            s.apply(bench_batch(p, r));
        }
    }
    return s;
}

void bm_producer_snapshot_encode(benchmark::State& state) {
    auto s = bench_state(1);
    for (auto _ : state) {
        auto data = encode_producer_snapshot(s);
        benchmark::DoNotOptimize(data.data());
    }
    state.SetItemsProcessed(state.iterations() * bench_producers);
}
BENCHMARK(bm_producer_snapshot_encode)->Unit(benchmark::kMillisecond);

void bm_producer_snapshot_load(benchmark::State& state) {
    auto data = encode_producer_snapshot(bench_state(1));
    for (auto _ : state) {
        producer_state s;
        auto n = decode_producer_snapshot(data, model::offset(INT64_MAX),
                                          [&s](const producer_entry& e) { s.load(e); });
        benchmark::DoNotOptimize(n);
    }
    state.SetItemsProcessed(state.iterations() * bench_producers);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(bm_producer_snapshot_load)->Unit(benchmark::kMillisecond);

// Five batches per producer applied one by one: the replay path.
void bm_producer_state_rebuild(benchmark::State& state) {
    for (auto _ : state) {
        auto s = bench_state(5);
        benchmark::DoNotOptimize(s.size());
    }
    state.SetItemsProcessed(state.iterations() * bench_producers * 5);
}
BENCHMARK(bm_producer_state_rebuild)->Unit(benchmark::kMillisecond);

// A closed log holding one small batch per producer, in 1 MiB segments.
struct closed_log {
    test::memory_env env;
    log_config cfg;
    model::offset end;

    closed_log() {
        cfg.segment_bytes = 1 << 20;
        cfg.segment_index_bytes = 64 * 1024;
        auto l = log::open(env.ctx(), "/b/p-0", {"p", model::partition_id(0)}, cfg, {},
                           model::timestamp_ms(1'000'000));
        GREGOR_ASSERT(l.has_value(), "open");
        for (int p = 0; p < bench_producers; ++p) {
            auto b = test::make_batch({.records = 1,
                                       .value_bytes = 20,
                                       .timestamp = 1'000'000,
                                       .producer_id = 1000 + p,
                                       .producer_epoch = 0,
                                       .base_sequence = 0});
            auto r = (*l)->append_as_leader(b, model::leader_epoch(0), model::timestamp_ms(1'000'000));
            GREGOR_ASSERT(r.has_value(), "append");
        }
        end = (*l)->log_end_offset();
        GREGOR_ASSERT((*l)->close().has_value(), "close");
        env.drain();
    }
    std::unique_ptr<log> open(bool clean) {
        log_open_state st{clean ? end : model::offset(0), model::offset(0), clean};
        auto l = log::open(env.ctx(), "/b/p-0", {"p", model::partition_id(0)}, cfg, st,
                           model::timestamp_ms(1'000'000));
        GREGOR_ASSERT(l.has_value(), "reopen");
        return std::move(*l);
    }
    // Closed again, so the next open finds trimmed indexes (not a crash to repair).
    void close(log& l) {
        GREGOR_ASSERT(l.close().has_value(), "close");
        env.drain();
    }
    void remove_snapshots() {
        auto names = env.fs.list_dir("/b/p-0");
        GREGOR_ASSERT(names.has_value(), "list");
        for (const auto& name : *names) {
            if (parse_snapshot_file_name(name)) {
                GREGOR_ASSERT(env.fs.remove("/b/p-0/" + name).has_value(), "remove");
            }
        }
    }
};

void bm_log_open_from_snapshot(benchmark::State& state) {
    closed_log c;
    for (auto _ : state) {
        auto l = c.open(true);
        benchmark::DoNotOptimize(l->producers().size());
        state.PauseTiming();
        c.close(*l);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * bench_producers);
}
BENCHMARK(bm_log_open_from_snapshot)->Unit(benchmark::kMillisecond);

void bm_log_open_replaying_everything(benchmark::State& state) {
    closed_log c;
    for (auto _ : state) {
        state.PauseTiming();
        c.remove_snapshots();
        state.ResumeTiming();
        // Unclean: a clean open without any snapshot skips the replay (Kafka's upgrade path),
        // so only a crash makes the log rebuild its producers from every batch.
        auto l = c.open(false);
        benchmark::DoNotOptimize(l->producers().size());
        state.PauseTiming();
        c.close(*l);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * bench_producers);
}
BENCHMARK(bm_log_open_replaying_everything)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gregor::storage::bench

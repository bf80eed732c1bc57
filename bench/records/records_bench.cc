// Record batch benchmarks. Every figure is meant to be read beside the baselines of the same
// run: memcpy and a plain read (sum) of the same number of bytes, i.e. what this machine's
// memory system allows one core.
//
//   baseline/memcpy, baseline/read_sum      1 MiB
//   crc32c/{dispatch,portable}             1 MiB       target >= 4 GB/s (dispatch)
//   validate/{one_batch,16k_batches}       ~1 MiB set of 10,000 x ~100-byte records,
//                                          header + CRC checks, no record parse; >= 2 GB/s
//   iterate/none                           record parse of the same set
//   decompress_iterate/<codec>             open (decompress) + read every record, one batch
//   decompress_iterate_16k/<codec>         the same with the Java client's 16 KiB batches
//   compress/<codec>                       build the batch with that codec
// Bytes/s are always of the uncompressed record set, so the rows compare directly.
#include "base/crc32c.h"
#include "model/record_batch.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_records.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace gregor;
using model::compression_type;

constexpr std::size_t one_mib = 1 << 20;
constexpr int record_total = 10'000;
constexpr std::size_t max_batch = 64 << 20;

void set_bytes(benchmark::State& state, std::size_t per_iteration) {
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(per_iteration));
}

bytes random_bytes(std::size_t n) {
    std::mt19937_64 rng(42);
    bytes out(n);
    for (auto& b : out) {
        b = static_cast<std::uint8_t>(rng());
    }
    return out;
}

// Producer-like records: a short key and a ~90-byte JSON-ish value (compressible like real
// event data, not like zeros).
struct record_corpus {
    std::vector<std::string> keys;
    std::vector<std::string> values;
};

const record_corpus& corpus() {
    static const record_corpus c = [] {
        record_corpus out;
        std::mt19937 rng(7);
        const char* events[] = {"click", "view", "purchase", "scroll", "login"};
        for (int i = 0; i < record_total; ++i) {
            out.keys.push_back("user-" + std::to_string(rng() % 5000));
            std::string v = "{\"id\":" + std::to_string(i) + ",\"event\":\"" + events[rng() % 5] +
                            "\",\"amount\":" + std::to_string(rng() % 100000) + ",\"session\":\"" +
                            std::to_string(rng()) + "\",\"ok\":true}";
            v.resize(90, ' ');
            out.values.push_back(std::move(v));
        }
        return out;
    }();
    return c;
}

bytes_view as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}

// The 10,000 records as a record set: batches cut at `batch_bytes` of records (librdkafka
// puts up to 10,000 records / 1 MB in one batch; the Java client cuts at 16 KiB).
bytes record_set(compression_type codec, std::size_t batch_bytes) {
    const record_corpus& c = corpus();
    bytes out;
    protocol::batch_options opts;
    opts.compression = codec;
    protocol::batch_builder builder(opts);
    auto flush = [&] {
        bytes b = builder.build().value();
        out.insert(out.end(), b.begin(), b.end());
        opts.base_offset = opts.base_offset + builder.record_count();
        builder = protocol::batch_builder(opts);
    };
    for (int i = 0; i < record_total; ++i) {
        const auto idx = static_cast<std::size_t>(i);
        builder.add({as_bytes(c.keys[idx]),
                     as_bytes(c.values[idx]),
                     {},
                     model::timestamp_ms{1'700'000'000'000 + i}});
        if (builder.records_bytes() >= batch_bytes) {
            flush();
        }
    }
    if (builder.record_count() > 0) {
        flush();
    }
    return out;
}

void baseline_memcpy(benchmark::State& state) {
    const bytes src = random_bytes(one_mib);
    bytes dst(one_mib);
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), src.size());
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, one_mib);
}
BENCHMARK(baseline_memcpy)->Name("baseline/memcpy_1MiB");

void baseline_read_sum(benchmark::State& state) {
    const bytes src = random_bytes(one_mib);
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < src.size(); i += 8) {
            std::uint64_t w;
            std::memcpy(&w, src.data() + i, 8);
            sum += w;
        }
        benchmark::DoNotOptimize(sum);
    }
    set_bytes(state, one_mib);
}
BENCHMARK(baseline_read_sum)->Name("baseline/read_sum_1MiB");

void crc_dispatch(benchmark::State& state) {
    const bytes src = random_bytes(one_mib);
    for (auto _ : state) {
        benchmark::DoNotOptimize(crc32c(src));
    }
    set_bytes(state, one_mib);
    state.SetLabel(detail::crc32c_hardware_available() ? "sse4.2" : "portable");
}
BENCHMARK(crc_dispatch)->Name("crc32c/dispatch_1MiB");

void crc_portable(benchmark::State& state) {
    const bytes src = random_bytes(one_mib);
    for (auto _ : state) {
        benchmark::DoNotOptimize(detail::crc32c_portable(src, 0));
    }
    set_bytes(state, one_mib);
}
BENCHMARK(crc_portable)->Name("crc32c/portable_1MiB");

void validate_set(benchmark::State& state) {
    const bytes set = record_set(compression_type::none, static_cast<std::size_t>(state.range(0)));
    std::int64_t batches = 0;
    for (auto _ : state) {
        model::batch_reader reader(set, max_batch, model::count_rule::exact);
        batches = 0;
        while (auto e = reader.next()) {
            if (!e->has_value()) {
                break;
            }
            ++batches;
        }
        if (reader.position() != set.size()) {
            state.SkipWithError("record set failed validation");
        }
    }
    set_bytes(state, set.size());
    state.counters["batches"] = static_cast<double>(batches);
    state.counters["set_bytes"] = static_cast<double>(set.size());
}
BENCHMARK(validate_set)->Name("validate/one_batch")->Arg(64 << 20);
BENCHMARK(validate_set)->Name("validate/16k_batches")->Arg(16 << 10);

// Opens every batch (decompressing), reads every record, touches keys and values.
std::size_t read_all(bytes_view set) {
    std::size_t touched = 0;
    model::batch_reader reader(set, max_batch, model::count_rule::exact);
    while (auto e = reader.next(false)) {
        if (!e->has_value()) {
            break;
        }
        auto batch = protocol::batch_records::open((*e)->header, (*e)->bytes, 64 << 20).value();
        protocol::record_reader records = batch.records();
        while (auto r = records.next()) {
            if (!r->has_value()) {
                break;
            }
            touched += (*r)->key->size() + (*r)->value->size();
        }
    }
    return touched;
}

void decompress_iterate(benchmark::State& state) {
    const auto codec = static_cast<compression_type>(state.range(0));
    const auto batch_bytes = static_cast<std::size_t>(state.range(1));
    const bytes plain = record_set(compression_type::none, batch_bytes);
    const bytes set = record_set(codec, batch_bytes);
    for (auto _ : state) {
        benchmark::DoNotOptimize(read_all(set));
    }
    set_bytes(state, plain.size());
    state.counters["ratio"] = static_cast<double>(plain.size()) / static_cast<double>(set.size());
}
BENCHMARK(decompress_iterate)->Name("decompress_iterate/none")->Args({0, 64 << 20});
BENCHMARK(decompress_iterate)->Name("decompress_iterate/gzip")->Args({1, 64 << 20});
BENCHMARK(decompress_iterate)->Name("decompress_iterate/snappy")->Args({2, 64 << 20});
BENCHMARK(decompress_iterate)->Name("decompress_iterate/lz4")->Args({3, 64 << 20});
BENCHMARK(decompress_iterate)->Name("decompress_iterate/zstd")->Args({4, 64 << 20});
BENCHMARK(decompress_iterate)->Name("decompress_iterate_16k/gzip")->Args({1, 16 << 10});
BENCHMARK(decompress_iterate)->Name("decompress_iterate_16k/snappy")->Args({2, 16 << 10});
BENCHMARK(decompress_iterate)->Name("decompress_iterate_16k/lz4")->Args({3, 16 << 10});
BENCHMARK(decompress_iterate)->Name("decompress_iterate_16k/zstd")->Args({4, 16 << 10});

void compress_set(benchmark::State& state) {
    const auto codec = static_cast<compression_type>(state.range(0));
    const bytes plain = record_set(compression_type::none, 64 << 20);
    for (auto _ : state) {
        benchmark::DoNotOptimize(record_set(codec, 64 << 20));
    }
    set_bytes(state, plain.size());
}
BENCHMARK(compress_set)->Name("build/none")->Arg(0);
BENCHMARK(compress_set)->Name("build/gzip")->Arg(1);
BENCHMARK(compress_set)->Name("build/snappy")->Arg(2);
BENCHMARK(compress_set)->Name("build/lz4")->Arg(3);
BENCHMARK(compress_set)->Name("build/zstd")->Arg(4);

}  // namespace

BENCHMARK_MAIN();

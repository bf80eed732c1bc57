// Protocol codec benchmarks: encoding a Metadata response for 10,000 partitions (100 topics x
// 100 partitions, 3 replicas, 3 brokers) in the latest version and in v4 (librdkafka's), and
// decoding a Produce request v7/v9 that carries a 1 MiB record set. The memcpy baselines
// copy the same number of bytes on the same machine in the same run, for comparison.
// Target: a 10,000-partition Metadata response encodes in under 5 ms.
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"

#include <benchmark/benchmark.h>

#include <cstring>

namespace {

using namespace gregor;
using namespace gregor::protocol;

constexpr int topics = 100;
constexpr int partitions_per_topic = 100;
constexpr std::size_t record_set_bytes = 1024 * 1024;

metadata_response big_metadata() {
    metadata_response m;
    for (int b = 0; b < 3; ++b) {
        m.brokers.push_back({model::node_id{b}, fmt::format("broker-{}.example", b), 9092,
                             std::string("rack-a"), {}});
    }
    m.cluster_id = "gregor-cluster";
    m.controller_id = model::node_id{0};
    for (int t = 0; t < topics; ++t) {
        auto& topic = m.topics.emplace_back();
        topic.name = fmt::format("topic-{:03}", t);
        topic.topic_id.bytes[0] = static_cast<std::uint8_t>(t);
        for (int p = 0; p < partitions_per_topic; ++p) {
            auto& part = topic.partitions.emplace_back();
            part.partition_index = model::partition_id{p};
            part.leader_id = model::node_id{p % 3};
            part.leader_epoch = model::leader_epoch{7};
            for (int r = 0; r < 3; ++r) {
                part.replica_nodes.push_back(model::node_id{(p + r) % 3});
            }
            part.isr_nodes = part.replica_nodes;
        }
    }
    return m;
}

void encode_metadata(benchmark::State& state) {
    auto version = static_cast<std::int16_t>(state.range(0));
    metadata_response m = big_metadata();
    std::size_t bytes_out = 0;
    for (auto _ : state) {
        writer w(512 * 1024);
        m.encode(w, version);
        bytes_out = w.size_bytes();
        benchmark::DoNotOptimize(w);
    }
    state.counters["wire_bytes"] = static_cast<double>(bytes_out);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes_out));
}
BENCHMARK(encode_metadata)->Arg(4)->Arg(metadata_response::version_max)
    ->Unit(benchmark::kMicrosecond);

bytes produce_body(std::int16_t version, const bytes& records) {
    produce_request req;
    req.acks = -1;
    req.timeout_ms = 30000;
    auto& topic = req.topic_data.emplace_back();
    topic.name = "bench";
    auto& part = topic.partition_data.emplace_back();
    part.index = model::partition_id{0};
    part.records = records_ref(records);
    writer w;
    req.encode(w, version);
    return std::move(w).finish().flatten();
}

void decode_produce(benchmark::State& state) {
    auto version = static_cast<std::int16_t>(state.range(0));
    bytes records(record_set_bytes, 0x5a);
    bytes body = produce_body(version, records);
    for (auto _ : state) {
        reader r(body);
        auto req = produce_request::decode(r, version);
        benchmark::DoNotOptimize(req);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(decode_produce)->Arg(7)->Arg(9)->Unit(benchmark::kMicrosecond);

// Baseline: copying `bytes` once (the floor for producing that many bytes of output).
void memcpy_baseline(benchmark::State& state) {
    auto n = static_cast<std::size_t>(state.range(0));
    bytes src(n, 1);
    bytes dst(n);
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), n);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(memcpy_baseline)->Arg(424 * 1024)->Arg(1024 * 1024)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

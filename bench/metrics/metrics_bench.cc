// What the metrics cost the request path and a scrape (issue: metrics within 2% of produce
// throughput; a scrape of a broker with 10,000 partitions under 50 ms).
//   bm_request_record: one request's dispatch-side cost (a counter and a quantile summary).
//   bm_topic_produced: one produced partition's counters (messages and bytes in, all-topics
//     and per-topic), looked up by topic name among `topics`.
//   bm_scrape: render a registry holding the broker's families plus per-topic series for
//     `topics` topics (the gauges' own per-partition walk is measured end to end with curl;
//     see bench/README.md).
#include "metrics/registry.h"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace gregor::metrics {
namespace {

void bm_request_record(benchmark::State& state) {
    registry r;
    request_metrics m(r);
    double ms = 0.5;
    for (auto _ : state) {
        m.record(0, "Produce", 9, ms);
        ms = ms < 50 ? ms * 1.1 : 0.5;
    }
}
BENCHMARK(bm_request_record);

void bm_topic_produced(benchmark::State& state) {
    registry r;
    topic_metrics t(r);
    std::vector<std::string> topics;
    for (int i = 0; i < state.range(0); ++i) {
        topics.push_back("topic-" + std::to_string(i));
        t.produced(topics.back(), 1, 1);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        t.produced(topics[i], 100, 10'000);
        i = i + 1 == topics.size() ? 0 : i + 1;
    }
}
BENCHMARK(bm_topic_produced)->Arg(1)->Arg(1000);

void bm_scrape(benchmark::State& state) {
    registry r;
    request_metrics m(r);
    topic_metrics t(r);
    for (int api = 0; api < 30; ++api) {
        m.record(static_cast<std::int16_t>(api), "Api" + std::to_string(api), 1, 1.0);
    }
    for (int i = 0; i < state.range(0); ++i) {
        t.produced("topic-" + std::to_string(i), 1, 1);
    }
    std::size_t bytes = 0;
    for (auto _ : state) {
        bytes = r.scrape().size();
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(bm_scrape)->Arg(10)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gregor::metrics

BENCHMARK_MAIN();

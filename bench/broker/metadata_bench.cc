// broker_bench: what one broker's request handlers cost at a large partition count.
//   bm_metadata_all_topics/P: one Metadata request for every topic (v12, as the Java admin
//   client's listTopics and a pattern-subscribing consumer send it) against a metadata cache
//   of P partitions in topics of 20,000, RF 3 over three brokers: the handler and the encoding
//   of the reply, on the broker's loop (which serves nothing else meanwhile). Counter: the
//   reply's bytes.
// Run: build/release/bench/broker/broker_bench [--benchmark_filter=metadata]
#include "broker/dispatch.h"
#include "broker/tests/broker_parts.h"
#include "protocol/messages/metadata.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

namespace {

using namespace gregor;
using namespace gregor::broker;

constexpr std::int32_t partitions_per_topic = 20'000;
constexpr int brokers = 3;

struct metadata_broker : test::broker_parts {
    services svc{config,
                 ioc,
                 cache,
                 rm,
                 nullptr,
                 nullptr,
                 nullptr,
                 nullptr,
                 "cluster-x",
                 model::broker_epoch(50),
                 [] { return model::timestamp_ms(1000); }};

    explicit metadata_broker(std::int64_t partitions) {
        config.broker_id = model::node_id(1);
        std::vector<cached_broker> live;
        for (int b = 1; b <= brokers; ++b) {
            live.push_back(
                {model::node_id(b), {{"PLAINTEXT", "127.0.0.1", 9090 + b, 0}}, std::nullopt});
        }
        cache.set_brokers(std::move(live));
        for (std::int64_t i = 0; i < partitions; ++i) {
            const auto topic = fmt::format("topic-{}", i / partitions_per_topic);
            const auto p = static_cast<std::int32_t>(i % partitions_per_topic);
            cached_partition c;
            c.leader = model::node_id(p % brokers + 1);
            c.leader_epoch = model::leader_epoch(0);
            c.controller_epoch = model::controller_epoch(1);
            for (int r = 0; r < brokers; ++r) {
                c.replicas.push_back(model::node_id((p + r) % brokers + 1));
            }
            c.isr = c.replicas;
            cache.update_partition(topic, model::partition_id(p), std::move(c));
        }
    }
};

void bm_metadata_all_topics(benchmark::State& state) {
    metadata_broker b(state.range(0));
    protocol::metadata_request req;
    req.topics = std::nullopt;  // every topic
    constexpr std::int16_t version = 12;
    std::size_t reply_bytes = 0;
    std::int32_t correlation = 0;
    for (auto _ : state) {
        auto reply = test::dispatch_until_answered(
            b.ioc, b.svc, test::request_of<protocol::metadata_api>(req, version, ++correlation));
        if (!reply || reply->what() != net::reply::kind::send) {
            state.SkipWithError("no reply");
            break;
        }
        reply_bytes = reply->body().size_bytes();
        benchmark::DoNotOptimize(reply);
    }
    state.counters["reply_bytes"] = static_cast<double>(reply_bytes);
    state.counters["partitions"] = static_cast<double>(state.range(0));
}
BENCHMARK(bm_metadata_all_topics)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

// Controller failover and controlled shutdown at Kafka 1.1's published scale, on the
// in-memory ZooKeeper (sim_cluster: the real controller code, the in-memory coordinator, a
// broker model applying every request). Figures reported (wall time, one iteration each):
//   failover/100000   kill -9 of the controller -> another broker elected, every partition
//                     state loaded, leaders elected for what the dead broker led, every
//                     live broker's metadata updated. Kafka 1.1: 14 s to reload 100k states.
//   shutdown/10000    controlled shutdown of a broker leading 10,000 partitions -> reply
//                     and every request applied. Kafka 1.1: 3 s.
// Run: build/release/bench/controller/controller_bench
#include "base/log.h"
#include "controller/tests/sim_cluster.h"

#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>

namespace gregor::controller::sim {
namespace {

using model::node_id;
using model::partition_id;

// Creates `partitions` partitions (RF 3) in topics of 1000, leaders spread evenly.
void populate(sim_cluster& c, int partitions) {
    constexpr int per_topic = 1000;
    for (int t = 0; t * per_topic < partitions; ++t) {
        coord::replica_map a;
        for (int p = 0; p < per_topic && t * per_topic + p < partitions; ++p) {
            int first = (t * per_topic + p) % 3;
            a[partition_id(p)] = {node_id(first + 1), node_id((first + 1) % 3 + 1),
                                  node_id((first + 2) % 3 + 1)};
        }
        c.create_topic_znode("topic-" + std::to_string(t), a);
        c.run();
    }
}

// Every partition is led by a live broker in the controller's view and in every live
// broker's metadata.
bool all_led(sim_cluster& c, node_id ctl, node_id dead, int partitions) {
    const controller_context& ctx = c.node(ctl()).ctl->context();
    if (ctx.partition_count() != static_cast<std::size_t>(partitions)) {
        return false;
    }
    for (const auto& [name, t] : ctx.topics) {
        for (const auto& [p, r] : t.partitions) {
            if (r.state.leader == dead || r.state.leader == model::no_node) {
                return false;
            }
        }
    }
    for (auto& n : c.nodes) {
        if (!n->alive) {
            continue;
        }
        for (const auto& [tp, bp] : n->model.metadata) {
            if (bp.leader == dead) {
                return false;
            }
        }
    }
    return true;
}

// GREGOR_LOG_LEVEL=info shows the controller's own failover timing line.
void quiet_logs() {
    const char* level = std::getenv("GREGOR_LOG_LEVEL");
    log_set_level(level != nullptr ? level : "error");
}

// Tearing a cluster down elects the survivors in turn; their failover lines are noise.
void quiet_logs_during_teardown() { log_set_level("error"); }

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point start) {
    return std::chrono::duration<double>(clock::now() - start).count();
}

// Each iteration times only the work between the fault and quiet: building the cluster
// and tearing it down (which makes another broker controller of a full cluster) are not
// counted, hence manual timing.
void failover(benchmark::State& state) {
    quiet_logs();
    int partitions = static_cast<int>(state.range(0));
    for (auto _ : state) {
        auto c = std::make_unique<sim_cluster>(3);
        c->run();
        populate(*c, partitions);
        int ctl = c->active_controllers().at(0)();
        auto start = clock::now();
        c->kill(ctl);
        c->run();
        state.SetIterationTime(seconds_since(start));
        auto active = c->active_controllers();
        if (active.size() != 1 || !all_led(*c, active[0], node_id(ctl), partitions)) {
            state.SkipWithError("failover did not converge");
        }
        quiet_logs_during_teardown();
        c.reset();
        quiet_logs();
    }
    state.counters["partitions"] = partitions;
}

void controlled_shutdown(benchmark::State& state) {
    quiet_logs();
    int led = static_cast<int>(state.range(0));
    for (auto _ : state) {
        auto c = std::make_unique<sim_cluster>(3);
        c->run();
        populate(*c, led * 3);
        node_id ctl = c->active_controllers().at(0);
        node_id victim = node_id(ctl() % 3 + 1);
        protocol::controlled_shutdown_request req;
        req.broker_id = victim;
        std::size_t remaining = 1;
        auto start = clock::now();
        boost::asio::co_spawn(
            c->ioc,
            [&]() -> boost::asio::awaitable<void> {
                auto r = co_await c->node(ctl()).ctl->controlled_shutdown(req);
                remaining = r.remaining_partitions.size();
            },
            boost::asio::detached);
        c->run();
        state.SetIterationTime(seconds_since(start));
        if (remaining != 0) {
            state.SkipWithError("leaders left on the stopping broker");
        }
        quiet_logs_during_teardown();
        c.reset();
        quiet_logs();
    }
    state.counters["led_partitions"] = led;
}

BENCHMARK(failover)->Arg(100'000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(controlled_shutdown)
    ->Arg(10'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

}  // namespace
}  // namespace gregor::controller::sim

BENCHMARK_MAIN();

// Goal: the whole cluster stays safe under faults: the real controller, registration,
// replica_manager and replication::partition, together on one in-memory ZooKeeper, never
// lose or rewrite a committed record (so no acknowledged acks=all write), never have two
// controllers in one epoch, and converge once the faults stop (every replica back in the ISR
// with an identical log).
// Method: seeded runs of sim::cluster (see sim/cluster.h for the faults and checks). By
// default seeds 0, 1, 2, ... run for GREGOR_CLUSTER_SECONDS of wall time (30); or exactly
// GREGOR_CLUSTER_SEEDS of them. GREGOR_CLUSTER_FIRST and GREGOR_CLUSTER_STRIDE pick the
// seeds first, first + stride, ... (scripts/test.sh runs one process per core on
// interleaved seeds in a release build, where a seed takes a few milliseconds). A failure
// names its seed; GREGOR_CLUSTER_SEED=N runs only that one (with GREGOR_CLUSTER_TRACE=1 it
// prints what happened, event by event).
#include "base/log.h"
#include "sim/cluster.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace gregor::sim {
namespace {

constexpr std::int64_t fault_ms = 1000;  // virtual time with faults, per seed

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string describe(const sim_stats& t) {
    return fmt::format(
        "acked={} failed={} controller_elections={} leader_changes={} isr_commits={} "
        "truncations={} crashes={} early_restarts={} controlled_shutdowns={} expiries={} "
        "zk_cuts={} isolations={} gone_reports={} false_gone_reports={} events={} "
        "slowest_heal_ms={}",
        t.acked, t.produce_failed, t.controller_elections, t.leader_changes, t.isr_commits,
        t.truncations, t.crashes, t.early_restarts, t.controlled_shutdowns, t.expiries, t.zk_cuts,
        t.isolations, t.gone_reports, t.false_gone_reports, t.events, t.heal_ms);
}

TEST(cluster_sim, committed_records_survive_faults_and_the_cluster_converges) {
    log_set_level("critical");  // thousands of elections, ISR changes and truncations
    std::uint64_t first = env_or("GREGOR_CLUSTER_FIRST", 0);
    std::uint64_t count = env_or("GREGOR_CLUSTER_SEEDS", UINT64_MAX);
    const bool one = std::getenv("GREGOR_CLUSTER_SEED") != nullptr;
    if (one) {
        first = env_or("GREGOR_CLUSTER_SEED", 0);
        count = 1;
    }
    const std::uint64_t stride = std::max<std::uint64_t>(env_or("GREGOR_CLUSTER_STRIDE", 1), 1);
    const auto budget = std::chrono::seconds(env_or("GREGOR_CLUSTER_SECONDS", 30));
    const auto started = std::chrono::steady_clock::now();
    sim_stats total;
    std::uint64_t ran = 0;
    std::uint64_t last = first;
    for (std::uint64_t seed = first; ran < count; seed += stride, ++ran) {
        if (count == UINT64_MAX && std::chrono::steady_clock::now() - started > budget) {
            break;
        }
        last = seed;
        cluster c(seed, one && std::getenv("GREGOR_CLUSTER_TRACE") != nullptr);
        std::string broken = c.run(fault_ms);
        ASSERT_EQ(broken, "") << "seed " << seed
                              << " (replay, in any build: GREGOR_CLUSTER_SEED=" << seed
                              << " GREGOR_CLUSTER_TRACE=1 cluster_sim_test)";
        const auto& s = c.stats();
        total.acked += s.acked;
        total.produce_failed += s.produce_failed;
        total.controller_elections += s.controller_elections;
        total.leader_changes += s.leader_changes;
        total.isr_commits += s.isr_commits;
        total.truncations += s.truncations;
        total.crashes += s.crashes;
        total.expiries += s.expiries;
        total.zk_cuts += s.zk_cuts;
        total.early_restarts += s.early_restarts;
        total.controlled_shutdowns += s.controlled_shutdowns;
        total.isolations += s.isolations;
        total.gone_reports += s.gone_reports;
        total.false_gone_reports += s.false_gone_reports;
        total.events += s.events;
        total.heal_ms = std::max(total.heal_ms, s.heal_ms);
    }
    std::printf("seeds=%llu (%llu..%llu step %llu) %s\n", static_cast<unsigned long long>(ran),
                static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
                static_cast<unsigned long long>(stride), describe(total).c_str());
    if (ran < 50) {
        return;  // a seed alone (a replay) need not have every fault
    }
    // The workload must exercise what it claims to, or the checks prove nothing.
    EXPECT_GT(total.acked, 0);
    EXPECT_GT(total.controller_elections, static_cast<std::int64_t>(ran));
    EXPECT_GT(total.isr_commits, 0);
    EXPECT_GT(total.crashes, 0);
    EXPECT_GT(total.early_restarts, 0);
    EXPECT_GT(total.controlled_shutdowns, 0);
    EXPECT_GT(total.isolations, 0);
    EXPECT_GT(total.gone_reports, 0);
    EXPECT_GT(total.false_gone_reports, 0);
}

}  // namespace
}  // namespace gregor::sim

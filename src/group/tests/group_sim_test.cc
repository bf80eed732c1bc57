// Goal: the group state machine keeps its invariants under random schedules: several
// members joining, rejoining, leaving and going silent; session, join and sync deadlines;
// duplicated and reordered requests; appends that fail, complete late or land after an
// unload; the offsets partition unloaded and loaded back from the records written.
// Invariants after every step: the coordinator's own (membership maps, a deadline for every
// waiting state, nothing due left unfired, members <= group.max.size); each generation's
// assignment comes only from that generation's leader; no commit from another generation is
// accepted; every request is answered exactly once (checked at the end, after draining).
// Method: group_sim (group_sim.h). GREGOR_GROUP_SEEDS=N runs N seeds (default 200);
// GREGOR_GROUP_SEED=s reruns seed s, which is how a printed failure reproduces.
#include "base/log.h"
#include "group/tests/group_sim.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace gregor::group::test {
namespace {

TEST(group_sim_test, random_schedules_keep_the_invariants) {
    log_set_level("off");
    std::uint64_t first = 1;
    std::uint64_t count = 200;
    if (const char* one = std::getenv("GREGOR_GROUP_SEED")) {
        first = std::strtoull(one, nullptr, 10);
        count = 1;
    } else if (const char* n = std::getenv("GREGOR_GROUP_SEEDS")) {
        count = std::strtoull(n, nullptr, 10);
    }
    sim_stats total;
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        group_sim sim(seed);
        auto broken = sim.run(300);
        ASSERT_EQ(broken, "") << "seed " << seed << " (rerun: GREGOR_GROUP_SEED=" << seed << ")";
        const auto& s = sim.stats();
        total.joins += s.joins;
        total.stable_syncs += s.stable_syncs;
        total.commits_accepted += s.commits_accepted;
        total.reloads += s.reloads;
        total.failed_appends += s.failed_appends;
        total.expiries += s.expiries;
    }
    std::printf("seeds=%llu joins=%lld syncs=%lld commits=%lld reloads=%lld failed_appends=%lld "
                "fenced_or_unknown=%lld\n",
                static_cast<unsigned long long>(count), static_cast<long long>(total.joins),
                static_cast<long long>(total.stable_syncs),
                static_cast<long long>(total.commits_accepted),
                static_cast<long long>(total.reloads),
                static_cast<long long>(total.failed_appends),
                static_cast<long long>(total.expiries));
    log_set_level("warn");
}

}  // namespace
}  // namespace gregor::group::test

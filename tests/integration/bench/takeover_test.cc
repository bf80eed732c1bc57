// Goal: `gregor bench group --takeover` kills the group's coordinator of a real three-broker
// cluster and sees a survivor take over: every committed offset is fetched from another
// broker, and the new coordinator's own load lines are found in its broker.log.
// Method: `gregor cluster up` (3 brokers, replication factor 3) as a child process in a temp
// directory, then the bench with small counts (20 partitions x 100 commits); nothing is
// timed beyond the bench's own --timeout.
#include "cluster/state.h"
#include "integration/cluster/cluster_process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr auto start_limit = 180s;

TEST(bench_group_takeover, a_survivor_serves_every_offset_after_the_coordinator_is_killed) {
    char tmpl[] = "/tmp/gregor-bench-takeover-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::filesystem::path root = tmpl;
    const std::filesystem::path dir = root / "cluster";
    auto up = std::make_unique<up_process>(
        dir, std::vector<std::string>{"--brokers", "3", "--base-port", "0"});
    ASSERT_TRUE(up->wait_output("\nready\n", start_limit)) << up->output();
    auto state = cluster::read_state(dir);
    ASSERT_TRUE(state);
    auto r = run_command(fmt::format(
        "{} bench group -b {} -t takeover --takeover --cluster-dir {} --partitions 20 "
        "--commits 2000 --format json --timeout 60",
        GREGOR_BINARY, state->bootstrap_servers(), dir.string()));
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_EQ(r.status, 0) << r.out;
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_EQ(j["ok"], true) << r.out;
    EXPECT_EQ(j["results"]["offsets_committed"], 2000);
    EXPECT_GT(j["results"]["takeover_ms"].get<double>(), 0);
    EXPECT_NE(j["parameters"]["coordinator_after"], j["parameters"]["coordinator_before"]);
    EXPECT_GE(j["parameters"]["coordinator_after"].get<int>(), 1);
    EXPECT_EQ(j["results"]["loaded_offsets"], 20) << r.out;  // the last of each partition
    EXPECT_EQ(j["results"]["loaded_batches"], 100) << r.out;
    gregor("cluster down --dir " + dir.string());
    up.reset();
    for (pid_t p : processes_mentioning(root.string())) {
        ::kill(p, SIGKILL);
    }
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
}

}  // namespace
}  // namespace gregor::test

// Goal: --broker-pid reads the right numbers out of /proc, even for a command name with
// spaces and parentheses, and refuses text it cannot read instead of guessing.
// Method: /proc texts written by hand, then this test process itself.
#include "bench/process_usage.h"

#include <gtest/gtest.h>

#include <unistd.h>

namespace gregor::bench {
namespace {

TEST(process_usage, cpu_ticks_are_utime_plus_stime) {
    std::string stat = "4242 (gregor) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 2";
    EXPECT_EQ(cpu_ticks_from_stat(stat), 325);
}

TEST(process_usage, command_names_with_spaces_and_parentheses_do_not_shift_fields) {
    std::string stat = "7 (a b) (c) R 1 7 7 0 -1 0 0 0 0 0 11 22 0 0 20 0 1";
    EXPECT_EQ(cpu_ticks_from_stat(stat), 33);
}

TEST(process_usage, malformed_text_is_refused) {
    EXPECT_EQ(cpu_ticks_from_stat(""), -1);
    EXPECT_EQ(cpu_ticks_from_stat("1 (x) S 1 2"), -1);
    EXPECT_EQ(cpu_ticks_from_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5"), -1);
    EXPECT_EQ(rss_kib_from_status("Name:\tgregor\n"), -1);
}

TEST(process_usage, rss_comes_from_vmrss) {
    EXPECT_EQ(rss_kib_from_status("Name:\tgregor\nVmHWM:\t  20000 kB\nVmRSS:\t   12828 kB\n"),
              12828);
}

TEST(process_usage, this_process_has_cpu_time_and_memory) {
    auto u = read_process_usage(::getpid());
    ASSERT_TRUE(u);
    EXPECT_GT(u->rss_mib, 0);
    EXPECT_GE(u->cpu_s, 0);
}

}  // namespace
}  // namespace gregor::bench

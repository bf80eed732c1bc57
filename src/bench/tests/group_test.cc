// Goal: `gregor bench group` picks its mode from its options and refuses bad or clashing
// ones with exit code 2 and a message naming the option; its assignment check and its read
// figures say what the README says (disjoint and covering; the group's rate from its first
// record to its last, and each member's).
// Method: parse_command_line on argument vectors; check_assignment on members without a
// client; group_read_figures on hand-made member reads, serialised through to_json.
#include "bench/group.h"

#include "bench/cli.h"

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>

namespace gregor::bench {
namespace {

using args = std::vector<std::string>;

void expect_refused(const args& a, const std::string& mentions) {
    parse_outcome p = parse_command_line(a);
    EXPECT_FALSE(p.parsed.has_value()) << a.back();
    EXPECT_EQ(p.exit_code, 2);
    EXPECT_NE(p.message.find(mentions), std::string::npos) << p.message;
}

options parsed(const args& a) {
    parse_outcome p = parse_command_line(a);
    EXPECT_TRUE(p.parsed) << p.message;
    return p.parsed.value_or(options{});
}

TEST(bench_group_options, the_mode_follows_the_options) {
    options c = parsed({"group", "-b", "h:1", "-t", "t", "--members", "4", "--records", "100"});
    EXPECT_EQ(c.kind, workload::group);
    EXPECT_EQ(group_mode_of(c), group_mode::consume);
    EXPECT_EQ(c.members, 4);
    EXPECT_EQ(c.records, 100);
    EXPECT_TRUE(c.group.empty());
    options j =
        parsed({"group", "-b", "h:1", "--join-members", "10", "--initial-delay-ms", "3000"});
    EXPECT_EQ(group_mode_of(j), group_mode::rebalance);
    EXPECT_EQ(j.join_members, 10);
    EXPECT_EQ(j.initial_delay_ms, 3000);
    options m = parsed({"group", "-b", "h:1", "--commits", "5000", "--sync-commits", "0",
                        "--commit-window", "64", "--group", "g1"});
    EXPECT_EQ(group_mode_of(m), group_mode::commit);
    EXPECT_EQ(m.commits, 5000);
    EXPECT_EQ(m.sync_commits, 0);
    EXPECT_EQ(m.commit_window, 64);
    EXPECT_EQ(m.group, "g1");
    std::string dir = std::filesystem::temp_directory_path().string();
    options t = parsed({"group", "-b", "h:1", "--takeover", "--cluster-dir", dir, "--commits",
                        "100000", "--partitions", "1000"});
    EXPECT_EQ(group_mode_of(t), group_mode::takeover);
    EXPECT_STREQ(group_mode_name(group_mode_of(t)), "takeover");
}

TEST(bench_group_options, bad_values_are_refused_naming_the_option) {
    expect_refused({"group"}, "--bootstrap");
    expect_refused({"group", "-b", "h:1", "--members", "0"}, "--members");
    expect_refused({"group", "-b", "h:1", "--members", "65"}, "--members");
    expect_refused({"group", "-b", "h:1", "--join-members", "0"}, "--join-members");
    expect_refused({"group", "-b", "h:1", "--join-members", "3", "--initial-delay-ms", "-1"},
                   "--initial-delay-ms");
    expect_refused({"group", "-b", "h:1", "--commits", "0"}, "--commits");
    expect_refused({"group", "-b", "h:1", "--commits", "10", "--sync-commits", "-1"},
                   "--sync-commits");
    expect_refused({"group", "-b", "h:1", "--commits", "10", "--commit-window", "0"},
                   "--commit-window");
    expect_refused({"group", "-b", "h:1", "--group", "has space"}, "--group");
    expect_refused({"group", "-b", "h:1", "--members", "4", "--partitions", "3"}, "--partitions");
    expect_refused({"group", "-b", "h:1", "--records", "10", "--duration", "5"}, "--duration");
    expect_refused({"group", "-b", "h:1", "--cluster-dir", "/nonexistent/dir"}, "--cluster-dir");
    expect_refused({"group", "-b", "h:1", "--acks", "1"}, "--acks");  // not a group option
}

TEST(bench_group_options, modes_exclude_each_other) {
    expect_refused({"group", "-b", "h:1", "--join-members", "3", "--commits", "10"}, "exclude");
    expect_refused({"group", "-b", "h:1", "--takeover"}, "--cluster-dir");
    expect_refused(
        {"group", "-b", "h:1", "--takeover", "--cluster-dir", "/tmp", "--join-members", "3"},
        "exclude");
    expect_refused({"group", "-b", "h:1", "--sync-commits", "10"}, "--sync-commits");
    expect_refused({"group", "-b", "h:1", "--commits", "10", "--duration", "3"}, "--duration");
    expect_refused({"group", "-b", "h:1", "--join-members", "3", "--duration", "3"}, "--duration");
}

std::unique_ptr<group_member> holding(std::vector<int> partitions, bool holds = true) {
    auto m = std::make_unique<group_member>();
    m->set_partitions(std::move(partitions));
    m->holding.store(holds);
    return m;
}

TEST(bench_group_assignment, complete_means_disjoint_covering_and_every_member_holding) {
    std::vector<std::unique_ptr<group_member>> ms;
    ms.push_back(holding({0, 2}));
    ms.push_back(holding({1, 3}));
    EXPECT_TRUE(check_assignment(ms, 4).complete(4));
    EXPECT_FALSE(check_assignment(ms, 5).complete(5));  // partition 4 uncovered
    EXPECT_EQ(check_assignment(ms, 5).covered, 4);
    ms.push_back(holding({3}));
    auto shared = check_assignment(ms, 4);
    EXPECT_EQ(shared.shared, 1);
    EXPECT_FALSE(shared.complete(4));
    ms.back() = holding({}, false);  // a member between a revocation and its assignment
    EXPECT_FALSE(check_assignment(ms, 4).complete(4));
}

TEST(bench_group_report, group_rate_runs_from_the_first_record_to_the_last) {
    // Member 0 reads 1000 records from 1 s to 2 s, member 1 3000 from 1.5 s to 3 s.
    std::vector<member_read> reads = {
        {1000, 100'000, 500'000'000, 1'000'000'000, 2'000'000'000, 2},
        {3000, 300'000, 600'000'000, 1'500'000'000, 3'000'000'000, 1}};
    report r;
    r.workload = "group";
    r.results = group_read_figures(reads);
    r.ratios.push_back({"group_to_assign_records_per_s", 0.95, "of one assign() consumer's"});
    auto j = nlohmann::json::parse(to_json(r).dump());
    const auto& res = j["results"];
    EXPECT_EQ(res["records"], 4000);
    EXPECT_DOUBLE_EQ(res["elapsed_s"].get<double>(), 2.0);
    EXPECT_DOUBLE_EQ(res["records_per_s"].get<double>(), 2000);
    EXPECT_DOUBLE_EQ(res["mb_per_s"].get<double>(), 0.2);
    EXPECT_DOUBLE_EQ(res["join_ms"].get<double>(), 500);
    EXPECT_DOUBLE_EQ(res["member_0_records_per_s"].get<double>(), 1000);
    EXPECT_DOUBLE_EQ(res["member_1_records_per_s"].get<double>(), 2000);
    EXPECT_EQ(res["member_0_partitions"], 2);
    EXPECT_EQ(res["member_1_records"], 3000);
    EXPECT_DOUBLE_EQ(j["ratios"]["group_to_assign_records_per_s"].get<double>(), 0.95);
    EXPECT_EQ(j["ok"], true);
}

TEST(bench_group_report, a_member_that_read_nothing_does_not_move_the_clock) {
    std::vector<member_read> reads = {{500, 50'000, 100, 1'000'000'000, 1'500'000'000, 1},
                                      {0, 0, 200, 0, 0, 0}};
    auto fs = group_read_figures(reads);
    EXPECT_DOUBLE_EQ(fs[1].value, 0.5);   // elapsed_s
    EXPECT_DOUBLE_EQ(fs[2].value, 1000);  // records_per_s
}

}  // namespace
}  // namespace gregor::bench

namespace gregor::bench {
namespace {

TEST(bench_group_takeover, the_coordinator_log_line_gives_its_time_and_offsets) {
    const char* line =
        "2026-12-06T05:42:10.123 info [broker 2] [group] __consumer_offsets-7: loaded in "
        "epoch 3: 1 groups, 100000 offsets, 100 batches, 0 corrupt records skipped";
    auto l = parse_load_line(line, 7);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->epoch, 3);
    EXPECT_EQ(l->offsets, 100000);
    EXPECT_EQ(l->batches, 100);
    std::tm tm{};
    tm.tm_year = 126;
    tm.tm_mon = 11;
    tm.tm_mday = 6;
    tm.tm_hour = 5;
    tm.tm_min = 42;
    tm.tm_sec = 10;
    tm.tm_isdst = -1;
    EXPECT_EQ(l->unix_ms, static_cast<std::int64_t>(std::mktime(&tm)) * 1000 + 123);
    EXPECT_FALSE(parse_load_line(line, 17));  // another partition
    EXPECT_FALSE(parse_load_line("__consumer_offsets-7: loaded in epoch 3: 1 groups", 7));
    const char* loading = "2026-12-06T05:42:10.023 info [b2] [group] loading partition=7 epoch=3";
    EXPECT_EQ(parse_loading_line(loading, 7), l->unix_ms - 100);
    EXPECT_FALSE(parse_loading_line(loading, 70));
    EXPECT_FALSE(
        parse_loading_line("2026-12-06T05:42:10.023 [group] loading partition=70 epoch=3", 7));
}

TEST(bench_group_takeover, the_offsets_partition_is_kafkas) {
    EXPECT_EQ(offsets_partition_of("abc", 50), 96354 % 50);  // "abc".hashCode() == 96354
    // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Utils.abs maps it to 0.
    EXPECT_EQ(offsets_partition_of("polygenelubricants", 50), 0);
    // A negative hash: "gregor-bench-group".hashCode() < 0 is taken by absolute value.
    std::int32_t h = 0;
    for (char c : std::string("gregor-bench-group")) {
        h = static_cast<std::int32_t>(31u * static_cast<std::uint32_t>(h) +
                                      static_cast<unsigned char>(c));
    }
    EXPECT_EQ(offsets_partition_of("gregor-bench-group", 50), (h < 0 ? -h : h) % 50);
}

}  // namespace
}  // namespace gregor::bench

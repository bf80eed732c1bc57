// Goal: the line the controller logs after a failover round (controller/timeline.h) is the
// line `gregor bench failover --cluster-dir` reads back (bench/controller_timeline.h): same
// marks, same times, in order; lines from before the kill, other log lines and damaged
// timeline lines are ignored; the round's line is complete only after every request of the
// round was answered, successfully or not.
// Method: build lines with the controller's own types, embed them in a realistic log, parse.
#include "bench/controller_timeline.h"

#include "controller/timeline.h"

#include <gtest/gtest.h>

#include <sstream>

namespace gregor::bench {
namespace {

using controller::answer_tracker;
using controller::timeline;
using std::chrono::milliseconds;

timeline::time_point at_ms(std::int64_t ms) { return timeline::time_point(milliseconds(ms)); }

std::string failover_line(std::int64_t base) {
    timeline t("failover", "epoch=7");
    t.mark_at("controller_gone_seen", at_ms(base + 6000));
    t.mark_at("elected", at_ms(base + 6010));
    t.mark_at("loaded", at_ms(base + 6050));
    t.mark_at("written", at_ms(base + 6200));
    t.mark_at("sent", at_ms(base + 6201));
    t.mark_at("answered", at_ms(base + 6240));
    t.count("requests", 6);
    t.count("failed", 0);
    return t.line();
}

TEST(controller_timeline, controller_line_reads_back_as_phases_from_the_kill) {
    const std::int64_t kill = 1'763'737'200'000;
    std::stringstream log;
    log << "[2026-11-21 15:00:00.000] [controller] [info] broker 2 is now the controller\n"
        << "[2026-11-21 15:00:06.240] [controller] [info] " << failover_line(kill) << "\n";
    auto got = read_timelines(log, kill);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, "failover");
    EXPECT_EQ(got[0].labels.at("epoch"), "7");
    EXPECT_EQ(got[0].labels.at("requests"), "6");
    auto phases = timeline_phases(got[0], kill);
    ASSERT_EQ(phases.size(), 6u);
    EXPECT_EQ(phases[0].name, "controller: /controller deletion seen by the next controller");
    EXPECT_DOUBLE_EQ(phases[0].at_ms, 6000);
    EXPECT_EQ(phases[1].name, "controller: elected, epoch 7");
    EXPECT_EQ(phases[2].name, "controller: state loaded from ZooKeeper");
    EXPECT_DOUBLE_EQ(phases[2].at_ms, 6050);
    EXPECT_EQ(phases[4].name, "controller: LeaderAndIsr and UpdateMetadata sent");
    EXPECT_EQ(phases[5].name, "controller: every broker answered them");
    EXPECT_DOUBLE_EQ(phases[5].at_ms, 6240);
}

TEST(controller_timeline, earlier_rounds_other_lines_and_damaged_lines_are_skipped) {
    const std::int64_t kill = 1'763'737'200'000;
    timeline before("broker_failure", "epoch=6 brokers=3 partitions=10");
    before.mark_at("noticed", at_ms(kill - 60'000));
    timeline after("broker_failure", "epoch=6 brokers=1 partitions=40");
    after.mark_at("noticed", at_ms(kill + 6001));
    after.mark_at("written", at_ms(kill + 6100));
    std::stringstream log;
    log << before.line() << "\n"
        << "[info] the timeline of nothing\n"
        << "[info] timeline failover epoch=7 elected_ms=notanumber\n"
        << "[info] timeline failover epoch=7\n"
        << after.line() << "\n";
    auto got = read_timelines(log, kill);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].labels.at("brokers"), "1");
    auto phases = timeline_phases(got[0], kill);
    ASSERT_EQ(phases.size(), 2u);
    EXPECT_EQ(phases[0].name, "controller: death of broker 1 seen");
    EXPECT_DOUBLE_EQ(phases[1].at_ms, 6100);
}

TEST(answer_tracker, fires_once_after_close_and_every_answer) {
    int fired = 0;
    std::size_t seen_requests = 0;
    std::size_t seen_failed = 0;
    answer_tracker t([&](std::size_t requests, std::size_t failed) {
        ++fired;
        seen_requests = requests;
        seen_failed = failed;
    });
    t.expect();
    t.expect();
    t.answered(true);
    t.answered(false);
    EXPECT_EQ(fired, 0) << "not closed: more requests of the round may follow";
    t.expect();
    t.close();
    EXPECT_EQ(fired, 0) << "one request still in flight";
    t.answered(true);
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(seen_requests, 3u);
    EXPECT_EQ(seen_failed, 1u);
    t.answered(true);
    t.close();
    EXPECT_EQ(fired, 1);
}

TEST(answer_tracker, a_round_without_requests_fires_at_close) {
    int fired = 0;
    answer_tracker t([&](std::size_t requests, std::size_t) {
        ++fired;
        EXPECT_EQ(requests, 0u);
    });
    t.close();
    EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace gregor::bench

// Goal: the checks the replication suite relies on catch what they claim to: a lost or
// moved acknowledged record, acknowledged offsets going backwards, a record nobody sent, a
// consumer served a record the final log no longer holds, replicas that differ below the
// high watermark; and they accept at-least-once duplicates and unacknowledged records.
// Method: hand-made partition logs; no processes.
#include "integration/replication/replication_checks.h"

#include <gtest/gtest.h>

namespace gregor::test {
namespace {

const partition_log three{{0, "r-0"}, {1, "r-1"}, {2, "r-2"}};

TEST(replication_checks, idempotence_means_each_record_once_in_send_order) {
    EXPECT_EQ(check_exactly_once_in_order(three, "r", 3), "");
    partition_log mixed{{0, "r-0"}, {1, "probe"}, {2, "r-1"}};
    EXPECT_EQ(check_exactly_once_in_order(mixed, "r", 2), "") << "other values are ignored";
    EXPECT_NE(check_exactly_once_in_order({{0, "r-0"}, {1, "r-0"}, {2, "r-1"}}, "r", 2), "")
        << "duplicate";
    EXPECT_NE(check_exactly_once_in_order({{0, "r-1"}, {1, "r-0"}}, "r", 2), "") << "reordered";
    EXPECT_NE(check_exactly_once_in_order({{0, "r-0"}, {1, "r-2"}}, "r", 3), "") << "gap";
    EXPECT_NE(check_exactly_once_in_order(three, "r", 4), "") << "a record missing at the end";
}

TEST(replication_checks, acknowledged_records_must_stay_at_their_offsets) {
    EXPECT_EQ(check_acknowledged(three, "r", {{0, 0}, {1, 1}, {2, 2}}), "");
    EXPECT_NE(check_acknowledged({{0, "r-0"}, {1, "r-1"}}, "r", {{2, 2}}), "");
    EXPECT_NE(check_acknowledged(three, "r", {{2, 1}}), "") << "moved to another offset";
}

TEST(replication_checks, no_offset_may_be_acknowledged_for_two_records) {
    partition_log swapped{{0, "r-1"}, {1, "r-0"}};
    EXPECT_EQ(check_acknowledged(swapped, "r", {{1, 0}, {0, 1}}), "")
        << "send order may differ from offset order";
    EXPECT_EQ(send_order_inversions({{1, 0}, {0, 1}}), 1);
    EXPECT_EQ(check_acknowledged(swapped, "r", {{0, 1}, {1, 0}}), "")
        << "a late answer from an old leader may come after later records' answers";
    EXPECT_NE(check_acknowledged(three, "r", {{0, 0}, {1, 0}}), "") << "r-1 was not at 0";
}

TEST(replication_checks, only_records_that_were_sent_may_appear) {
    partition_log dup{{0, "r-0"}, {1, "r-0"}, {2, "probe-3"}};
    EXPECT_EQ(check_only_sent(dup, {{"r", 1}}, {"probe-3"}), "");
    EXPECT_EQ(duplicates(dup), 1);
    EXPECT_NE(check_only_sent(three, {{"r", 2}}, {}), "") << "r-2 was never sent";
    EXPECT_NE(check_only_sent({{0, "x-0"}}, {{"r", 5}}, {}), "");
    EXPECT_NE(check_only_sent({{0, "r-"}}, {{"r", 5}}, {}), "");
}

TEST(replication_checks, a_consumer_must_only_have_seen_what_stays) {
    EXPECT_EQ(check_consumer_saw_committed(three, {{1, "r-1"}}), "");
    EXPECT_NE(check_consumer_saw_committed(three, {{3, "r-3"}}), "");
    EXPECT_NE(check_consumer_saw_committed(three, {{1, "r-9"}}), "");
}

TEST(replication_checks, replicas_must_match_below_the_high_watermark_only) {
    partition_log longer{{0, "r-0"}, {1, "r-1"}, {2, "r-2"}, {3, "r-3"}};
    EXPECT_EQ(check_same_below(three, longer, 3), "");
    EXPECT_NE(check_same_below(longer, three, 4), "");
    EXPECT_NE(check_same_below(three, {{0, "r-0"}, {1, "x"}, {2, "r-2"}}, 3), "");
}

}  // namespace
}  // namespace gregor::test

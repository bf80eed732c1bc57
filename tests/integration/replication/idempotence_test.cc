// Goal: an idempotent producer (librdkafka, enable.idempotence=true, five requests in flight,
// acks=all) writes every record exactly once and in send order into a replicated partition,
// with no producer error, while the partition's leader is killed (kill -9) or frozen past
// its ZooKeeper session timeout, or leaves by controlled shutdown. Retries after a lost
// answer must be recognised as duplicates by whichever broker leads then: the new leader
// rebuilt the producer's state from the batches it replicated.
// What is asserted, after every delivery report is in:
//   - no record failed and no fatal idempotence error was raised;
//   - the final log holds r-0 .. r-(N-1) exactly once each, in that order;
//   - every acknowledgement names the offset the record has in the final log;
//   - every replica holds the leader's records below the high watermark.
// Method: replication_cluster (real ZooKeeper, three brokers, session timeout 4 s), a topic
// with replication factor 3 and min.insync.replicas=2, the acked_producer in idempotent mode
// sending a fixed number of records as fast as the bound on unreported records allows.
// Every wait is a poll with a deadline; nothing is timed.
#include "integration/replication/acked_producer.h"
#include "integration/replication/partition_reader.h"
#include "integration/replication/replication_checks.h"
#include "integration/replication/replication_cluster.h"
#include "integration/replication/replication_steps.h"

#include <gtest/gtest.h>

#include <csignal>
#include <iostream>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t records = 200'000;
constexpr auto send_limit = 300s;  // all records reported (a debug build, failovers included)

producer_options idempotent_options(const replication_cluster& c, const std::string& topic) {
    return {.bootstrap = c.bootstrap(),
            .topic = topic,
            .pace = 0ms,
            .unreported_max = 20'000,
            .message_timeout = 240s,
            .records_max = records,
            .idempotent = true};
}

void expect_exactly_once(replication_cluster& c, const std::string& topic, acked_producer& p) {
    EXPECT_TRUE(eventually([&] { return p.sent() == records; }, send_limit)) << describe(p);
    EXPECT_TRUE(p.stop(send_limit)) << describe(p);
    EXPECT_TRUE(p.failures().empty()) << describe(p);
    EXPECT_EQ(p.acked_count(), records) << describe(p);
    auto log = final_log(c, topic);
    ASSERT_EQ(log.error, "") << c.logs();
    std::cout << describe(p) << "; final log: " << log.records.size() << " records, "
              << send_order_inversions(p.acked()) << " acknowledgements out of send order\n";
    EXPECT_EQ(check_exactly_once_in_order(log.records, p.prefix(), records), "")
        << c.log_lines("truncat") << c.log_lines("leader");
    EXPECT_EQ(check_acknowledged(log.records, p.prefix(), p.acked()), "");
    expect_replicas_converge(c, topic, log);
}

TEST(idempotence, each_record_once_in_order_through_kill_of_the_leader) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("idem-kill", min_isr_2), "") << c.logs();
    acked_producer p(idempotent_options(c, "idem-kill"));
    ASSERT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    int old = c.leader("idem-kill");
    c.broker(old).kill_now();
    ASSERT_NE(c.wait_new_leader("idem-kill", old, all_but(old), step_limit), -1) << c.logs();
    c.broker(old).restart();
    ASSERT_TRUE(c.wait_registered(old, step_limit)) << c.logs();
    EXPECT_TRUE(c.wait_isr("idem-kill", {1, 2, 3}, step_limit)) << c.log_lines("ISR");
    expect_exactly_once(c, "idem-kill", p);
}

TEST(idempotence, each_record_once_in_order_through_a_paused_leader) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("idem-pause", min_isr_2), "") << c.logs();
    acked_producer p(idempotent_options(c, "idem-pause"));
    ASSERT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    int old = c.leader("idem-pause");
    c.broker(old).signal(SIGSTOP);
    int fresh = c.wait_new_leader("idem-pause", old, all_but(old), step_limit);
    c.broker(old).signal(SIGCONT);
    ASSERT_NE(fresh, -1) << c.logs();
    ASSERT_TRUE(c.wait_registered(old, step_limit)) << c.logs();
    EXPECT_TRUE(c.wait_isr("idem-pause", {1, 2, 3}, step_limit)) << c.log_lines("ISR");
    expect_exactly_once(c, "idem-pause", p);
}

// The leader leaves by controlled shutdown (SIGTERM): the controller moves leadership to
// another in-sync replica first, so the producer's requests in flight (up to five) meet
// NOT_LEADER_OR_FOLLOWER or a closed connection and are retried at the new leader.
TEST(idempotence, each_record_once_in_order_through_a_controlled_shutdown_of_the_leader) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("idem-moved", min_isr_2), "") << c.logs();
    acked_producer p(idempotent_options(c, "idem-moved"));
    ASSERT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    int old = c.leader("idem-moved");
    c.broker(old).signal(SIGTERM);
    std::int64_t acked_at_shutdown = p.acked_count();
    ASSERT_NE(c.wait_new_leader("idem-moved", old, all_but(old), step_limit), -1) << c.logs();
    ASSERT_TRUE(c.broker(old).wait_exit(step_limit).has_value()) << c.logs();
    c.broker(old).restart();
    ASSERT_TRUE(c.wait_registered(old, step_limit)) << c.logs();
    EXPECT_TRUE(c.wait_isr("idem-moved", {1, 2, 3}, step_limit)) << c.log_lines("ISR");
    expect_exactly_once(c, "idem-moved", p);
    EXPECT_LT(acked_at_shutdown, records) << "the leader left after the stream ended";
    std::cout << acked_at_shutdown << " acknowledged when the leader began its shutdown\n";
}

}  // namespace
}  // namespace gregor::test

// Goal: a topic with replication factor 3 and min.insync.replicas=2 keeps what Kafka
// promises to a producer using acks=all, through the failures a user meets:
//   a. kill -9 of the partition leader while producing; the leader moves, producing goes on,
//      the killed broker restarts on its data directory and rejoins the ISR;
//   b. the leader frozen (SIGSTOP) past its ZooKeeper session timeout, then resumed: the
//      old leader must not acknowledge writes that the new leader does not hold;
//   c. a consumer reading during a and b is only ever served committed records;
//   d. with two of three brokers down, acks=all produce is refused with
//      NOT_ENOUGH_REPLICAS (19) before anything is written, and succeeds again once they
//      return;
//   e. afterwards every replica holds the same records below the high watermark.
//
// What is asserted, precisely (after producing stops and every delivery report is in):
//   - every record librdkafka acknowledged (delivery report without error) is in the final
//     log at exactly the offset the acknowledgement gave, with its value: an acks=all
//     acknowledgement means the record is committed, and committed records are never
//     truncated or moved;
//   - not asserted: any order of acknowledgements. librdkafka without idempotence may
//     reorder records when it retries (and does, in b), and across a leader change it has
//     a request in flight to each leader, so a paused old leader that wakes can answer
//     (truthfully) after later records were acknowledged; the test prints how often the
//     send order was inverted;
//   - every record in the final log is one the test sent. Records that were NOT
//     acknowledged may be present or absent, and a record may appear twice (a retry after
//     an acknowledgement was lost: without idempotence Kafka delivers at least once);
//   - every record the concurrent consumer was served (offset, value) is in the final log
//     at that offset with that value;
//   - each broker's on-disk log of the partition equals the leader's records below the
//     leader's high watermark (polled until the followers catch up, with a deadline);
//   - d: a probe refused with NOT_ENOUGH_REPLICAS is nowhere in the final log. Probes sent
//     while the leader has not yet learnt of the smaller ISR may be accepted (and then
//     fail with another error, or succeed): those may be in the log, as in Kafka, where a
//     record answered NOT_ENOUGH_REPLICAS_AFTER_APPEND stays written.
// "The final log" is what the leader serves a consumer from offset 0 to its high watermark
// once the restarted broker is back in the ISR.
//
// Method: a real ZooKeeper and three real `gregor broker` processes (session timeout 4 s,
// replica.lag.time.max.ms 3 s, so failures play out within seconds), topics created with
// CreateTopics and the topic config min.insync.replicas=2, a librdkafka producer (acks=all,
// enable.idempotence=false, max.in.flight=1, bounded message.timeout.ms) on its own
// thread, a consumer made of raw Fetch requests on another thread that follows the leader,
// partition state read from ZooKeeper, and the brokers' segment files read from disk.
// Every wait is a poll with a deadline; no assertion depends on timing.
#include "admin/http_get.h"
#include "integration/replication/acked_producer.h"
#include "integration/replication/partition_reader.h"
#include "integration/replication/replication_checks.h"
#include "integration/replication/replication_cluster.h"
#include "integration/replication/replication_steps.h"
#include "protocol/messages/all.h"
#include "protocol/records/batch_builder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

// d: sends acks=all probes ("probe-0", "probe-1", ...) to `port` until one is answered
// NOT_ENOUGH_REPLICAS (19) or the step limit passes. The leader may not have learnt yet that
// its ISR shrank, so earlier probes may be accepted. Returns the refused probe ("" if
// none) and every probe sent.
std::pair<std::string, std::set<std::string>> probe_until_refused(std::uint16_t port,
                                                                  const std::string& topic) {
    std::set<std::string> sent;
    std::string refused;
    int i = 0;
    eventually(
        [&] {
            std::string value = fmt::format("probe-{}", i++);
            sent.insert(value);
            auto answer = produce_raw(port, topic, value, -1);
            std::cout << value << ": error " << answer.error << "\n";
            if (answer.error == 19) {
                refused = value;
            }
            return !refused.empty();
        },
        step_limit);
    return {refused, sent};
}

TEST(replication, acknowledged_records_survive_kill_of_the_leader) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("a", min_isr_2), "") << c.logs();
    tailing_reader consumer(c.ports(), "a", 0);
    acked_producer p({.bootstrap = c.bootstrap(), .topic = "a"});
    ASSERT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    int old = c.leader("a");
    c.broker(old).kill_now();
    int fresh = c.wait_new_leader("a", old, all_but(old), step_limit);
    ASSERT_NE(fresh, -1) << c.logs();
    EXPECT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    c.broker(old).restart();
    ASSERT_TRUE(c.wait_registered(old, step_limit)) << c.logs();
    EXPECT_TRUE(c.wait_isr("a", {1, 2, 3}, step_limit))
        << "broker " << old << " did not rejoin the ISR\n" << c.log_lines("ISR");
    EXPECT_TRUE(more_acked(p, progress / 3)) << describe(p);
    expect_nothing_lost(c, "a", p, consumer);
}

TEST(replication, a_paused_leader_acknowledges_nothing_that_is_lost) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("b", min_isr_2), "") << c.logs();
    tailing_reader consumer(c.ports(), "b", 0);
    acked_producer p({.bootstrap = c.bootstrap(), .topic = "b"});
    ASSERT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    int old = c.leader("b");
    c.broker(old).signal(SIGSTOP);
    int fresh = c.wait_new_leader("b", old, all_but(old), step_limit);
    EXPECT_NE(fresh, -1) << c.logs();
    EXPECT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    c.broker(old).signal(SIGCONT);
    // The woken broker still believes it leads until it hears otherwise: a write sent to
    // it now must either fail or be kept.
    auto zombie = produce_raw(c.broker(old).port(), "b", "zombie-probe", -1);
    std::cout << "zombie-probe to the resumed broker " << old << ": error " << zombie.error
              << "\n";
    ASSERT_TRUE(c.wait_registered(old, step_limit)) << c.logs();
    EXPECT_TRUE(c.wait_isr("b", {1, 2, 3}, step_limit))
        << "broker " << old << " did not rejoin the ISR\n" << c.log_lines("ISR");
    EXPECT_TRUE(more_acked(p, progress / 3)) << describe(p);
    expect_nothing_lost(c, "b", p, consumer, {"zombie-probe"});
    if (zombie.error == 0) {
        auto log = final_log(c, "b");
        auto it = log.records.find(zombie.base_offset);
        EXPECT_TRUE(it != log.records.end() && it->second == "zombie-probe")
            << "the resumed old leader acknowledged zombie-probe at offset " << zombie.base_offset
            << " with acks=all, and it is gone";
    }
}

// e: with unclean.leader.election.enable, a replica from outside the ISR may be elected, and
// what the ISR acknowledged beyond its log is lost. gregor gives the receipt: the new leader
// logs where its log ends, and an old ISR member that returns logs the acknowledged range it
// cuts and counts it in gregor_replica_committed_records_truncated_total; both reach the
// controller's decision journal (/api/journal) with the offsets.
TEST(replication, an_unclean_election_names_the_acknowledged_records_it_lost) {
    replication_cluster c({{"gregor.http.listener", "127.0.0.1:0"},
                           {"replica.high.watermark.checkpoint.interval.ms", "200"}});
    ASSERT_EQ(c.create_topic("e", {{"unclean.leader.election.enable", "true"}}), "") << c.logs();
    const int leader = c.leader("e");
    ASSERT_NE(leader, -1) << c.logs();
    const int lagging = leader % 3 + 1;
    const int other = lagging % 3 + 1;
    c.broker(lagging).signal(SIGSTOP);
    ASSERT_TRUE(c.wait_isr("e", {leader, other}, step_limit)) << c.log_lines("ISR");
    // Acknowledged by the shrunk ISR; the frozen replica never gets them.
    constexpr int lost = 5;
    for (int i = 0; i < lost; ++i) {
        auto answer = produce_raw(c.broker(leader).port(), "e", fmt::format("lost-{}", i), -1);
        ASSERT_EQ(answer.error, 0) << c.logs();
    }
    // The leader's high watermark on disk (Kafka's replication-offset-checkpoint: "e 0 5"),
    // which is what it knows of its acknowledged records after kill -9.
    const auto checkpoint = c.broker(leader).log_dirs().front() / "replication-offset-checkpoint";
    ASSERT_TRUE(eventually(
        [&] {
            std::ifstream in(checkpoint);
            std::string text((std::istreambuf_iterator<char>(in)), {});
            return text.find(fmt::format("e 0 {}", lost)) != std::string::npos;
        },
        step_limit))
        << checkpoint;
    c.broker(other).kill_now();
    c.broker(leader).kill_now();
    c.broker(lagging).signal(SIGCONT);
    ASSERT_TRUE(c.wait_registered(lagging, step_limit)) << c.logs();
    ASSERT_EQ(c.wait_new_leader("e", leader, {lagging}, step_limit), lagging) << c.logs();
    EXPECT_NE(c.log_lines("leader by unclean election").find(fmt::format("[broker {}]", lagging)),
              std::string::npos)
        << c.log_lines("unclean");
    ASSERT_EQ(produce_raw(c.broker(lagging).port(), "e", "after", -1).error, 0) << c.logs();
    c.broker(leader).restart();
    ASSERT_TRUE(c.wait_registered(leader, step_limit)) << c.logs();
    // The returning old leader follows the new one and cuts what it had acknowledged.
    std::string metrics;
    bool counted = eventually(
        [&] {
            auto r = admin::http_get(fmt::format("127.0.0.1:{}", c.broker(leader).http_port()),
                                     "/metrics", 5s);
            metrics = r ? r->body : r.err().to_string();
            std::smatch m;
            static const std::regex total(
                R"(gregor_replica_committed_records_truncated_total ([0-9.e+]+))");
            return std::regex_search(metrics, m, total) && std::stod(m[1]) >= lost;
        },
        step_limit);
    EXPECT_TRUE(counted) << metrics << c.log_lines("truncat");
    EXPECT_NE(c.log_lines("acknowledged records").find(fmt::format("[broker {}]", leader)),
              std::string::npos)
        << c.log_lines("truncat");
    // Both receipts reach the active controller's journal: the new leader took over with a
    // log ending at 0, and the old leader cut the 5 records [0, 5) it had acknowledged.
    const std::string took_over = fmt::format(
        R"("receipt":{{"broker":{},"kind":"takeover","log_end_offset":0,"high_watermark":0,)"
        R"("lost_from":0}})",
        lagging);
    const std::string cut = fmt::format(
        R"("receipt":{{"broker":{},"kind":"truncation","log_end_offset":{},"high_watermark":{},)"
        R"("lost_from":0,"lost_to":{},"acknowledged_records_lost":{}}})",
        leader, lost, lost, lost, lost);
    std::string journal;
    bool journalled = eventually(
        [&] {
            for (int id : {leader, lagging}) {
                auto r = admin::http_get(fmt::format("127.0.0.1:{}", c.broker(id).http_port()),
                                         "/api/journal?topic=e", 5s);
                if (r && r->status == 200) {
                    journal = r->body;
                    return journal.find(took_over) != std::string::npos &&
                           journal.find(cut) != std::string::npos;
                }
            }
            return false;
        },
        step_limit);
    EXPECT_TRUE(journalled) << journal << "\nwanted " << took_over << "\nand " << cut;
}

TEST(replication, acks_all_is_refused_without_min_insync_replicas_and_works_again) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("d", min_isr_2), "") << c.logs();
    tailing_reader consumer(c.ports(), "d", 0);
    acked_producer before({.bootstrap = c.bootstrap(), .topic = "d", .prefix = "before"});
    ASSERT_TRUE(more_acked(before, progress)) << describe(before) << c.logs();
    EXPECT_TRUE(before.stop(flush_limit)) << describe(before);
    int leader = c.leader("d");
    std::set<int> others = all_but(leader);
    for (int id : others) {
        c.broker(id).kill_now();
    }
    ASSERT_TRUE(c.wait_isr("d", {leader}, step_limit)) << c.log_lines("ISR");
    auto [refused, probes] = probe_until_refused(c.broker(leader).port(), "d");
    EXPECT_NE(refused, "") << "acks=all was never answered NOT_ENOUGH_REPLICAS (19) with "
                           << "the ISR at 1 of min.insync.replicas=2\n" << c.logs();
    for (int id : others) {
        c.broker(id).restart();
        ASSERT_TRUE(c.wait_registered(id, step_limit)) << c.logs();
    }
    EXPECT_TRUE(c.wait_isr("d", {1, 2, 3}, step_limit)) << c.log_lines("ISR");
    acked_producer after({.bootstrap = c.bootstrap(), .topic = "d", .prefix = "after"});
    EXPECT_TRUE(more_acked(after, progress)) << describe(after) << c.logs();
    EXPECT_TRUE(after.stop(flush_limit)) << describe(after);
    consumer.stop();
    auto log = final_log(c, "d");
    ASSERT_EQ(log.error, "") << c.logs();
    EXPECT_EQ(check_acknowledged(log.records, "before", before.acked()), "") << describe(before);
    EXPECT_EQ(check_acknowledged(log.records, "after", after.acked()), "") << describe(after);
    probes.erase(refused);
    EXPECT_EQ(check_only_sent(log.records, {{"before", before.sent()}, {"after", after.sent()}},
                              probes),
              "")
        << refused << " was refused with NOT_ENOUGH_REPLICAS and must not be written";
    EXPECT_EQ(check_consumer_saw_committed(log.records, consumer.seen()), "");
    expect_replicas_converge(c, "d", log);
}

}  // namespace
}  // namespace gregor::test

// Goal: a ZooKeeper outage does not stop the data path and loses nothing, as in Kafka's
// ZooKeeper mode, where ZooKeeper holds only control-plane state:
//   a. short outage (ZooKeeper stopped and restarted on the same port and data directory;
//      sessions survive, since a restarted server gives restored sessions a fresh timeout):
//      while it is down, acks=all (the ISR stays intact) and acks=1 writes are acknowledged
//      and a consumer keeps reading; afterwards the same controller holds the same epoch;
//   b. long outage (ZooKeeper frozen with SIGSTOP for three session timeouts): the brokers
//      go on serving reads and writes from what they know (the controller decides nothing:
//      every broker still names the same leader); when ZooKeeper resumes, the sessions it
//      expires are replaced (the broker registers again; the controller's expiry brings a
//      controller with a larger epoch), the partition has a leader that every broker's
//      Metadata names with the controller /controller names, and producing goes on.
//      ZooKeeper itself may instead revalidate a session whose reconnect it reads before its
//      session tracker runs; then that broker keeps its session (and the controller its
//      epoch). The test checks whichever happened.
// In both, every acknowledged record is read back at its offset, the consumer was served
// only committed records, and the replicas converge (replication_steps' end checks).
// Method: replication_cluster (real ZooKeeper, three `gregor broker` processes, session
// timeout 4 s), a librdkafka acks=all producer and a raw-Fetch consumer on their own threads,
// raw acks=1 Produce requests, Metadata over a plain socket. Every wait polls with a deadline.
#include "integration/replication/replication_steps.h"
#include "protocol/messages/all.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>
#include <iostream>
#include <thread>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr auto session_timeout = 4s;  // replication_cluster's zookeeper.session.timeout.ms

// Why the last metadata_agrees() said no.
std::string disagreement;

// Every broker's Metadata names `controller`, lists the three brokers, and names `leader`
// as the leader of partition 0 of `topic`.
bool metadata_agrees(replication_cluster& c, const std::string& topic, int controller,
                     int leader) {
    for (int id = 1; id <= replication_cluster::broker_count; ++id) {
        protocol::metadata_response m;
        try {
            kafka_socket s(c.broker(id).port(), 5s);
            protocol::metadata_request req;
            req.topics = std::nullopt;
            bytes raw = s.call(protocol::metadata_api::key, 12, req);
            protocol::reader r(raw);
            m = protocol::metadata_response::decode(r, 12).value();
        } catch (const std::exception& e) {
            disagreement = fmt::format("broker {}: {}", id, e.what());
            return false;
        }
        int named = -1;
        for (const auto& t : m.topics) {
            if (t.name == std::optional<std::string>(topic) && !t.partitions.empty()) {
                named = t.partitions[0].leader_id();
            }
        }
        disagreement = fmt::format("broker {}: controller {}, {} brokers, leader {}", id,
                                   m.controller_id(), m.brokers.size(), named);
        if (m.controller_id() != controller || m.brokers.size() != 3U || named != leader) {
            return false;
        }
    }
    return true;
}

// While ZooKeeper is unavailable: acks=all goes on, an acks=1 write to the leader is
// acknowledged, and the consumer advances.
void expect_data_path_serves(replication_cluster& c, acked_producer& p,
                             const tailing_reader& consumer, std::uint16_t leader_port,
                             const std::string& topic, const std::string& probe) {
    EXPECT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    auto one = produce_raw(leader_port, topic, probe, 1);
    EXPECT_EQ(one.error, 0) << "acks=1 while ZooKeeper is down";
    std::int64_t at = consumer.position();
    EXPECT_TRUE(eventually([&] { return consumer.position() >= at + progress / 2; }, step_limit))
        << "the consumer stopped at " << consumer.position();
}

// The acks=1 probe written during the outage: acknowledged, replicated long before any
// leader could change, so it is in the final log too.
void expect_probe_kept(replication_cluster& c, const std::string& topic,
                       const std::string& probe) {
    auto log = final_log(c, topic);
    bool found = std::any_of(log.records.begin(), log.records.end(),
                             [&](const auto& r) { return r.second == probe; });
    EXPECT_TRUE(found) << probe << " was acknowledged (acks=1) and is gone";
}

TEST(zookeeper_outage, a_short_outage_changes_nothing_and_loses_nothing) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("s", min_isr_2), "") << c.logs();
    tailing_reader consumer(c.ports(), "s", 0);
    acked_producer p({.bootstrap = c.bootstrap(), .topic = "s"});
    ASSERT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    auto controller = c.controller();
    int epoch = c.controller_epoch();
    int leader = c.leader("s");
    ASSERT_TRUE(controller.has_value());
    ASSERT_GT(leader, 0);

    c.zookeeper().stop();
    expect_data_path_serves(c, p, consumer, c.broker(leader).port(), "s", "acks1-short");
    c.zookeeper().start();

    EXPECT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    ASSERT_TRUE(eventually([&] { return c.controller_epoch() > 0; }, step_limit)) << c.logs();
    EXPECT_EQ(c.controller(), controller) << c.logs();
    EXPECT_EQ(c.controller_epoch(), epoch);
    EXPECT_EQ(c.leader("s"), leader);
    EXPECT_EQ(c.log_lines("expired"), "") << "no session expired";
    EXPECT_TRUE(c.wait_isr("s", {1, 2, 3}, step_limit)) << c.log_lines("ISR");
    expect_nothing_lost(c, "s", p, consumer, {"acks1-short"});
    expect_probe_kept(c, "s", "acks1-short");
}

TEST(zookeeper_outage, a_long_outage_keeps_serving_and_the_cluster_reconverges) {
    replication_cluster c;
    ASSERT_EQ(c.create_topic("l", min_isr_2), "") << c.logs();
    tailing_reader consumer(c.ports(), "l", 0);
    acked_producer p({.bootstrap = c.bootstrap(), .topic = "l"});
    ASSERT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    int epoch = c.controller_epoch();
    int leader = c.leader("l");
    int old_controller = c.controller().value_or(-1);
    ASSERT_GT(old_controller, 0);
    ASSERT_GT(epoch, 0);
    ASSERT_GT(leader, 0);

    c.zookeeper().signal(SIGSTOP);
    const auto frozen = std::chrono::steady_clock::now();
    expect_data_path_serves(c, p, consumer, c.broker(leader).port(), "l", "acks1-long");
    // Keep it frozen for three session timeouts, checking all along that writes go on.
    while (std::chrono::steady_clock::now() - frozen < 3 * session_timeout) {
        EXPECT_TRUE(more_acked(p, 20)) << describe(p) << c.logs();
        std::this_thread::sleep_for(200ms);
    }
    // Nobody decided anything meanwhile: every broker still names the same leader.
    for (int id = 1; id <= replication_cluster::broker_count; ++id) {
        auto named = leader_of(c.broker(id).port(), "l", 0);
        EXPECT_TRUE(named && named->id == leader) << "broker " << id << " names another leader";
    }
    c.zookeeper().signal(SIGCONT);

    // ZooKeeper decides which lapsed sessions are gone: when it resumes, its session tracker
    // expires every session past its timeout, but a client whose reconnect request it reads
    // first has its session revalidated. Runs show both (expiry most often). First every
    // broker hears which: its session resumed, or expired and replaced by a new one.
    std::set<int> expired;
    EXPECT_TRUE(eventually(
        [&] {
            expired.clear();
            for (int id = 1; id <= replication_cluster::broker_count; ++id) {
                std::string log = c.broker(id).log();
                if (log.find("expired; opening a new one") != std::string::npos) {
                    expired.insert(id);
                } else if (log.find("(resumed)") == std::string::npos) {
                    return false;
                }
            }
            return true;
        },
        step_limit))
        << c.logs();
    // Every broker is registered (again, if its session expired), the partition has a leader,
    // every broker's Metadata names it and the controller /controller names, and the
    // controller epoch tells the same story as the old controller's log: its expiry brings a
    // controller with a larger epoch; a resumed controller keeps its role and epoch
    // (/controller never went away). Read from the log on every check: ZooKeeper can
    // revalidate a session on reconnect and still expire it in the same sweep of its session
    // tracker, so a "(resumed)" line may be followed by an expiry.
    for (int id = 1; id <= replication_cluster::broker_count; ++id) {
        EXPECT_TRUE(c.wait_registered(id, step_limit)) << "broker " << id << "\n" << c.logs();
    }
    int now_leader = -1;
    int now_controller = -1;
    bool controller_expired = false;
    EXPECT_TRUE(eventually(
        [&] {
            controller_expired = c.broker(old_controller).log().find(
                                     "expired; opening a new one") != std::string::npos;
            now_leader = c.leader("l");
            now_controller = c.controller().value_or(-1);
            int now_epoch = c.controller_epoch();
            bool epoch_fits = controller_expired
                                  ? now_epoch > epoch
                                  : now_epoch == epoch && now_controller == old_controller;
            if (!epoch_fits) {
                disagreement = fmt::format("controller {} epoch {} (was {}, {}), its session {}",
                                           now_controller, now_epoch, old_controller, epoch,
                                           controller_expired ? "expired" : "resumed");
                return false;
            }
            return now_leader > 0 && now_controller > 0 &&
                   metadata_agrees(c, "l", now_controller, now_leader);
        },
        step_limit))
        << disagreement << "\n" << c.logs();
    expired.clear();
    for (int id = 1; id <= replication_cluster::broker_count; ++id) {
        if (c.broker(id).log().find("expired; opening a new one") != std::string::npos) {
            expired.insert(id);
        }
    }
    std::cout << "after the outage: sessions expired for " << expired.size()
              << " of 3 brokers; controller " << now_controller << " epoch "
              << c.controller_epoch() << " (was " << old_controller << ", " << epoch
              << "), leader " << now_leader << " (was " << leader << ")\n";
    EXPECT_TRUE(more_acked(p, progress)) << describe(p) << c.logs();
    EXPECT_TRUE(c.wait_isr("l", {1, 2, 3}, step_limit)) << c.log_lines("ISR");
    expect_nothing_lost(c, "l", p, consumer, {"acks1-long"});
    expect_probe_kept(c, "l", "acks1-long");
}

}  // namespace
}  // namespace gregor::test

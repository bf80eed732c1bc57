// Goal: a real disk failure under one broker's log dir takes only that dir's replicas
// offline, through the controller, while the broker keeps running and serving its other
// dir; producers using acks=all lose nothing; after a restart on a repaired (empty) dir the
// replicas catch up and rejoin the ISR. This is Kafka's LogDirFailureTest situation.
//
// What is asserted (every wait a poll with a generous deadline, no timed assertion):
//   - the broker whose dir failed is still running, and it logged the failure once;
//   - for every partition whose replica lived in the failed dir: ZooKeeper's ISR no longer
//     holds that broker, the partition it led has a new leader from the rest of the ISR,
//     and the Metadata of every broker lists the replica under offline replicas and leaves
//     it out of the ISR;
//   - the partition in the broker's healthy dir keeps it in its ISR all along;
//   - acks=all producing to each partition goes on after the failure;
//   - after the restart on an empty dir, every ISR is complete again;
//   - every acknowledged record is in the final log at the offset the acknowledgement gave
//     (no two acknowledgements share an offset); every record there is one the test sent.
//     A send answered with an error after its append may be retried and written twice
//     (no idempotence, as in Kafka); those copies are counted and printed.
//
// Method: a real ZooKeeper and three `gregor broker` processes with two log dirs each
// (replication_cluster), a topic of three partitions with replication factor 3 and
// min.insync.replicas=2 created by CreateTopics with explicit assignments so that broker 3
// leads partition 0 and follows the others; a librdkafka producer (acks=all) per partition.
// The failure is real, no mount needed: the dir holding partition 0 on broker 3 is removed
// and a regular file put at its path, so the next roll, flush or checkpoint write fails.
#include "integration/replication/acked_producer.h"
#include "integration/replication/partition_reader.h"
#include "integration/replication/replication_checks.h"
#include "integration/replication/replication_cluster.h"
#include "integration/replication/replication_steps.h"
#include "coord/znode_paths.h"
#include "protocol/messages/all.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr auto flush_limit = 60s;
constexpr std::int64_t progress = 100;
constexpr int failing = 3;  // the broker whose dir fails
const std::string topic = "ldf";

// CreateTopics v5 with explicit assignments, sent to the controller. Returns the error code
// (41 when no controller answered).
std::int16_t create_assigned(replication_cluster& c,
                             const std::vector<std::vector<int>>& assignment) {
    std::int16_t error = 41;
    eventually(
        [&] {
            auto node = c.zk().get("/controller");
            if (!node) {
                return false;
            }
            auto ctl = coord::decode_controller(node->data);
            if (!ctl) {
                return false;
            }
            protocol::create_topics_request req;
            protocol::create_topics_request::creatable_topic t;
            t.name = topic;
            t.num_partitions = -1;
            t.replication_factor = -1;
            for (std::size_t p = 0; p < assignment.size(); ++p) {
                auto& a = t.assignments.emplace_back();
                a.partition_index = model::partition_id(static_cast<std::int32_t>(p));
                for (int id : assignment[p]) {
                    a.broker_ids.emplace_back(id);
                }
            }
            t.configs.push_back({"min.insync.replicas", "2", {}});
            req.topics.push_back(t);
            req.timeout_ms = 30000;
            try {
                kafka_socket s(c.broker(ctl->broker()).port());
                bytes raw = s.call(protocol::create_topics_api::key, 5, req);
                protocol::reader r(raw);
                auto resp = protocol::create_topics_response::decode(r, 5);
                error = resp && !resp->topics.empty() ? resp->topics[0].error_code : -1;
            } catch (const std::exception&) {
                error = 41;
            }
            return error != 41;
        },
        step_limit);
    return error;
}

std::optional<coord::partition_state> state_of(replication_cluster& c, int p) {
    auto node = c.zk().get(coord::paths::partition_state(topic, model::partition_id(p)));
    if (!node) {
        return std::nullopt;
    }
    auto s = coord::decode_partition_state(node->data);
    return s ? std::optional(*s) : std::nullopt;
}

bool has(const std::vector<model::node_id>& v, int id) {
    return std::find(v.begin(), v.end(), model::node_id(id)) != v.end();
}

// Metadata v7 of the topic from broker `id`'s point of view; nullopt if it does not answer.
std::optional<protocol::metadata_response> metadata_from(replication_cluster& c, int id) {
    protocol::metadata_request req;
    protocol::metadata_request::metadata_request_topic wanted;
    wanted.name = topic;
    req.topics = std::vector<protocol::metadata_request::metadata_request_topic>{wanted};
    try {
        kafka_socket s(c.broker(id).port());
        bytes raw = s.call(protocol::metadata_api::key, 7, req);
        protocol::reader r(raw);
        auto resp = protocol::metadata_response::decode(r, 7);
        return resp ? std::optional(*resp) : std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Whether every broker's Metadata shows broker `failing` offline and out of the ISR for
// every partition in `offline`, and in the ISR of the others.
bool metadata_shows_offline(replication_cluster& c, const std::set<int>& offline) {
    for (int id = 1; id <= replication_cluster::broker_count; ++id) {
        auto md = metadata_from(c, id);
        if (!md || md->topics.size() != 1) {
            return false;
        }
        for (const auto& p : md->topics[0].partitions) {
            bool gone = offline.contains(p.partition_index());
            if (has(p.offline_replicas, failing) != gone || has(p.isr_nodes, failing) == gone ||
                p.leader_id() == (gone ? failing : -1)) {
                return false;
            }
        }
    }
    return true;
}

// The partitions whose directory is in `dir`.
std::set<int> partitions_in(const std::filesystem::path& dir) {
    std::set<int> out;
    for (int p = 0; p < 3; ++p) {
        if (std::filesystem::is_directory(dir / fmt::format("{}-{}", topic, p))) {
            out.insert(p);
        }
    }
    return out;
}

// Every acknowledged record of `p` is in the final log of `partition` at the offset its
// acknowledgement gave (that copy is the one read back for it), and the log holds only
// records the test sent. Without idempotence a send answered with an error after its
// append (the leader lost its dir, or the leader epoch moved while acks=all waited) is
// retried by librdkafka and may be written twice; such copies are counted, not failed.
void expect_acked_kept(replication_cluster& c, int partition, acked_producer& p) {
    auto s = state_of(c, partition);
    ASSERT_TRUE(s && s->leader() > 0);
    auto log = read_to_high_watermark(c.broker(s->leader()).port(), topic, partition);
    ASSERT_EQ(log.error, "") << c.logs();
    EXPECT_EQ(check_acknowledged(log.records, p.prefix(), p.acked()), "") << describe(p);
    EXPECT_EQ(check_only_sent(log.records, {{p.prefix(), p.sent()}}, {}), "");
    std::set<std::int64_t> acked_offsets;
    for (const auto& a : p.acked()) {
        EXPECT_TRUE(acked_offsets.insert(a.offset).second)
            << "two acknowledgements for offset " << a.offset;
    }
    std::cout << describe(p) << "; partition " << partition << " holds " << log.records.size()
              << " records, " << duplicates(log.records) << " values written twice\n";
}

// Every partition has a full ISR in ZooKeeper and no broker's Metadata shows an offline
// replica.
bool all_in_sync(replication_cluster& c) {
    for (int p = 0; p < 3; ++p) {
        auto s = state_of(c, p);
        if (!s || s->isr.size() != 3) {
            return false;
        }
    }
    return metadata_shows_offline(c, {});
}

// ZooKeeper and every broker's Metadata show broker `failing` out of the ISR and leadership
// of each partition in `offline`.
bool taken_offline(replication_cluster& c, const std::set<int>& offline) {
    for (int p : offline) {
        auto s = state_of(c, p);
        if (!s || has(s->isr, failing) || s->leader() == failing || s->leader() < 0) {
            return false;
        }
    }
    return metadata_shows_offline(c, offline);
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

// Checks made while the dir is offline: the broker runs and logged it once, its healthy dir
// keeps its replica in sync, the controller journalled the decisions, producing goes on.
void expect_degraded_but_serving(replication_cluster& c, const std::set<int>& offline,
                                 std::vector<std::unique_ptr<acked_producer>>& producers) {
    EXPECT_FALSE(c.broker(failing).wait_exit(0ms)) << "the broker must keep running";
    for (int p = 0; p < 3; ++p) {
        if (!offline.contains(p)) {
            EXPECT_TRUE(has(state_of(c, p)->isr, failing)) << "healthy dir, partition " << p;
        }
    }
    for (auto& p : producers) {
        EXPECT_TRUE(more_acked(*p, progress)) << describe(*p) << c.logs();
    }
    EXPECT_EQ(occurrences(c.broker(failing).log(), "LOG DIR OFFLINE"), 1U)
        << c.log_lines("OFFLINE");
    EXPECT_NE(c.log_lines("log dir failure on broker 3"), "") << "the controller's journal";
}

TEST(log_dir_failure, a_failed_dir_takes_its_replicas_offline_and_the_broker_keeps_serving) {
    replication_cluster c({{"log.dirs", "{dir}/data-a,{dir}/data-b"},
                           {"replica.high.watermark.checkpoint.interval.ms", "1000"}});
    // Broker 3 leads partition 0 and follows 1 and 2; partitions land in its dirs in turn.
    ASSERT_EQ(create_assigned(c, {{3, 1, 2}, {1, 3, 2}, {2, 3, 1}}), 0) << c.logs();
    ASSERT_TRUE(eventually([&] { return all_in_sync(c); }, step_limit)) << c.logs();
    const auto& dirs = c.broker(failing).log_dirs();
    ASSERT_EQ(dirs.size(), 2U);
    const auto failed_dir = partitions_in(dirs[0]).contains(0) ? dirs[0] : dirs[1];
    const std::set<int> offline = partitions_in(failed_dir);
    ASSERT_TRUE(offline.contains(0));
    ASSERT_LT(offline.size(), 3U) << "the other dir must hold a partition";
    std::vector<std::unique_ptr<acked_producer>> producers;
    for (int p = 0; p < 3; ++p) {
        producers.push_back(std::make_unique<acked_producer>(
            producer_options{.bootstrap = c.bootstrap(), .topic = topic, .partition = p,
                             .prefix = fmt::format("p{}", p)}));
    }
    for (auto& p : producers) {
        ASSERT_TRUE(more_acked(*p, progress)) << describe(*p) << c.logs();
    }
    // The disk under the dir goes: the dir is replaced by a regular file. Renamed away, not
    // removed: the broker may be creating files in it meanwhile, and a recursive removal
    // racing with that fails ("Directory not empty"). Files it holds open stay writable
    // either way, as after a removal; every path under the dir now fails.
    std::filesystem::rename(failed_dir, failed_dir.string() + ".gone");
    std::ofstream(failed_dir) << "not a directory\n";
    EXPECT_TRUE(eventually([&] { return taken_offline(c, offline); }, step_limit)) << c.logs();
    expect_degraded_but_serving(c, offline, producers);
    // Repaired: restart on an empty dir; the replicas catch up and rejoin every ISR.
    c.broker(failing).kill_now();
    // Its registration goes with its ZooKeeper session (the new process cannot tell it apart
    // from another broker's).
    ASSERT_TRUE(c.zk().wait_for([&] { return !c.zk().get("/brokers/ids/3"); }, step_limit));
    std::filesystem::remove(failed_dir);
    std::filesystem::create_directories(failed_dir);
    c.broker(failing).restart();
    ASSERT_TRUE(c.wait_registered(failing, step_limit)) << c.logs();
    EXPECT_TRUE(eventually([&] { return all_in_sync(c); }, step_limit)) << c.log_lines("ISR");
    for (auto& p : producers) {
        EXPECT_TRUE(more_acked(*p, progress / 2)) << describe(*p);
        EXPECT_TRUE(p->stop(flush_limit)) << describe(*p);
    }
    for (int p = 0; p < 3; ++p) {
        expect_acked_kept(c, p, *producers[static_cast<std::size_t>(p)]);
    }
}

}  // namespace
}  // namespace gregor::test

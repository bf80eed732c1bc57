// replication_steps: the steps and end checks the replication and ZooKeeper-outage suites
// share: waiting for a producer's progress, one raw Produce, and the final "nothing lost"
// verdict (every acknowledged record at its offset, only sent values, the consumer served
// only committed records, every replica holding the leader's records below the high
// watermark). Test thread only; failures are reported through gtest.
#pragma once

#include "integration/replication/acked_producer.h"
#include "integration/replication/partition_reader.h"
#include "integration/replication/replication_cluster.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace gregor::test {

inline constexpr std::chrono::seconds step_limit{60};   // one failover, restart or ISR change
inline constexpr std::chrono::seconds flush_limit{60};  // outstanding delivery reports
inline constexpr std::int64_t progress = 150;  // acknowledgements that show producing works
inline const std::map<std::string, std::string> min_isr_2{{"min.insync.replicas", "2"}};

std::set<int> all_but(int id);

// Waits until `p` has `more` acknowledgements beyond what it had on entry.
bool more_acked(const acked_producer& p, std::int64_t more);

// "producer r: sent N, acknowledged M, failed '...' xK", for failure messages.
std::string describe(const acked_producer& p);

// One Produce (v7) of a single record with `acks` straight to `port`; error -1 when no
// answer came (certainly not an acknowledgement).
struct produce_answer {
    std::int16_t error = -1;
    std::int64_t base_offset = -1;
};
produce_answer produce_raw(std::uint16_t port, const std::string& topic, const std::string& value,
                           std::int16_t acks, std::int32_t partition = 0);

// What the leader serves from offset 0 to its high watermark.
read_back final_log(replication_cluster& c, const std::string& topic);

// Polls until every broker's segment files hold the leader's records below the high
// watermark; fails the test with the differences if they never do.
void expect_replicas_converge(replication_cluster& c, const std::string& topic,
                              const read_back& leader);

// Stops the clients and checks the final log against them (see replication_test.cc).
// `probes` are values the test wrote itself besides the producer's.
void expect_nothing_lost(replication_cluster& c, const std::string& topic, acked_producer& p,
                         tailing_reader& consumer, const std::set<std::string>& probes = {});

}  // namespace gregor::test

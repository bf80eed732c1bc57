#include "integration/replication/replication_steps.h"

#include "integration/replication/replication_checks.h"
#include "protocol/messages/all.h"
#include "protocol/records/batch_builder.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

namespace gregor::test {

using namespace std::chrono_literals;

std::set<int> all_but(int id) {
    std::set<int> out{1, 2, 3};
    out.erase(id);
    return out;
}

// Waits until `p` has `more` acknowledgements beyond what it had on entry.
bool more_acked(const acked_producer& p, std::int64_t more) {
    std::int64_t target = p.acked_count() + more;
    return eventually([&] { return p.acked_count() >= target; }, step_limit);
}

std::string describe(const acked_producer& p) {
    std::string out = fmt::format("producer {}: sent {}, acknowledged {}", p.prefix(), p.sent(),
                                  p.acked_count());
    for (const auto& [error, count] : p.failures()) {
        out += fmt::format(", failed '{}' x{}", error, count);
    }
    return out;
}

produce_answer produce_raw(std::uint16_t port, const std::string& topic, const std::string& value,
                           std::int16_t acks, std::int32_t partition) {
    bytes v(value.begin(), value.end());
    protocol::record_input rec{std::nullopt, bytes_view(v), {}, model::timestamp_ms(0)};
    auto batch = protocol::build_batch({&rec, 1}, {});
    protocol::produce_request req;
    req.acks = acks;
    req.timeout_ms = 5000;
    req.topic_data.push_back(
        {topic,
         {{model::partition_id(partition), protocol::records_ref(bytes_view(*batch)), {}}},
         {}});
    try {
        kafka_socket s(port);
        bytes raw = s.call(protocol::produce_api::key, 7, req);
        protocol::reader r(raw);
        auto resp = protocol::produce_response::decode(r, 7);
        if (!resp || resp->responses.empty() || resp->responses[0].partition_responses.empty()) {
            return {};
        }
        const auto& p = resp->responses[0].partition_responses[0];
        return {p.error_code, p.base_offset()};
    } catch (const std::exception&) {
        return {};  // no answer: certainly not an acknowledgement
    }
}

// What the leader serves from offset 0 to its high watermark.
read_back final_log(replication_cluster& c, const std::string& topic) {
    // Polled: the test's own ZooKeeper session may be re-opening after a long wait, a leader
    // may be between elections, and leadership may move back to a restarted preferred
    // replica while the log is read (the read then fails NOT_LEADER_OR_FOLLOWER).
    read_back out;
    out.error = "no leader";
    eventually(
        [&] {
            int leader = c.leader(topic);
            if (leader < 0) {
                out.error = "no leader";
                return false;
            }
            out = read_to_high_watermark(c.broker(leader).port(), topic, 0);
            return out.error.empty();
        },
        step_limit);
    return out;
}

// e: polls until every broker's segment files hold the leader's records below the high
// watermark; fails the test with the differences if they never do.
void expect_replicas_converge(replication_cluster& c, const std::string& topic,
                              const read_back& leader) {
    std::map<int, std::string> differences;
    bool same = eventually(
        [&] {
            differences.clear();
            for (int id = 1; id <= replication_cluster::broker_count; ++id) {
                auto disk = read_log_dir(c.partition_dir(id, topic));
                auto d = check_same_below(leader.records, disk, leader.high_watermark);
                if (!d.empty()) {
                    differences[id] = d;
                }
            }
            return differences.empty();
        },
        step_limit);
    for (const auto& [id, d] : differences) {
        ADD_FAILURE() << "broker " << id << "'s copy of " << topic << " differs:\n" << d;
    }
    EXPECT_TRUE(same) << c.log_lines("truncat") << c.log_lines("ISR");
}

// a, c, e after the failure: stops the clients and checks the final log against them.
void expect_nothing_lost(replication_cluster& c, const std::string& topic, acked_producer& p,
                         tailing_reader& consumer, const std::set<std::string>& probes) {
    EXPECT_TRUE(p.stop(flush_limit)) << describe(p);
    consumer.stop();
    auto log = final_log(c, topic);
    ASSERT_EQ(log.error, "") << c.logs();
    std::cout << describe(p) << "; final log: " << log.records.size() << " records, high watermark "
              << log.high_watermark << ", " << duplicates(log.records)
              << " values written twice, " << send_order_inversions(p.acked())
              << " acknowledgements out of send order; consumer saw " << consumer.seen().size()
              << " records\n";
    EXPECT_GE(p.acked_count(), 2 * progress) << describe(p);
    EXPECT_EQ(check_acknowledged(log.records, p.prefix(), p.acked()), "")
        << describe(p) << "\n" << c.log_lines("truncat") << c.log_lines("leader");
    EXPECT_EQ(check_only_sent(log.records, {{p.prefix(), p.sent()}}, probes), "");
    EXPECT_EQ(check_consumer_saw_committed(log.records, consumer.seen()), "");
    for (const auto& a : consumer.anomalies()) {
        ADD_FAILURE() << "consumer: " << a;
    }
    expect_replicas_converge(c, topic, log);
}

}  // namespace gregor::test

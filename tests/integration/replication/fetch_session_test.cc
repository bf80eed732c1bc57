// Goal: incremental fetch sessions (KIP-227) work as Kafka's clients and brokers expect:
//   a. followers replicate through sessions: acks=all writes to every partition of an RF 3
//      topic succeed round after round (each needs both followers' new positions, which
//      only incremental fetches carry), and each leader's session cache holds exactly the
//      partitions its followers follow (kafka_server_fetchsessioncache_* on /metrics);
//   b. a consumer's session follows Kafka's rules on the wire: a full fetch with epoch 0
//      creates one, an idle incremental fetch is answered with no partitions, only the
//      partition with a new record (or a new position) is answered, a reused epoch is
//      INVALID_FETCH_SESSION_EPOCH (71), an unknown id FETCH_SESSION_ID_NOT_FOUND (70),
//      and a fetch that forgets every partition closes the session.
// Method: a real ZooKeeper and three `gregor broker` processes with auto-created topics of
// six partitions, RF 3; raw Produce and Fetch v12 requests; /metrics read over HTTP.
#include "admin/http_get.h"
#include "integration/replication/partition_reader.h"
#include "integration/replication/replication_steps.h"
#include "protocol/messages/all.h"
#include "support/broker_process.h"
#include "support/process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <regex>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
using fetch_request = protocol::fetch_request;
using fetch_response = protocol::fetch_response;

constexpr int partitions = 6;
constexpr std::int16_t fetch_version = 12;

struct cluster {
    zookeeper_server zk;
    std::vector<std::unique_ptr<broker_process>> brokers =
        start_http_brokers(zk.connect_string(), 3, partitions);

    std::uint16_t port_of(int id) const {
        return brokers.at(static_cast<std::size_t>(id - 1))->port();
    }
};

// Every partition's leader (broker id), once each of the topic's partitions has one. A
// Metadata request naming the topic creates it (num.partitions 6, RF 3).
std::map<int, int> leaders(const cluster& c, const std::string& topic) {
    std::map<int, int> out;
    eventually(
        [&] {
            try {
                kafka_socket s(c.brokers[0]->port());
                protocol::metadata_request req;
                req.topics = std::vector<protocol::metadata_request::metadata_request_topic>{};
                req.topics->emplace_back().name = topic;
                req.allow_auto_topic_creation = true;
                s.call(protocol::metadata_api::key, 9, req);
            } catch (const std::exception&) {
                return false;
            }
            out.clear();
            for (int p = 0; p < partitions; ++p) {
                auto l = leader_of(c.brokers[0]->port(), topic, p);
                if (!l) {
                    return false;
                }
                out[p] = l->id;
            }
            return true;
        },
        30s);
    return out;
}

// A metric's value on broker `b`'s /metrics, or -1.
double metric(const broker_process& b, const std::string& name) {
    auto r = admin::http_get(fmt::format("127.0.0.1:{}", b.http_port()), "/metrics", 10s);
    if (!r || r->status != 200) {
        return -1;
    }
    std::smatch m;
    if (!std::regex_search(r->body, m, std::regex("\n" + name + " ([0-9.e+]+)"))) {
        return -1;
    }
    return std::stod(m[1]);
}

fetch_response fetch(kafka_socket& s, const fetch_request& req) {
    bytes raw = s.call(protocol::fetch_api::key, fetch_version, req);
    protocol::reader r(raw);
    auto decoded = fetch_response::decode(r, fetch_version);
    if (!decoded) {
        throw std::runtime_error("malformed Fetch response");
    }
    return std::move(*decoded);
}

fetch_request consumer_fetch(std::int32_t session, std::int32_t epoch,
                             std::chrono::milliseconds wait) {
    fetch_request req;
    req.replica_id = model::node_id(-1);
    req.max_wait_ms = static_cast<std::int32_t>(wait.count());
    req.min_bytes = 1;
    req.session_id = session;
    req.session_epoch = epoch;
    return req;
}

void name(fetch_request& req, const std::string& topic, int partition, std::int64_t offset) {
    if (req.topics.empty() || req.topics.back().topic != topic) {
        req.topics.emplace_back().topic = topic;
    }
    auto& p = req.topics.back().partitions.emplace_back();
    p.partition = model::partition_id(partition);
    p.fetch_offset = model::offset(offset);
    p.partition_max_bytes = 1 << 20;
}

// The answered partitions, as "partition:high watermark:records bytes".
std::vector<std::string> answered(const fetch_response& r) {
    std::vector<std::string> out;
    for (const auto& t : r.responses) {
        for (const auto& p : t.partitions) {
            out.push_back(fmt::format("{}:{}:{}", p.partition_index(), p.high_watermark(),
                                      p.records && p.records->size() > 0 ? 1 : 0));
        }
    }
    return out;
}

TEST(fetch_sessions, followers_replicate_through_sessions_the_leaders_account_for) {
    cluster c;
    ASSERT_TRUE(wait_brokers_known(c.brokers, 60s));
    const std::string topic = "sessions";
    std::map<int, int> led_by = leaders(c, topic);
    ASSERT_EQ(led_by.size(), static_cast<std::size_t>(partitions));
    for (int round = 0; round < 5; ++round) {
        for (const auto& [p, leader] : led_by) {
            int error = -1;
            EXPECT_TRUE(eventually(
                [&] {
                    error = produce_raw(c.port_of(leader), topic, fmt::format("r{}", round), -1, p)
                                .error;
                    return error == 0;
                },
                30s))
                << "partition " << p << " round " << round << ": error " << error;
        }
    }
    // Each partition is in one session on its leader per follower: 2 × 6, over the brokers.
    double cached = 0;
    double sessions = 0;
    EXPECT_TRUE(eventually(
        [&] {
            cached = 0;
            sessions = 0;
            for (const auto& b : c.brokers) {
                cached += metric(
                    *b, "kafka_server_fetchsessioncache_numincrementalfetchpartitionscached");
                sessions +=
                    metric(*b, "kafka_server_fetchsessioncache_numincrementalfetchsessions");
            }
            return cached == 2 * partitions;
        },
        30s))
        << "partitions cached " << cached;
    // One session per (follower, leader) pair that shares a partition: at most 3 × 2.
    EXPECT_GE(sessions, 2);
    EXPECT_LE(sessions, 6);
}

TEST(fetch_sessions, a_consumer_session_answers_only_what_changed) {
    cluster c;
    ASSERT_TRUE(wait_brokers_known(c.brokers, 60s));
    const std::string topic = "consumed";
    std::map<int, int> led_by = leaders(c, topic);
    // Two partitions with the same leader (six over three brokers: each leads some).
    int leader = led_by.at(0);
    int a = 0;
    int b = -1;
    for (const auto& [p, l] : led_by) {
        if (p != a && l == leader) {
            b = p;
            break;
        }
    }
    ASSERT_NE(b, -1) << "no two partitions share a leader";
    // Partition a holds a record at offset 0 (acks=all: the high watermark is past it).
    ASSERT_TRUE(eventually(
        [&] { return produce_raw(c.port_of(leader), topic, "old", -1, a).error == 0; }, 30s));
    kafka_socket s(c.port_of(leader));
    fetch_request full = consumer_fetch(0, 0, 0ms);
    name(full, topic, a, 1);
    name(full, topic, b, 0);
    fetch_response r0 = fetch(s, full);
    EXPECT_EQ(answered(r0),
              (std::vector<std::string>{fmt::format("{}:1:0", a), fmt::format("{}:0:0", b)}));
    const std::int32_t id = r0.session_id;
    ASSERT_NE(id, 0);

    // Nothing changed: no partitions.
    fetch_response idle = fetch(s, consumer_fetch(id, 1, 200ms));
    EXPECT_EQ(idle.error_code, 0);
    EXPECT_EQ(idle.session_id, id);
    EXPECT_TRUE(answered(idle).empty()) << fmt::format("{}", answered(idle));

    // A record in b: only b, with it.
    ASSERT_EQ(produce_raw(c.port_of(leader), topic, "news", -1, b).error, 0);
    fetch_response news = fetch(s, consumer_fetch(id, 2, 2000ms));
    EXPECT_EQ(news.session_id, id);
    EXPECT_EQ(answered(news), std::vector<std::string>{fmt::format("{}:1:1", b)});

    // b's new position: answered (told its state again), a not.
    fetch_request moved = consumer_fetch(id, 3, 200ms);
    name(moved, topic, b, 1);
    EXPECT_EQ(answered(fetch(s, moved)), std::vector<std::string>{fmt::format("{}:1:0", b)});

    // The epoch just used, and an unknown session.
    EXPECT_EQ(fetch(s, consumer_fetch(id, 3, 0ms)).error_code, 71);
    EXPECT_EQ(fetch(s, consumer_fetch(id == 1 ? 2 : 1, 1, 0ms)).error_code, 70);

    // Forgetting every partition closes the session.
    fetch_request forget = consumer_fetch(id, 4, 0ms);
    forget.forgotten_topics_data.push_back(
        {topic, {}, {model::partition_id(a), model::partition_id(b)}, {}});
    fetch_response closed = fetch(s, forget);
    EXPECT_EQ(closed.error_code, 0);
    EXPECT_EQ(closed.session_id, 0);
    EXPECT_EQ(fetch(s, consumer_fetch(id, 5, 0ms)).error_code, 70);
}

}  // namespace
}  // namespace gregor::test

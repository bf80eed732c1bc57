// Goal: once a controller has made it leader of a partition (UpdateMetadata + LeaderAndIsr
// sent over its socket), a real broker serves real clients: kcat (librdkafka) and
// kafka-python each produce 100,000 records and read every one back identical and in order.
// Method: a real ZooKeeper, the real gregor binary, controller requests encoded with the
// generated structs, and the Debian kcat and python3-kafka packages as clients.
#include "support/broker_process.h"
#include "model/record_batch.h"
#include "protocol/messages/all.h"
#include "support/zookeeper_server.h"

#include <gtest/gtest.h>

#include <fstream>
#include <utility>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
using namespace protocol;
using model::node_id;
using model::partition_id;

constexpr int record_count = 100'000;

zookeeper_server& zk_server() {
    static zookeeper_server server;
    return server;
}

leader_and_isr_partition_state led_by_one() {
    leader_and_isr_partition_state s;
    s.partition_index = partition_id(0);
    s.controller_epoch = model::controller_epoch(1);
    s.leader = node_id(1);
    s.leader_epoch = model::leader_epoch(1);
    s.isr = s.replicas = {node_id(1)};
    s.is_new = true;
    return s;
}

// Acts as controller (id 1, epoch 1): makes broker 1 the only replica and leader of
// partition 0 of each topic.
void make_leader(std::uint16_t port, const std::vector<std::string>& topics) {
    kafka_socket s(port);
    update_metadata_request um;
    um.controller_id = node_id(1);
    um.controller_epoch = model::controller_epoch(1);
    um.live_brokers.push_back(
        {node_id(1), "", 0, {{port, "127.0.0.1", "PLAINTEXT", 0, {}}}, std::nullopt, {}});
    leader_and_isr_request la;
    la.controller_id = node_id(1);
    la.controller_epoch = model::controller_epoch(1);
    for (const auto& t : topics) {
        update_metadata_partition_state ps;
        auto l = led_by_one();
        ps.partition_index = l.partition_index;
        ps.controller_epoch = l.controller_epoch;
        ps.leader = l.leader;
        ps.leader_epoch = l.leader_epoch;
        ps.isr = l.isr;
        ps.replicas = l.replicas;
        um.topic_states.push_back({t, {}, {ps}, {}});
        la.topic_states.push_back({t, {}, {l}, {}});
    }
    bytes um_resp = s.call(update_metadata_api::key, 7, um);
    reader r1(um_resp);
    auto umr = update_metadata_response::decode(r1, 7);
    ASSERT_TRUE(umr);
    ASSERT_EQ(umr->error_code, 0);
    bytes la_resp = s.call(leader_and_isr_api::key, 6, la);
    reader r2(la_resp);
    auto lar = leader_and_isr_response::decode(r2, 6);
    ASSERT_TRUE(lar);
    ASSERT_EQ(lar->error_code, 0);
    for (const auto& t : lar->topics) {
        for (const auto& p : t.partition_errors) {
            ASSERT_EQ(p.error_code, 0);
        }
    }
}

struct data_path : ::testing::Test {
    std::unique_ptr<broker_process> broker;
    std::string bootstrap;

    void SetUp() override {
        broker = std::make_unique<broker_process>(
            std::map<std::string, std::string>{{"zookeeper.connect", zk_server().connect_string()},
                                               {"auto.create.topics.enable", "false"}});
        ASSERT_TRUE(broker->wait_listening(60s)) << broker->log();
        bootstrap = "127.0.0.1:" + std::to_string(broker->port());
        make_leader(broker->port(), {"kc", "py"});
    }
};

TEST_F(data_path, kcat_produces_and_consumes_100000_records_in_order) {
    std::string file = "/tmp/gregor-kcat-" + std::to_string(::getpid()) + ".txt";
    std::string expected;
    for (int i = 0; i < record_count; ++i) {
        expected += fmt::format("kc-{:06}\n", i);
    }
    std::ofstream(file) << expected;
    auto produced = run_command(
        fmt::format("kcat -P -b {} -t kc -p 0 -X acks=all -z lz4 -l {} 2>&1", bootstrap, file));
    std::remove(file.c_str());
    ASSERT_EQ(produced.status, 0) << produced.out << broker->log();
    auto consumed = run_command(fmt::format(
        "kcat -C -b {} -t kc -p 0 -o beginning -c {} -e -q 2>/dev/null", bootstrap, record_count));
    ASSERT_EQ(consumed.status, 0) << broker->log();
    EXPECT_EQ(consumed.out.size(), expected.size());
    EXPECT_TRUE(consumed.out == expected) << "records differ";
}

TEST_F(data_path, kafka_python_produces_and_consumes_100000_records_in_order) {
    auto r = run_command(fmt::format("/usr/bin/python3 {}/clients.py {} py {} 2>&1",
                                     GREGOR_BROKER_TEST_DIR, bootstrap, record_count));
    EXPECT_EQ(r.status, 0) << r.out << broker->log();
    EXPECT_NE(r.out.find("ok 100000"), std::string::npos) << r.out;
}

// Reads the attributes of the first record batch of partition 0 of `topic`, via Fetch v4.
int first_batch_codec(std::uint16_t port, const std::string& topic) {
    kafka_socket s(port);
    fetch_request req;
    req.max_wait_ms = 0;
    req.max_bytes = 1 << 20;
    req.topics.push_back(
        {topic, {}, {{partition_id(0), {}, model::offset(0), {}, {}, 1 << 20, {}}}, {}});
    bytes resp = s.call(fetch_api::key, 4, req);
    reader r(resp);
    auto fr = fetch_response::decode(r, 4);
    if (!fr || fr->responses.empty() || fr->responses[0].partitions.empty()) {
        return -1;
    }
    const auto& records = fr->responses[0].partitions[0].records;
    if (!records || records->size() < model::batch_header_bytes) {
        return -1;
    }
    return records->data()[22] & 0x07;  // low byte of the big-endian attributes at offset 21
}

// librdkafka 2.0.2 decides from ApiVersions whether the broker "supports" a codec: gzip and
// snappy need Produce v0 listed, lz4 FindCoordinator v0, zstd Produce v7. If gregor's
// advertisement drifts, kcat silently sends uncompressed batches; this catches it.
TEST_F(data_path, kcat_compresses_with_every_codec_it_is_asked_for) {
    const std::pair<const char*, int> codecs[] = {
        {"gzip", 1}, {"snappy", 2}, {"lz4", 3}, {"zstd", 4}};
    std::vector<std::string> topics;
    for (auto [name, _] : codecs) {
        topics.push_back(std::string("z-") + name);
    }
    make_leader(broker->port(), topics);
    for (auto [name, codec] : codecs) {
        std::string topic = std::string("z-") + name;
        auto produced = run_command(fmt::format(
            "seq 1 200 | sed 's/^/record-with-compressible-padding-padding-padding-/' | "
            "kcat -P -b {} -t {} -p 0 -z {} -X linger.ms=50 2>&1",
            bootstrap, topic, name));
        ASSERT_EQ(produced.status, 0) << produced.out;
        EXPECT_EQ(first_batch_codec(broker->port(), topic), codec) << name;
    }
}

}  // namespace
}  // namespace gregor::test

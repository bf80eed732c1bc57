// Goal: producer ids for idempotent producers work across a real cluster as in Kafka's
// ZooKeeper mode: three brokers answer many InitProducerId requests, two of them restart in
// between (kill -9 and a clean stop), and no producer id is ever handed out twice, no block
// of 1000 ids is used by two brokers, a restarted broker continues in a new block, and
// /latest_producer_id_block holds Kafka's JSON. A real client, confluent_kafka (librdkafka)
// with enable.idempotence=true, acquires a producer id from a one-broker cluster instead of
// failing with "Idempotent producer not supported", and produces with it.
// Method: a real ZooKeeper and real `gregor broker` processes; InitProducerId frames encoded
// with the generated structs on blocking sockets; the Python client run with Debian's
// /usr/bin/python3 (tests/integration/producer/idempotent_producer.py).
#include "coord/errc.h"
#include "coord/znode_json.h"
#include "model/kafka_error.h"
#include "protocol/messages/all.h"
#include "support/broker_process.h"
#include "support/zookeeper_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>
#include <utility>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
using model::kafka_error;

constexpr std::int16_t init_pid_version = 4;
constexpr std::int64_t block_ids = 1000;

// One InitProducerId exchange: the error and the id.
std::pair<kafka_error, std::int64_t> init_producer_id_once(kafka_socket& socket) {
    protocol::init_producer_id_request req;
    req.transactional_id = std::nullopt;
    req.transaction_timeout_ms = -1;
    bytes body = socket.call(protocol::init_producer_id_api::key, init_pid_version, req);
    protocol::reader r(body);
    auto resp = protocol::init_producer_id_response::decode(r, init_pid_version);
    EXPECT_TRUE(resp);
    if (!resp) {
        return {kafka_error::unknown_server_error, -1};
    }
    if (resp->error_code == 0) {
        EXPECT_EQ(resp->producer_epoch, 0);
    }
    return {static_cast<kafka_error>(resp->error_code), resp->producer_id()};
}

// Asks broker at `port` for a producer id as an idempotent producer does, retrying the
// retriable answers (a block being claimed, a broker not yet registered) for up to 60 s.
// Returns the id, or -1 after a non-retriable error or the deadline.
std::int64_t init_producer_id(kafka_socket& socket) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto [e, id] = init_producer_id_once(socket);
        if (e == kafka_error::none) {
            return id;
        }
        if (e != kafka_error::coordinator_load_in_progress &&
            e != kafka_error::coordinator_not_available) {
            ADD_FAILURE() << "InitProducerId answered error " << static_cast<int>(e);
            return -1;
        }
        std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "InitProducerId kept answering retriable errors for 60 s";
    return -1;
}

struct producer_ids_cluster : ::testing::Test {
    zookeeper_server zk_server;
    std::map<int, std::unique_ptr<broker_process>> brokers;
    std::map<int, std::unique_ptr<kafka_socket>> sockets;
    // Every id handed out, with the broker that handed it out.
    std::map<std::int64_t, int> handed_out;

    void start_brokers(int count) {
        for (int id = 1; id <= count; ++id) {
            brokers[id] = std::make_unique<broker_process>(std::map<std::string, std::string>{
                {"broker.id", std::to_string(id)},
                {"zookeeper.connect", zk_server.connect_string()},
                {"zookeeper.session.timeout.ms", "6000"}});
        }
        for (auto& [id, b] : brokers) {
            ASSERT_TRUE(b->wait_listening(60s)) << b->log();
            connect(id);
        }
    }
    void connect(int id) { sockets[id] = std::make_unique<kafka_socket>(brokers[id]->port()); }

    // `rounds` ids from each broker in `ids`, round robin; every one must be new.
    void take_ids(const std::vector<int>& ids, int rounds) {
        for (int i = 0; i < rounds; ++i) {
            for (int id : ids) {
                std::int64_t pid = init_producer_id(*sockets[id]);
                ASSERT_GE(pid, 0) << brokers[id]->log();
                auto [it, fresh] = handed_out.emplace(pid, id);
                ASSERT_TRUE(fresh) << "producer id " << pid << " from broker " << id
                                   << " was handed out before by broker " << it->second;
            }
        }
    }
    std::int64_t highest_from(int id) const {
        std::int64_t out = -1;
        for (const auto& [pid, broker] : handed_out) {
            if (broker == id) {
                out = std::max(out, pid);
            }
        }
        return out;
    }
    std::int64_t lowest_from_since(int id, std::int64_t above) const {
        for (const auto& [pid, broker] : handed_out) {
            if (broker == id && pid > above) {
                return pid;
            }
        }
        return -1;
    }
};

TEST_F(producer_ids_cluster, no_id_is_handed_out_twice_across_brokers_and_restarts) {
    start_brokers(3);
    // Broker 1 goes through its first block (prefetching the second); 2 and 3 stay inside.
    take_ids({1}, 1100);
    take_ids({1, 2, 3}, 300);

    // Broker 2 dies hard, broker 3 stops cleanly; both come back on the same data dirs.
    std::map<int, std::int64_t> before_restart{{2, highest_from(2)}, {3, highest_from(3)}};
    sockets.erase(2);
    sockets.erase(3);
    brokers[2]->kill_now();
    brokers[3]->signal(SIGTERM);
    ASSERT_TRUE(brokers[3]->wait_exit(60s).has_value()) << brokers[3]->log();
    take_ids({1}, 200);  // broker 1 keeps serving meanwhile
    // Broker 2's registration lingers until its session expires; a broker does not start
    // while another session holds its id (Kafka's rule).
    {
        zk_reader zk(zk_server.connect_string());
        ASSERT_TRUE(zk.wait_for([&] { return !zk.get("/brokers/ids/2").has_value(); }, 60s));
    }
    for (int id : {2, 3}) {
        brokers[id]->restart();
        ASSERT_TRUE(brokers[id]->wait_listening(60s)) << brokers[id]->log();
        connect(id);
    }
    take_ids({1, 2, 3}, 300);

    // A restarted broker never continues its old block: its next id opens a new block.
    for (int id : {2, 3}) {
        std::int64_t first_after = lowest_from_since(id, before_restart[id]);
        ASSERT_GE(first_after, 0);
        EXPECT_EQ(first_after % block_ids, 0) << "broker " << id;
        EXPECT_GT(first_after / block_ids, before_restart[id] / block_ids) << "broker " << id;
    }
    // No block of 1000 ids served two brokers.
    std::map<std::int64_t, int> block_owner;
    for (const auto& [pid, id] : handed_out) {
        auto [it, fresh] = block_owner.emplace(pid / block_ids, id);
        EXPECT_EQ(it->second, id) << "block " << pid / block_ids << " used by two brokers";
    }
    EXPECT_EQ(handed_out.size(), 1100u + 900u + 200u + 900u);

    // The znode is Kafka's JSON, naming the newest block, above every id handed out.
    zk_reader zk(zk_server.connect_string());
    auto node = zk.get("/latest_producer_id_block");
    ASSERT_TRUE(node.has_value());
    EXPECT_TRUE(std::regex_match(
        node->data, std::regex(R"re(\{"version":1,"broker":[123],"block_start":"(0|[1-9][0-9]*)")re"
                               R"re(,"block_end":"[1-9][0-9]*"\})re")))
        << node->data;
    auto block = coord::decode_producer_id_block(node->data);
    ASSERT_TRUE(block) << node->data;
    EXPECT_EQ(coord::encode_producer_id_block(*block), node->data);
    EXPECT_EQ(block->block_end() - block->block_start() + 1, block_ids);
    EXPECT_GE(block->block_end(), handed_out.rbegin()->first);
    // Two blocks for broker 1's first 1100, then one more per broker and restart at least.
    EXPECT_GE(block->block_start() / block_ids, 5);
    EXPECT_EQ(node->stat.ephemeral_owner, coord::no_session);
}

// ZooKeeper stops while a broker hands out ids: the ids it holds (the rest of its block and
// the prefetched one) keep coming, then requests answer COORDINATOR_LOAD_IN_PROGRESS at once
// (retriable, no hang), and once ZooKeeper is back the broker claims a new block by itself.
TEST_F(producer_ids_cluster, a_zookeeper_outage_gives_retriable_errors_then_ids_again) {
    start_brokers(1);
    take_ids({1}, 950);  // the block after [0, 999] is claimed at id 900
    {
        zk_reader zk(zk_server.connect_string());
        ASSERT_TRUE(zk.wait_for(
            [&] {
                auto node = zk.get("/latest_producer_id_block");
                auto block = node ? coord::decode_producer_id_block(node->data)
                                  : result<coord::producer_id_block>(coord::errc::no_node);
                return block && block->block_end() == 1999;
            },
            30s));
    }
    zk_server.stop();
    take_ids({1}, 1050);  // ids 950..1999: no ZooKeeper needed
    EXPECT_EQ(highest_from(1), 1999);
    for (int i = 0; i < 20; ++i) {
        auto before = std::chrono::steady_clock::now();
        auto [e, id] = init_producer_id_once(*sockets[1]);
        EXPECT_EQ(e, kafka_error::coordinator_load_in_progress) << "id " << id;
        EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
        std::this_thread::sleep_for(100ms);
    }
    zk_server.start();
    take_ids({1}, 10);  // retried through COORDINATOR_LOAD_IN_PROGRESS until a block arrives
    EXPECT_GT(highest_from(1), 1999);
    EXPECT_EQ(handed_out.size(), 2010u);
    EXPECT_TRUE(brokers[1]->running()) << brokers[1]->log();
}

TEST_F(producer_ids_cluster, confluent_kafka_idempotent_producer_gets_a_producer_id) {
    start_brokers(1);
    std::string bootstrap = "127.0.0.1:" + std::to_string(brokers[1]->port());
    auto run = run_command(
        fmt::format("/usr/bin/python3 {} {} idem 100 2>&1", GREGOR_IDEMPOTENT_PRODUCER, bootstrap));
    ASSERT_EQ(run.status, 0) << run.out;
    // The script's verdict is its last line.
    std::string out = run.out.substr(0, run.out.find_last_not_of('\n') + 1);
    auto result = nlohmann::json::parse(out.substr(out.rfind('\n') + 1), nullptr, false);
    ASSERT_FALSE(result.is_discarded()) << run.out;
    RecordProperty("idempotent_producer", result.dump());
    EXPECT_TRUE(result["fatal"].is_null()) << run.out;
    EXPECT_EQ(run.out.find("not supported"), std::string::npos) << run.out;
    ASSERT_TRUE(result["pid"].is_string()) << run.out << brokers[1]->log();
    EXPECT_TRUE(
        std::regex_match(result["pid"].get<std::string>(), std::regex(R"(PID\{Id:\d+,Epoch:0\})")))
        << run.out;
    // The produce path takes batches with producer ids (de-duplication comes with the
    // per-partition producer state).
    EXPECT_EQ(result["delivered"].get<int>(), 100) << run.out << brokers[1]->log();
    EXPECT_EQ(result["failed"].get<int>(), 0) << run.out;
}

}  // namespace
}  // namespace gregor::test

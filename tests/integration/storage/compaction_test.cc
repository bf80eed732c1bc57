// Goal: a compacted topic behaves for real clients as in Kafka: kcat and confluent_kafka
// write 1,000,000 records over 10,000 keys; the log cleaner shrinks the partition to about
// one record per key; confluent_kafka, kcat and kafka-python reading from the beginning see
// the latest value of every key with ascending offsets; a keyless record is refused with
// INVALID_RECORD; the cleaner's progress is in the broker log and in Kafka's
// cleaner-offset-checkpoint file.
// Method: a real ZooKeeper and one real `gregor broker` (its own controller); the clients
// run from tests/integration/storage/compaction_clients.py with Debian's /usr/bin/python3.
#include "support/broker_process.h"
#include "support/process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

constexpr int records = 1'000'000;
constexpr int keys = 10'000;

std::uint64_t log_bytes(const std::filesystem::path& partition_dir) {
    std::uint64_t total = 0;
    for (const auto& e : std::filesystem::directory_iterator(partition_dir)) {
        if (e.path().extension() == ".log") {
            total += e.file_size();
        }
    }
    return total;
}

TEST(compaction, real_clients_read_the_latest_value_of_every_key_after_cleaning) {
    zookeeper_server zk;
    broker_process broker({{"broker.id", "1"},
                           {"zookeeper.connect", zk.connect_string()},
                           {"zookeeper.session.timeout.ms", "6000"}});
    ASSERT_TRUE(broker.wait_listening(60s)) << broker.log();
    auto bootstrap = "127.0.0.1:" + std::to_string(broker.port());
    auto run = run_command(fmt::format("/usr/bin/python3 {} {} table {} {} {} 2>&1",
                                       GREGOR_COMPACTION_CLIENTS, bootstrap, records, keys,
                                       broker.data_dir().string()));
    std::cout << run.out;
    ASSERT_EQ(run.status, 0) << run.out << "\n--- broker log ---\n" << broker.log();
    EXPECT_NE(run.out.find("ok "), std::string::npos) << run.out;
    RecordProperty("clients", run.out.substr(run.out.rfind("ok ")));

    auto log = broker.log();
    EXPECT_NE(log.find("table-0: cleaned up to"), std::string::npos) << log;
    // Kafka's cleaner-offset-checkpoint: version, count, "<topic> <partition> <offset>";
    // written on the broker's I/O thread right after the pass, so it may trail a moment.
    std::string version;
    std::string count;
    std::string topic;
    int partition = -1;
    long long first_dirty = -1;
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         first_dirty < records && std::chrono::steady_clock::now() < deadline;) {
        std::this_thread::sleep_for(100ms);
        std::ifstream cp(broker.data_dir() / "cleaner-offset-checkpoint");
        cp >> version >> count >> topic >> partition >> first_dirty;
    }
    EXPECT_EQ(version, "0");
    EXPECT_EQ(count, "1");
    EXPECT_EQ(topic, "table");
    EXPECT_EQ(partition, 0);
    EXPECT_GE(first_dirty, records) << "everything written before the roll was cleaned\n"
                                    << broker.log();
    // 1,000,000 records of about 10 bytes each are several MiB; what is left is ~10,000.
    auto bytes = log_bytes(broker.data_dir() / "table-0");
    RecordProperty("bytes_on_disk", std::to_string(bytes));
    EXPECT_LT(bytes, 2U * 1024 * 1024) << "the partition did not shrink";
}

}  // namespace
}  // namespace gregor::test

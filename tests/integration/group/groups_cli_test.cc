// Goal: `gregor groups` shows and changes a real consumer group the way
// kafka-consumer-groups.sh does. A confluent_kafka (librdkafka) consumer joins a group on a
// three-broker cluster, reads 30 records of a 3-partition topic and commits offset 7 on each
// partition; then `groups list` names the group (with --state: Stable), `groups describe`
// shows its one member with lag 3 on every partition, its members and its state, and the
// group cannot be reset or deleted while it has a member. Once the consumer leaves, the
// group is Empty: a dry run changes nothing, `--to-earliest --execute` commits 0 everywhere,
// `--shift-by` moves one partition, and `groups delete` removes the group.
// Method: `gregor cluster up` and the gregor CLI as child processes in a temp directory, the
// consumer as a Python child (group_consumer.py) stopped through a file; every check polls
// with a deadline sized for a loaded 2-core CI machine under ASan; nothing is timed.
#include "cluster/state.h"
#include "integration/cluster/cluster_process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto start_limit = 180s;
constexpr auto step_limit = 120s;
constexpr int partitions = 3;
constexpr int records_per_partition = 10;
constexpr int committed_at = 7;
const std::string topic = "orders";
const std::string group = "cli-group";

class groups_cli_test : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/gregor-groups-it-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override {
        std::ofstream(stop_file()).put('\n');
        if (consumer_ > 0) {
            if (!wait_child(consumer_, 20s)) {
                ::kill(consumer_, SIGKILL);
                ignore(wait_child(consumer_, 5s));
            }
        }
        gregor("cluster down --dir " + dir().string());
        up_.reset();
        for (pid_t p : processes_mentioning(root_.string())) {
            ::kill(p, SIGKILL);
        }
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    static void ignore(std::optional<int>) {}

    std::filesystem::path dir() const { return root_ / "cluster"; }
    std::filesystem::path stop_file() const { return root_ / "stop-consumer"; }
    std::filesystem::path consumer_log() const { return root_ / "consumer.log"; }
    std::string bootstrap() const {
        auto s = cluster::read_state(dir());
        return s ? s->bootstrap_servers() : "";
    }
    command_result cli(const std::string& args) const {
        return gregor(args + " --dir " + dir().string());
    }
    json describe_json() const {
        auto r = cli("groups describe --group " + group + " --format json");
        auto j = json::parse(r.out, nullptr, false);
        return j.is_discarded() || !j.is_array() || j.empty() ? json::object() : j[0];
    }
    // partition -> current offset of the group, from `groups describe --format json`.
    std::map<int, std::int64_t> committed() const {
        std::map<int, std::int64_t> out;
        auto g = describe_json();
        for (const auto& o : g.value("offsets", json::array())) {
            if (o["partition"].is_number() && o["current_offset"].is_number()) {
                out[o["partition"].get<int>()] = o["current_offset"].get<std::int64_t>();
            }
        }
        return out;
    }

    void start_cluster_with_records() {
        up_ = std::make_unique<up_process>(
            dir(), std::vector<std::string>{"--brokers", "3", "--base-port", "0"});
        ASSERT_TRUE(up_->wait_output("\nready\n", start_limit)) << up_->output();
        auto created = cli(fmt::format("topics create {} --partitions {} --replication-factor 3",
                                       topic, partitions));
        ASSERT_EQ(created.status, 0) << created.out;
        for (int p = 0; p < partitions; ++p) {
            auto r = run_command(
                fmt::format("seq 1 {} | timeout 60 kcat -P -b {} -t {} -p {} -X acks=all 2>&1",
                            records_per_partition, bootstrap(), topic, p));
            ASSERT_EQ(r.status, 0) << r.out;
        }
    }
    void start_consumer() {
        consumer_ = spawn_child({"/usr/bin/python3", GREGOR_GROUP_CONSUMER, bootstrap(), group,
                                 topic, std::to_string(partitions * records_per_partition),
                                 std::to_string(committed_at), stop_file().string()},
                                consumer_log(), false);
        ASSERT_TRUE(eventually(
            [&] { return slurp(consumer_log()).find("committed 0,1,2") != std::string::npos; },
            step_limit))
            << slurp(consumer_log());
    }
    void stop_consumer() {
        std::ofstream(stop_file()).put('\n');
        auto rc = wait_child(consumer_, step_limit);
        consumer_ = -1;
        ASSERT_EQ(rc, 0) << slurp(consumer_log());
    }

    void check_active_group();
    void check_refusals_while_active();
    void check_resets();

    std::filesystem::path root_;
    std::unique_ptr<up_process> up_;
    pid_t consumer_ = -1;
};

void groups_cli_test::check_active_group() {
    command_result r;
    EXPECT_TRUE(
        eventually([&] { return (r = cli("groups list")).out == group + "\n"; }, step_limit))
        << r.out;
    r = gregor("groups list --state --bootstrap-server " + bootstrap());
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("GROUP"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(group + "       Stable"), std::string::npos) << r.out;
    r = cli("groups list --state empty");
    EXPECT_EQ(r.out.find(group), std::string::npos) << "filtered out: " << r.out;

    auto g = describe_json();
    EXPECT_EQ(g.value("state", ""), "Stable") << g.dump();
    ASSERT_EQ(g["members"].size(), 1u) << g.dump();
    EXPECT_EQ(g["members"][0].value("client_id", ""), "groups-cli-test");
    EXPECT_EQ(g["members"][0].value("partitions", 0), partitions);
    ASSERT_EQ(g["offsets"].size(), static_cast<std::size_t>(partitions)) << g.dump();
    for (const auto& o : g["offsets"]) {
        EXPECT_EQ(o["current_offset"], committed_at) << o.dump();
        EXPECT_EQ(o["log_end_offset"], records_per_partition) << o.dump();
        EXPECT_EQ(o["lag"], records_per_partition - committed_at) << o.dump();
        EXPECT_EQ(o["consumer_id"], g["members"][0]["consumer_id"]) << o.dump();
    }

    r = cli("groups describe --group " + group);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("CURRENT-OFFSET  LOG-END-OFFSET  LAG"), std::string::npos) << r.out;
    // Kafka's columns: GROUP and TOPIC at least 15 wide, PARTITION 10, the offsets 15.
    auto row =
        fmt::format("{:<15} {:<15} {:<10} {:<15} {:<15} {:<15} ", group, topic, 0, committed_at,
                    records_per_partition, records_per_partition - committed_at);
    EXPECT_NE(r.out.find(row), std::string::npos) << r.out;
    r = cli("groups describe --group " + group + " --members --verbose");
    EXPECT_NE(r.out.find("orders(0,1,2)"), std::string::npos) << r.out;
    r = cli("groups describe --group " + group + " --state");
    EXPECT_NE(r.out.find("Stable"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("range"), std::string::npos) << r.out;
}

void groups_cli_test::check_refusals_while_active() {
    auto reset = cli("groups reset-offsets --group " + group +
                     " --all-topics --to-earliest "
                     "--execute");
    EXPECT_EQ(reset.status, 1) << reset.out;
    EXPECT_NE(reset.out.find("Assignments can only be reset if the group 'cli-group' is "
                             "inactive, but the current state is Stable."),
              std::string::npos)
        << reset.out;
    auto removed = cli("groups delete --group " + group);
    EXPECT_EQ(removed.status, 1) << removed.out;
    EXPECT_NE(removed.out.find("* Group 'cli-group' could not be deleted due to: The group is "
                               "not empty."),
              std::string::npos)
        << removed.out;
    auto missing = cli("groups describe --group no-such-group");
    EXPECT_EQ(missing.status, 1) << missing.out;
    EXPECT_NE(missing.out.find("Consumer group 'no-such-group' does not exist."), std::string::npos)
        << missing.out;
}

void groups_cli_test::check_resets() {
    const std::map<int, std::int64_t> before{{0, 7}, {1, 7}, {2, 7}};
    auto dry = cli("groups reset-offsets --group " + group + " --all-topics --to-earliest");
    EXPECT_EQ(dry.status, 0) << dry.out;
    EXPECT_NE(dry.out.find("WARN: No action will be performed"), std::string::npos) << dry.out;
    EXPECT_NE(dry.out.find("NEW-OFFSET"), std::string::npos) << dry.out;
    EXPECT_EQ(committed(), before) << "a dry run commits nothing";

    auto done = cli("groups reset-offsets --group " + group + " --topic " + topic +
                    " --to-earliest --execute --format json");
    ASSERT_EQ(done.status, 0) << done.out;
    auto plan = json::parse(done.out, nullptr, false);
    ASSERT_TRUE(plan.is_array()) << done.out;
    EXPECT_EQ(plan.size(), static_cast<std::size_t>(partitions)) << done.out;
    const std::map<int, std::int64_t> earliest{{0, 0}, {1, 0}, {2, 0}};
    EXPECT_EQ(committed(), earliest);
    auto g = describe_json();
    for (const auto& o : g.value("offsets", json::array())) {
        EXPECT_EQ(o["lag"], records_per_partition) << o.dump();
        EXPECT_TRUE(o["consumer_id"].is_null()) << o.dump();
    }

    auto shifted = cli("groups reset-offsets --group " + group + " --topic " + topic +
                       ":1 --shift-by 40 --execute");
    ASSERT_EQ(shifted.status, 0) << shifted.out;
    const std::map<int, std::int64_t> after{{0, 0}, {1, records_per_partition}, {2, 0}};
    EXPECT_EQ(committed(), after) << "shifted past the log end: clamped to it";
}

TEST_F(groups_cli_test, list_describe_reset_and_delete_a_real_consumer_group) {
    ASSERT_NO_FATAL_FAILURE(start_cluster_with_records());
    ASSERT_NO_FATAL_FAILURE(start_consumer());
    check_active_group();
    check_refusals_while_active();

    ASSERT_NO_FATAL_FAILURE(stop_consumer());
    command_result r;
    EXPECT_TRUE(
        eventually([&] { return describe_json().value("state", "") == "Empty"; }, step_limit));
    r = cli("groups describe --group " + group);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("Consumer group 'cli-group' has no active members."), std::string::npos)
        << r.out;
    check_resets();

    r = cli("groups delete --group " + group);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("Deletion of requested consumer groups ('cli-group') was successful."),
              std::string::npos)
        << r.out;
    r = cli("groups describe --group " + group);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
    EXPECT_EQ(cli("groups list").out, "");
}

}  // namespace
}  // namespace gregor::test

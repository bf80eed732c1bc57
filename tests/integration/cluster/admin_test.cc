// Goal: the admin commands work end to end against a cluster `gregor cluster up` runs, with
// the exit codes scripts rely on: health turns healthy, topics are created (and refused
// with Kafka's error name when they exist or ask for too many replicas), listed, described
// with leaders, epochs, replicas and ISR, and deleted; `cluster describe` shows the
// controller and its epoch; a killed broker makes health name it, and its restart makes the
// cluster healthy again. Method: one 3-broker cluster for the suite, the gregor binary run
// as a command, JSON output parsed, polling with deadlines (a loaded 2-core CI machine).
#include "cluster/state.h"
#include "integration/cluster/cluster_process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace gregor::cluster {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::eventually;
using test::gregor;

constexpr auto start_limit = 180s;
constexpr auto step_limit = 90s;

class admin_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/gregor-admin-it-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = new std::filesystem::path(tmpl);
        up_ = new test::up_process(dir(), {"--brokers", "3", "--base-port", "0"});
        ASSERT_TRUE(up_->wait_output("\nready\n", start_limit)) << up_->output();
    }
    static void TearDownTestSuite() {
        auto down = gregor("cluster down --dir " + dir().string());
        EXPECT_EQ(down.status, 0) << down.out;
        delete up_;
        std::error_code ec;
        std::filesystem::remove_all(*root_, ec);
        delete root_;
    }
    static std::filesystem::path dir() { return *root_ / "cluster"; }
    // `gregor <args> --dir D`.
    static test::command_result admin(const std::string& args) {
        return gregor(args + " --dir " + dir().string());
    }
    static json admin_json(const std::string& args) {
        auto r = admin(args + " --format json");
        auto j = json::parse(r.out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << r.out;
        return j;
    }
    static bool healthy_within(std::chrono::seconds limit) {
        auto r =
            admin(fmt::format("cluster health --exit-when-healthy --timeout {}", limit.count()));
        return r.status == 0 && r.out.starts_with("healthy: 3 broker(s) up");
    }

    static std::filesystem::path* root_;
    static test::up_process* up_;
};

std::filesystem::path* admin_test::root_ = nullptr;
test::up_process* admin_test::up_ = nullptr;

TEST_F(admin_test, a_fresh_cluster_is_healthy_and_describes_its_controller) {
    ASSERT_TRUE(healthy_within(90s));
    auto j = admin_json("cluster describe");
    EXPECT_EQ(j["brokers"].size(), 3u) << j.dump();
    EXPECT_GE(j["controller_id"].get<int>(), 1);
    EXPECT_GE(j["controller_epoch"].get<int>(), 1) << "the epoch comes from --dir's ZooKeeper";
    auto watched = admin("cluster health --watch --interval 1 --timeout 2");
    EXPECT_EQ(watched.status, 0) << watched.out;
    EXPECT_GE(std::count(watched.out.begin(), watched.out.end(), '\n'), 2) << watched.out;
    auto text = admin("cluster describe");
    EXPECT_EQ(text.status, 0);
    EXPECT_NE(text.out.find("(controller)"), std::string::npos) << text.out;
}

TEST_F(admin_test, topics_are_created_listed_described_and_deleted) {
    ASSERT_TRUE(healthy_within(90s));
    auto created = admin("topics create orders --partitions 3 --replication-factor 3");
    ASSERT_EQ(created.status, 0) << created.out;
    EXPECT_NE(created.out.find("created topic orders"), std::string::npos) << created.out;

    auto again = admin("topics create orders --partitions 3 --replication-factor 3");
    EXPECT_EQ(again.status, 1) << again.out;
    EXPECT_NE(again.out.find("TOPIC_ALREADY_EXISTS"), std::string::npos) << again.out;
    auto too_many = admin("topics create wide --partitions 1 --replication-factor 4");
    EXPECT_EQ(too_many.status, 1) << too_many.out;
    EXPECT_NE(too_many.out.find("INVALID_REPLICATION_FACTOR"), std::string::npos) << too_many.out;

    json described;
    ASSERT_TRUE(eventually(
        [&] {
            described = admin_json("topics describe orders");
            const auto& parts = described["topics"][0]["partition_details"];
            if (parts.size() != 3) {
                return false;
            }
            for (const auto& p : parts) {
                if (p["leader"].get<int>() < 1 || p["isr"].size() != 3) {
                    return false;
                }
            }
            return true;
        },
        step_limit))
        << described.dump();
    for (const auto& p : described["topics"][0]["partition_details"]) {
        EXPECT_EQ(p["replicas"].size(), 3u);
        EXPECT_GE(p["leader_epoch"].get<int>(), 0);
    }
    auto listed = admin_json("topics list");
    ASSERT_TRUE(listed.is_array());
    EXPECT_NE(listed.dump().find("\"orders\""), std::string::npos) << listed.dump();

    auto deleted = admin("topics delete orders");
    EXPECT_EQ(deleted.status, 0) << deleted.out;
    EXPECT_TRUE(eventually(
        [&] { return admin("topics list").out.find("orders") == std::string::npos; }, step_limit));
}

// A topic slower to create than the client's request timeout is never reported as already
// existing: the controller answers within the timeout if it can (REQUEST_TIMED_OUT, as Kafka,
// when its partitions are not all led yet), and a client that gave up on the answer does not
// send the request again (it would find its own topic). Either way it says that the topic may
// have been or was created, and it was.
TEST_F(admin_test, a_topic_slower_to_create_than_the_request_timeout_is_not_reported_existing) {
    ASSERT_TRUE(healthy_within(step_limit));
    auto created =
        admin("topics create slow --partitions 2000 --replication-factor 3 --request-timeout 1");
    EXPECT_EQ(created.out.find("TOPIC_ALREADY_EXISTS"), std::string::npos) << created.out;
    if (created.status != 0) {
        const bool late = created.out.find("REQUEST_TIMED_OUT") != std::string::npos &&
                          created.out.find("the topic was created") != std::string::npos;
        const bool gave_up = created.out.find("may have acted on it") != std::string::npos;
        EXPECT_TRUE(late || gave_up) << created.out;
    }
    EXPECT_TRUE(eventually([] { return admin("topics describe slow").status == 0; }, step_limit))
        << "the topic was created";
    EXPECT_TRUE(healthy_within(step_limit)) << "its partitions come online";
    auto deleted = admin("topics delete slow");
    EXPECT_EQ(deleted.status, 0) << deleted.out;
}

TEST_F(admin_test, health_names_a_killed_broker_until_it_restarts) {
    ASSERT_TRUE(healthy_within(90s));
    auto killed = gregor("cluster kill 3 --dir " + dir().string());
    ASSERT_EQ(killed.status, 0) << killed.out;
    // The broker leaves the cluster when its ZooKeeper session expires (6 s in the demo).
    test::command_result health;
    EXPECT_TRUE(eventually(
        [&] {
            health = admin("cluster health");
            return health.status == 1 && health.out.find("broker(s) 3 down") != std::string::npos;
        },
        step_limit))
        << health.out;
    auto restarted = gregor("cluster restart 3 --dir " + dir().string());
    ASSERT_EQ(restarted.status, 0) << restarted.out;
    EXPECT_TRUE(healthy_within(90s));
}

// Needs no cluster, so it does not use the fixture.
TEST(admin_commands, usage_errors_exit_2_and_unreachable_clusters_exit_1) {
    EXPECT_EQ(gregor("topics create").status, 2);
    EXPECT_EQ(gregor("topics list --format yaml").status, 2);
    EXPECT_EQ(gregor("leaders elect").status, 2);
    auto down = gregor("topics list --bootstrap 127.0.0.1:1");
    EXPECT_EQ(down.status, 1);
    EXPECT_NE(down.out.find("127.0.0.1:1"), std::string::npos) << down.out;
}

}  // namespace
}  // namespace gregor::cluster

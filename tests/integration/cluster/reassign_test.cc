// Goal: changing a topic's replication factor by reassignment (KIP-455) keeps every record
// and really moves the data. With the real gregor binary, a real ZooKeeper, three broker
// processes and kcat: an RF 1 topic with data goes to RF 3 with `topics alter
// --replication-factor 3 --wait`; Metadata then shows three replicas all in the ISR; killing
// the original (only) replica's broker leaves every record readable from a new leader; going
// back to RF 2 removes one replica and deletes its log directory on that broker.
// Method: child processes in a temp directory, polling with deadlines sized for a loaded
// 2-core CI machine under ASan; nothing is timed.
#include "cluster/layout.h"
#include "cluster/state.h"
#include "integration/cluster/cluster_process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

namespace gregor::cluster {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::eventually;
using test::gregor;

constexpr auto start_limit = 180s;
constexpr auto step_limit = 120s;
constexpr int record_count = 300;
const std::string topic = "moving";

class reassign_test : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/gregor-reassign-it-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override {
        gregor("cluster down --dir " + dir().string());
        up_.reset();
        for (pid_t p : test::processes_mentioning(root_.string())) {
            ::kill(p, SIGKILL);
        }
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }

    std::filesystem::path dir() const { return root_ / "cluster"; }
    test::command_result admin(const std::string& args) const {
        return gregor(args + " --dir " + dir().string());
    }
    json partition0() const {
        auto r = admin("topics describe " + topic + " --format json");
        auto j = json::parse(r.out, nullptr, false);
        if (j.is_discarded() || !j.contains("topics") || j["topics"].empty() ||
            j["topics"][0]["partition_details"].empty()) {
            return json::object();
        }
        return j["topics"][0]["partition_details"][0];
    }
    std::string bootstrap() const {
        auto s = read_state(dir());
        return s ? s->bootstrap_servers() : "";
    }
    bool produce() const {
        auto file = root_ / "records.txt";
        std::ofstream out(file);
        for (int i = 0; i < record_count; ++i) {
            out << "r-" << i << '\n';
        }
        out.close();
        auto r = test::run_command(
            fmt::format("timeout 60 kcat -P -b {} -t {} -X acks=all -l {} 2>&1", bootstrap(),
                        topic, file.string()));
        EXPECT_EQ(r.status, 0) << r.out;
        return r.status == 0;
    }
    std::size_t readable() const {
        auto r = test::run_command(fmt::format(
            "timeout 60 kcat -C -b {} -t {} -o beginning -e -q -f '%s\\n' 2>/dev/null",
            bootstrap(), topic));
        std::set<std::string> seen;
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);) {
            seen.insert(line);
        }
        return seen.size();
    }

    std::filesystem::path root_;
    std::unique_ptr<test::up_process> up_;
};

std::vector<int> ints(const json& a) {
    std::vector<int> out;
    if (a.is_array()) {
        for (const auto& v : a) {
            out.push_back(v.get<int>());
        }
    }
    return out;
}

bool same_set(std::vector<int> a, std::vector<int> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
}

TEST_F(reassign_test, replication_factor_grows_and_shrinks_without_losing_records) {
    up_ = std::make_unique<test::up_process>(
        dir(), std::vector<std::string>{"--brokers", "3", "--base-port", "0"});
    ASSERT_TRUE(up_->wait_output("\nready\n", start_limit)) << up_->output();
    auto created = admin("topics create " + topic + " --partitions 1 --replication-factor 1");
    ASSERT_EQ(created.status, 0) << created.out;
    json p;
    ASSERT_TRUE(eventually([&] { return (p = partition0()).value("leader", -1) >= 1; },
                           step_limit));
    const int original = p["leader"].get<int>();
    ASSERT_TRUE(produce());

    auto none = admin("topics reassignments");
    EXPECT_EQ(none.status, 0) << none.out;
    EXPECT_NE(none.out.find("no reassignments in progress"), std::string::npos) << none.out;

    auto grown = admin("topics alter " + topic + " --replication-factor 3 --wait");
    ASSERT_EQ(grown.status, 0) << grown.out;
    EXPECT_NE(grown.out.find("reassignment complete"), std::string::npos) << grown.out;
    ASSERT_TRUE(eventually(
        [&] {
            p = partition0();
            return ints(p["replicas"]).size() == 3 && same_set(ints(p["isr"]), {1, 2, 3});
        },
        step_limit))
        << p.dump();
    EXPECT_EQ(ints(p["replicas"]).front(), original) << "the current replica stays first";

    auto killed = admin(fmt::format("cluster kill {}", original));
    ASSERT_EQ(killed.status, 0) << killed.out;
    ASSERT_TRUE(eventually(
        [&] {
            p = partition0();
            int leader = p.value("leader", -1);
            return leader >= 1 && leader != original;
        },
        step_limit))
        << p.dump();
    std::size_t seen = 0;
    EXPECT_TRUE(eventually([&] { return (seen = readable()) == record_count; }, step_limit))
        << seen << " of " << record_count << " records readable from the new leader";

    auto restarted = admin(fmt::format("cluster restart {}", original));
    ASSERT_EQ(restarted.status, 0) << restarted.out;
    ASSERT_TRUE(eventually([&] { return same_set(ints(partition0()["isr"]), {1, 2, 3}); },
                           step_limit));

    auto shrunk = admin("topics alter " + topic + " --replication-factor 2 --wait --format json");
    ASSERT_EQ(shrunk.status, 0) << shrunk.out;
    auto sj = json::parse(shrunk.out, nullptr, false);
    ASSERT_FALSE(sj.is_discarded()) << shrunk.out;
    EXPECT_TRUE(sj.value("completed", false)) << shrunk.out;
    ASSERT_TRUE(eventually([&] { return ints((p = partition0())["replicas"]).size() == 2; },
                           step_limit))
        << p.dump();
    const auto kept = ints(p["replicas"]);
    int removed = 0;
    for (int id = 1; id <= 3; ++id) {
        removed = std::find(kept.begin(), kept.end(), id) == kept.end() ? id : removed;
    }
    ASSERT_GE(removed, 1);
    const cluster_layout layout{dir()};
    // The log directory goes, renamed to <dir>.<id>-delete first and then removed.
    auto leftovers = [&] {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(layout.broker_data(removed))) {
            std::string name = e.path().filename().string();
            if (name.starts_with(topic + "-0")) {
                out.push_back(name);
            }
        }
        return out;
    };
    EXPECT_TRUE(eventually([&] { return leftovers().empty(); }, step_limit))
        << "broker " << removed << " still holds " << leftovers().size() << " log dir(s) of "
        << topic << "-0";
    for (int id : kept) {
        EXPECT_TRUE(std::filesystem::exists(layout.broker_data(id) / (topic + "-0"))) << id;
    }
    EXPECT_TRUE(eventually([&] { return (seen = readable()) == record_count; }, step_limit))
        << seen << " of " << record_count << " records readable after shrinking";
}

}  // namespace
}  // namespace gregor::cluster

// Goal: the README's controller walkthrough is true as written. With the real gregor binary,
// a real ZooKeeper and kcat it performs the same steps in the same order: `cluster up` with
// 3 brokers, `topics create demo` (3 partitions, RF 3, min.insync.replicas=2), produce with
// acks=all and consume, read /controller and /controller_epoch, `cluster kill` the
// controller, then checks every claim the README makes: another broker becomes controller
// with epoch + 1 (ZooKeeper and `cluster describe` agree), every partition's leader is a
// live broker that was in its ISR before the kill, no acknowledged record is lost, produce
// works again, and the restarted old controller stays a plain broker and rejoins every ISR.
// Method: child processes in a temp directory, polling with deadlines sized for a loaded
// 2-core CI machine under ASan; no sleep is an assertion and nothing is timed.
#include "cluster/state.h"
#include "cluster/zk_view.h"
#include "integration/cluster/cluster_process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace gregor::cluster {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::eventually;
using test::gregor;
using test::processes_mentioning;

constexpr auto start_limit = 180s;
constexpr auto step_limit = 90s;
constexpr int partition_count = 3;
constexpr int broker_count = 3;

// Partition index -> ISR, from `topics describe demo --format json`.
using isr_map = std::map<int, std::vector<int>>;

class walkthrough_test : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/gregor-walk-it-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override {
        up_.reset();
        for (pid_t p : processes_mentioning(root_.string())) {
            ::kill(p, SIGKILL);
        }
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }

    std::filesystem::path dir() const { return root_ / "cluster"; }
    test::command_result admin(const std::string& args) const {
        return gregor(args + " --dir " + dir().string());
    }
    json admin_json(const std::string& args) const {
        auto r = admin(args + " --format json");
        auto j = json::parse(r.out, nullptr, false);
        return j.is_discarded() ? json::object() : j;
    }
    std::string bootstrap() const {
        auto s = read_state(dir());
        EXPECT_TRUE(s) << (s ? "" : s.err().detail);
        return s ? s->bootstrap_servers() : "";
    }
    cluster_view zk_read() const {
        auto s = read_state(dir());
        EXPECT_TRUE(s);
        if (!s) {
            return {};
        }
        auto zk = zk_view::connect(s->zookeeper_connect, 30s);
        EXPECT_TRUE(zk) << (zk ? "" : zk.err().detail);
        if (!zk) {
            return {};
        }
        auto v = (*zk)->read();
        return v ? *v : cluster_view{};
    }

    // Produces `prefix`-0 .. `prefix`-(count-1) with acks=all; true iff kcat reports every
    // record acknowledged (exit 0).
    bool produce(const std::string& prefix, int count) const {
        auto file = root_ / (prefix + ".txt");
        std::ofstream out(file);
        for (int i = 0; i < count; ++i) {
            out << prefix << '-' << i << '\n';
        }
        out.close();
        auto r = test::run_command(
            fmt::format("timeout 60 kcat -P -b {} -t demo -X acks=all -l {} 2>&1", bootstrap(),
                        file.string()));
        EXPECT_EQ(r.status, 0) << r.out;
        return r.status == 0;
    }
    // Every record value currently readable from the beginning of every partition.
    std::set<std::string> consume() const {
        auto r = test::run_command(fmt::format(
            "timeout 60 kcat -C -b {} -t demo -o beginning -e -q -f '%s\\n' 2>/dev/null",
            bootstrap()));
        std::set<std::string> seen;
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);) {
            seen.insert(line);
        }
        return seen;
    }
    // Polls until every record in `expected` is readable; names the first missing one.
    void expect_all_readable(const std::set<std::string>& expected) const {
        std::set<std::string> seen;
        bool ok = eventually(
            [&] {
                seen = consume();
                return std::includes(seen.begin(), seen.end(), expected.begin(), expected.end());
            },
            step_limit);
        std::vector<std::string> missing;
        std::set_difference(expected.begin(), expected.end(), seen.begin(), seen.end(),
                            std::back_inserter(missing));
        EXPECT_TRUE(ok) << missing.size() << " acknowledged record(s) missing, first "
                        << (missing.empty() ? "" : missing.front());
    }
    // Polls `topics describe demo` until `pred` holds for every partition; returns the last
    // description (partition -> its JSON).
    std::map<int, json> describe_until(const std::function<bool(const json&)>& pred) const {
        std::map<int, json> parts;
        bool ok = eventually(
            [&] {
                parts.clear();
                auto j = admin_json("topics describe demo");
                if (!j.contains("topics") || j["topics"].empty()) {
                    return false;
                }
                for (const auto& p : j["topics"][0]["partition_details"]) {
                    parts[p["partition"].get<int>()] = p;
                }
                return parts.size() == partition_count &&
                       std::all_of(parts.begin(), parts.end(),
                                   [&](const auto& kv) { return pred(kv.second); });
            },
            step_limit);
        EXPECT_TRUE(ok) << "topics describe demo never reached the expected state";
        return parts;
    }

    std::filesystem::path root_;
    std::unique_ptr<test::up_process> up_;
};

std::set<std::string> values(const std::string& prefix, int count) {
    std::set<std::string> out;
    for (int i = 0; i < count; ++i) {
        out.insert(prefix + "-" + std::to_string(i));
    }
    return out;
}

bool isr_holds(const json& p, int id) {
    const auto& isr = p["isr"];
    return std::find(isr.begin(), isr.end(), id) != isr.end();
}

TEST_F(walkthrough_test, controller_failover_loses_no_acknowledged_record) {
    up_ = std::make_unique<test::up_process>(
        dir(), std::vector<std::string>{"--brokers", "3", "--base-port", "0"});
    ASSERT_TRUE(up_->wait_output("\nready\n", start_limit)) << up_->output();
    auto created = admin(
        "topics create demo --partitions 3 --replication-factor 3 "
        "--config min.insync.replicas=2");
    ASSERT_EQ(created.status, 0) << created.out;
    auto full = describe_until([](const json& p) {
        return p["leader"].get<int>() >= 1 && p["isr"].size() == broker_count;
    });
    ASSERT_EQ(full.size(), partition_count);

    constexpr int before_count = 1000;
    ASSERT_TRUE(produce("before", before_count));
    auto expected = values("before", before_count);
    expect_all_readable(expected);

    // The controller and its epoch, as ZooKeeper and `cluster describe` report them.
    auto view = zk_read();
    ASSERT_TRUE(view.controller && view.controller_epoch);
    const int old_controller = *view.controller;
    const int old_epoch = *view.controller_epoch;
    auto described = admin_json("cluster describe");
    EXPECT_EQ(described["controller_id"], old_controller) << described.dump();
    EXPECT_EQ(described["controller_epoch"], old_epoch) << described.dump();
    isr_map isr_before;
    for (const auto& [index, p] : full) {
        isr_before[index] = p["isr"].get<std::vector<int>>();
    }

    auto killed = admin(fmt::format("cluster kill {}", old_controller));
    ASSERT_EQ(killed.status, 0) << killed.out;
    ASSERT_TRUE(eventually(
        [&] {
            view = zk_read();
            return view.controller && *view.controller != old_controller;
        },
        step_limit))
        << "no new controller after killing broker " << old_controller;
    const int new_controller = *view.controller;
    EXPECT_EQ(view.controller_epoch.value_or(-1), old_epoch + 1);
    described = admin_json("cluster describe");
    EXPECT_EQ(described["controller_id"], new_controller) << described.dump();
    EXPECT_EQ(described["controller_epoch"], old_epoch + 1) << described.dump();

    // Leaders move off the dead broker, each to a member of the partition's old ISR, and
    // the dead broker leaves every ISR.
    auto moved = describe_until([&](const json& p) {
        int leader = p["leader"].get<int>();
        return leader >= 1 && leader != old_controller && !isr_holds(p, old_controller);
    });
    for (const auto& [index, p] : moved) {
        auto& isr = isr_before[index];
        EXPECT_NE(std::find(isr.begin(), isr.end(), p["leader"].get<int>()), isr.end())
            << "partition " << index << ": leader " << p.dump() << " was not in its ISR";
    }
    expect_all_readable(expected);

    constexpr int after_count = 1000;
    ASSERT_TRUE(produce("after", after_count));
    expected.merge(values("after", after_count));
    expect_all_readable(expected);

    // The old controller comes back as a plain broker and rejoins every ISR.
    auto restarted = admin(fmt::format("cluster restart {}", old_controller));
    ASSERT_EQ(restarted.status, 0) << restarted.out;
    describe_until([&](const json& p) { return isr_holds(p, old_controller); });
    view = zk_read();
    EXPECT_EQ(view.controller.value_or(-1), new_controller);
    EXPECT_EQ(view.controller_epoch.value_or(-1), old_epoch + 1);
    expect_all_readable(expected);

    auto down = admin("cluster down");
    EXPECT_EQ(down.status, 0) << down.out;
    EXPECT_TRUE(up_->wait_exit(step_limit));
}

}  // namespace
}  // namespace gregor::cluster

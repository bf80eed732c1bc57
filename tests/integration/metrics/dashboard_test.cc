// Goal: an operator opens a broker's dashboard in a browser and sees the cluster as it is:
// which broker is the controller, the live brokers, and, after a broker is killed, the
// partitions it left under-replicated, listed first.
// Method: a real ZooKeeper and three `gregor broker` processes with gregor.http.listener on
// port 0; kcat auto-creates a 3-partition topic with replication factor 3; a confluent-kafka
// consumer group commits two of its three records (the coordinator's /api/groups shows them);
// headless Chromium (Debian's `chromium`) loads http://<broker 1>/, runs the page's JavaScript
// (which fetches /api/cluster, /api/groups, /api/journal and /metrics) and dumps the rendered DOM,
// which the test reads. A screenshot after the kill is kept as dashboard-after-kill.png in the
// test's working directory (build/debug/tests/integration/metrics/).
#include "admin/http_get.h"
#include "support/broker_process.h"
#include "support/process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <regex>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

// Runs headless Chromium on `url` with `mode` (--dump-dom or --screenshot=...); returns its
// stdout. The virtual time budget lets the page's fetches and first refresh finish.
std::string chromium(const std::string& url, const std::string& mode) {
    const auto profile =
        std::filesystem::temp_directory_path() / fmt::format("gregor-chromium-{}", ::getpid());
    auto r = run_command(
        fmt::format("chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
                    "--no-first-run --user-data-dir={} --window-size=1280,1800 "
                    "--virtual-time-budget=10000 {} '{}' 2>/dev/null",
                    profile.string(), mode, url));
    std::error_code ec;
    std::filesystem::remove_all(profile, ec);
    return r.out;
}

// The text of the element with `id` in a DOM dump (tags stripped), or "" if absent.
std::string text_of(const std::string& dom, const std::string& id) {
    std::smatch m;
    if (!std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*>([\\s\\S]*?)</"))) {
        return "";
    }
    return std::regex_replace(m[1].str(), std::regex("<[^>]*>"), "");
}

TEST(dashboard, a_browser_shows_the_controller_the_brokers_and_a_partition_left_under_replicated) {
    zookeeper_server zk;
    auto brokers = start_http_brokers(zk.connect_string(), 3, 3);
    for (auto& b : brokers) {
        ASSERT_TRUE(b->wait_listening(60s)) << b->log();
        ASSERT_TRUE(eventually([&] { return b->http_port() != 0; }, 30s)) << b->log();
    }
    // Every broker knows the others before the topic is auto-created with replication factor 3.
    ASSERT_TRUE(wait_brokers_known(brokers, 60s));
    auto produced =
        run_command(fmt::format("printf 'a\\nb\\nc\\n' | kcat -b 127.0.0.1:{} -P -t shown -p 0 -X "
                                "topic.request.required.acks=-1 2>&1",
                                brokers[0]->port()));
    ASSERT_EQ(produced.status, 0) << produced.out;
    const std::string http = fmt::format("127.0.0.1:{}", brokers[0]->http_port());
    auto cluster = [&]() -> nlohmann::json {
        auto r = admin::http_get(http, "/api/cluster", 10s);
        if (!r || r->status != 200) {
            return {};
        }
        return nlohmann::json::parse(r->body, nullptr, false);
    };
    ASSERT_TRUE(eventually(
        [&] {
            auto c = cluster();
            return c.is_object() && c["brokers"].size() == 3 && c["partitions_total"] == 3 &&
                   c["under_replicated"] == 0 && c["controller"] != -1;
        },
        60s))
        << cluster().dump();
    const int controller = cluster()["controller"];

    // A consumer group (confluent-kafka) reads 2 of the 3 records (all in partition 0) and
    // commits: the broker that coordinates it lists it in /api/groups with its committed
    // offset and lag.
    auto consumed = run_command(fmt::format(
        "/usr/bin/python3 -c \"from confluent_kafka import Consumer\n"
        "c = Consumer({{'bootstrap.servers': '127.0.0.1:{}', 'group.id': 'shown-readers', "
        "'auto.offset.reset': 'earliest', 'enable.auto.commit': False}})\n"
        "c.subscribe(['shown'])\n"
        "n = 0\n"
        "for _ in range(60):\n"
        "    m = c.poll(1.0)\n"
        "    if m is not None and not m.error():\n"
        "        n += 1\n"
        "        c.commit(message=m, asynchronous=False)\n"
        "    if n == 2: break\n"
        "c.close()\n"
        "print('consumed', n)\" 2>&1",
        brokers[0]->port()));
    ASSERT_NE(consumed.out.find("consumed 2"), std::string::npos) << consumed.out;
    int listing = 0;
    std::string coordinator_http;
    for (auto& b : brokers) {
        const std::string where = fmt::format("127.0.0.1:{}", b->http_port());
        auto r = admin::http_get(where, "/api/groups", 10s);
        ASSERT_TRUE(r && r->status == 200);
        auto g = nlohmann::json::parse(r->body);
        if (g["groups"].empty()) {
            continue;
        }
        ++listing;
        coordinator_http = where;
        ASSERT_EQ(g["groups"][0]["group"], "shown-readers") << r->body;
        std::int64_t committed = 0;
        for (const auto& p : g["groups"][0]["partitions"]) {
            committed += p["committed"].get<std::int64_t>();
        }
        EXPECT_EQ(committed, 2) << r->body;
        EXPECT_EQ(g["groups"][0]["lag"], 1) << r->body;  // every broker hosts every partition
    }
    EXPECT_EQ(listing, 1) << "exactly the coordinator lists the group";

    const std::string url = "http://" + http + "/";
    auto dom = chromium(url, "--dump-dom");
    EXPECT_EQ(text_of(dom, "controller").rfind(fmt::format("broker {} (epoch", controller), 0), 0)
        << text_of(dom, "controller") << "\n"
        << dom;
    for (int id = 1; id <= 3; ++id) {
        EXPECT_NE(dom.find(fmt::format("data-broker=\"{}\"", id)), std::string::npos) << dom;
    }
    EXPECT_NE(dom.find("0 under-replicated, 0 offline"), std::string::npos)
        << text_of(dom, "partition-summary");
    // The coordinator's dashboard shows the group.
    auto group_dom = chromium("http://" + coordinator_http + "/", "--dump-dom");
    EXPECT_NE(group_dom.find("data-group=\"shown-readers\""), std::string::npos)
        << text_of(group_dom, "groups");

    // Kill broker 3 (the controller or not): its partitions' ISRs shrink, and broker 1's
    // dashboard lists them as under-replicated, first.
    brokers[2]->kill_now();
    // Every partition (the topic's and __consumer_offsets', all with replication factor 3)
    // has a replica on broker 3.
    int total = 0;
    ASSERT_TRUE(eventually(
        [&] {
            auto c = cluster();
            if (!c.is_object() || c["brokers"].size() != 2) {
                return false;
            }
            total = c["partitions_total"].get<int>();
            return total > 3 && c["under_replicated"] == total;
        },
        60s))
        << cluster().dump();
    dom = chromium(url, "--dump-dom");
    EXPECT_NE(dom.find(fmt::format("{} under-replicated, 0 offline", total)), std::string::npos)
        << text_of(dom, "partition-summary") << "\n"
        << dom;
    EXPECT_TRUE(std::regex_search(
        dom, std::regex(R"(<tr class="under-replicated" data-topic="shown" data-partition="\d")")))
        << dom;
    EXPECT_EQ(dom.find("data-broker=\"3\""), std::string::npos) << "a dead broker is not listed";
    EXPECT_NE(text_of(dom, "controller").find("broker "), std::string::npos) << dom;
    EXPECT_EQ(text_of(dom, "served-by"), "served by broker 1") << dom;

    const auto shot = std::filesystem::current_path() / "dashboard-after-kill.png";
    std::filesystem::remove(shot);
    chromium(url, "--screenshot=" + shot.string());
    EXPECT_TRUE(std::filesystem::exists(shot) && std::filesystem::file_size(shot) > 10'000) << shot;
}

}  // namespace
}  // namespace gregor::test

// Goal: an operator opens a broker's dashboard in a browser and sees the cluster as it is:
// which broker is the controller, the live brokers, and, after a broker is killed, the
// partitions it left under-replicated, listed first.
// Method: a real ZooKeeper and three `gregor broker` processes with gregor.http.listener on
// port 0; kcat auto-creates a 3-partition topic with replication factor 3; headless Chromium
// (Debian's `chromium`) loads http://<broker 1>/, runs the page's JavaScript (which fetches
// /api/cluster, /api/groups, /api/journal and /metrics) and dumps the rendered DOM, which the
// test reads. A screenshot after the kill is kept as dashboard-after-kill.png in the test's
// working directory (build/debug/tests/integration/metrics/).
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
    auto produced =
        run_command(fmt::format("printf 'a\\nb\\nc\\n' | kcat -b 127.0.0.1:{} -P -t shown -X "
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

    // Kill broker 3 (the controller or not): its partitions' ISRs shrink, and broker 1's
    // dashboard lists them as under-replicated, first.
    brokers[2]->kill_now();
    ASSERT_TRUE(eventually(
        [&] {
            auto c = cluster();
            return c.is_object() && c["brokers"].size() == 2 && c["under_replicated"] == 3;
        },
        60s))
        << cluster().dump();
    dom = chromium(url, "--dump-dom");
    EXPECT_NE(dom.find("3 under-replicated, 0 offline"), std::string::npos)
        << text_of(dom, "partition-summary") << "\n"
        << dom;
    EXPECT_TRUE(std::regex_search(
        dom, std::regex(R"(<tr class="under-replicated" data-topic="shown" data-partition="\d")")))
        << dom;
    EXPECT_EQ(dom.find("data-broker=\"3\""), std::string::npos) << "a dead broker is not listed";
    EXPECT_NE(text_of(dom, "controller").find("broker "), std::string::npos) << dom;
    EXPECT_NE(text_of(dom, "served-by"), "") << dom;

    const auto shot = std::filesystem::current_path() / "dashboard-after-kill.png";
    std::filesystem::remove(shot);
    chromium(url, "--screenshot=" + shot.string());
    EXPECT_TRUE(std::filesystem::exists(shot) && std::filesystem::file_size(shot) > 10'000) << shot;
}

}  // namespace
}  // namespace gregor::test

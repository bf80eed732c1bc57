// Goal: operators alert on gregor as they do on Kafka. A real Prometheus server (Debian's
// `prometheus`) scrapes every broker's /metrics; the PromQL of Kafka's usual alert rules
// (active controller count, under-replicated and offline partitions) answers right on a
// healthy cluster and after the controller is killed with kill -9; the new controller's
// decision journal (/api/journal) says what moved and why, and its failover shows up phase by
// phase (gregor_controller_round_phase_seconds).
// Method: a real ZooKeeper and three `gregor broker` processes with gregor.http.listener on
// port 0 (each logs the bound address); kcat auto-creates a 6-partition topic with
// replication factor 3; Prometheus scrapes every second; `promtool query instant` asks it.
#include "admin/http_get.h"
#include "cluster/process.h"
#include "support/broker_process.h"
#include "support/process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>

namespace gregor::test {
namespace {

using namespace std::chrono_literals;

struct prometheus_server {
    std::filesystem::path dir;
    std::uint16_t port = *cluster::pick_free_port();
    pid_t pid = -1;

    explicit prometheus_server(const std::vector<std::string>& targets)
        : dir(std::filesystem::temp_directory_path() /
              fmt::format("gregor-prometheus-{}-{}", ::getpid(), port)) {
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "prometheus.yml")
            << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            << "scrape_configs:\n  - job_name: gregor\n    static_configs:\n"
            << fmt::format("      - targets: ['{}']\n", fmt::join(targets, "', '"));
        pid = spawn_child(
            {"/usr/bin/prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
             "--storage.tsdb.path=" + (dir / "data").string(),
             fmt::format("--web.listen-address=127.0.0.1:{}", port)},
            dir / "prometheus.log", false);
    }
    ~prometheus_server() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            wait_child(pid, 10s);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    // Raw promtool output for an instant query.
    std::string query(const std::string& expr) const {
        return run_command(
                   fmt::format("/usr/bin/promtool query instant http://127.0.0.1:{} '{}' 2>&1",
                               port, expr))
            .out;
    }
    // The value of a query that yields one series ("{...} => v @[t]"), else nullopt.
    std::optional<double> value(const std::string& expr) const {
        static const std::regex one(
            R"(^[a-zA-Z_:0-9]*\{[^\n]*\} => ([-+0-9.eE]+) @\[[^\n]*\]\n?$)");
        std::smatch m;
        auto out = query(expr);
        return std::regex_match(out, m, one) ? std::optional(std::stod(m[1])) : std::nullopt;
    }
    // Waits until `expr` equals `want`; on failure, returns what it last saw.
    ::testing::AssertionResult reaches(const std::string& expr, double want,
                                       std::chrono::milliseconds limit) const {
        if (eventually([&] { return value(expr) == want; }, limit)) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure()
               << expr << " did not reach " << want << "; last answer: " << query(expr)
               << "\n--- prometheus log ---\n"
               << slurp(dir / "prometheus.log");
    }
};

TEST(prometheus, kafka_alert_queries_see_a_healthy_cluster_and_a_killed_controller) {
    zookeeper_server zk;
    auto brokers = start_http_brokers(zk.connect_string(), 3, 6);
    std::vector<std::string> targets;
    std::map<std::string, broker_process*> by_target;
    std::map<std::string, int> id_of;
    for (auto& b : brokers) {
        ASSERT_TRUE(b->wait_listening(60s)) << b->log();
        ASSERT_TRUE(eventually([&] { return b->http_port() != 0; }, 30s)) << b->log();
        targets.push_back(fmt::format("127.0.0.1:{}", b->http_port()));
        by_target[targets.back()] = b.get();
        id_of[targets.back()] = static_cast<int>(targets.size());
    }
    // Every broker knows the others before the topic is auto-created with replication factor 3.
    ASSERT_TRUE(wait_brokers_known(brokers, 60s));
    auto produced =
        run_command(fmt::format("printf 'a\\nb\\nc\\n' | kcat -b 127.0.0.1:{} -P -t alerts -X "
                                "topic.request.required.acks=-1 "
                                "2>&1",
                                brokers[0]->port()));
    ASSERT_EQ(produced.status, 0) << produced.out;

    prometheus_server prom(targets);
    ASSERT_TRUE(prom.reaches("count(up == 1)", 3, 60s));
    EXPECT_TRUE(
        prom.reaches("sum(kafka_controller_kafkacontroller_activecontrollercount)", 1, 30s));
    EXPECT_TRUE(prom.reaches("sum(kafka_controller_kafkacontroller_globalpartitioncount)", 6, 30s));
    EXPECT_TRUE(prom.reaches("sum(kafka_server_replicamanager_leadercount)", 6, 30s));
    EXPECT_TRUE(prom.reaches("sum(kafka_server_replicamanager_partitioncount)", 18, 30s));
    EXPECT_TRUE(prom.reaches("sum(kafka_server_replicamanager_underreplicatedpartitions)", 0, 30s));
    EXPECT_TRUE(prom.reaches(
        R"(sum(kafka_server_brokertopicmetrics_messagesin_total{topic="alerts"}))", 3, 30s));
    EXPECT_TRUE(prom.reaches(
        R"(sum(kafka_network_requestmetrics_requests_total{request="Produce"}) > bool 0)", 1, 30s));
    // Fetch is split as Kafka splits it: followers' fetches are FetchFollower (RF 3: every
    // broker follows), and there is no plain "Fetch" series.
    EXPECT_TRUE(prom.reaches(
        R"(count(kafka_network_requestmetrics_totaltimems_count{request="FetchFollower"} > 0))", 3,
        30s));
    EXPECT_EQ(
        prom.query(R"(kafka_network_requestmetrics_requests_total{request="Fetch"})").find("=>"),
        std::string::npos);
    // Every broker has talked to ZooKeeper (registration, watches) and timed it, as Kafka's
    // ZooKeeperRequestLatencyMs; the log flush timer is exported by each (Kafka's default
    // flush policy leaves flushing to the OS, so its count may stay 0).
    EXPECT_TRUE(prom.reaches(
        "count(kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms_count > 0)", 3, 30s));
    EXPECT_TRUE(prom.reaches(
        R"(count(kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms{quantile="0.99"} > 0))",
        3, 30s));
    EXPECT_TRUE(prom.reaches("count(kafka_log_logflushstats_logflushrateandtimems_count)", 3, 30s));

    // Kill the controller: a new one takes over (the sum stays 1, on another broker) and
    // every partition (each has a replica on every broker) becomes under-replicated once
    // the dead broker leaves the ISRs.
    auto who = prom.query("kafka_controller_kafkacontroller_activecontrollercount == 1");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(who, m, std::regex(R"(instance="([0-9.:]+)\")"))) << who;
    const std::string killed = m[1];
    ASSERT_TRUE(by_target.contains(killed)) << who;
    by_target[killed]->kill_now();
    EXPECT_TRUE(prom.reaches(fmt::format(R"(up{{instance="{}"}})", killed), 0, 30s));
    EXPECT_TRUE(prom.reaches("sum(kafka_server_replicamanager_underreplicatedpartitions)", 6, 60s));
    // The leaders show the dead follower's lag, one series per partition, while it is out of
    // the ISR.
    EXPECT_TRUE(
        prom.reaches(fmt::format(R"(count(gregor_replica_follower_lag_offsets{{follower="{}"}}))",
                                 id_of[killed]),
                     6, 30s));
    EXPECT_TRUE(
        prom.reaches("sum(kafka_controller_kafkacontroller_activecontrollercount)", 1, 60s));
    EXPECT_TRUE(
        prom.reaches("sum(kafka_controller_kafkacontroller_offlinepartitionscount)", 0, 30s));
    EXPECT_TRUE(prom.reaches("sum(kafka_controller_kafkacontroller_activebrokercount)", 2, 30s));
    // A clean failover: Kafka's data-loss alert (increase of unclean elections) stays quiet,
    // and every broker exports the counter.
    EXPECT_TRUE(prom.reaches(
        "count(kafka_controller_controllerstats_uncleanleaderelections_total == 0)", 2, 30s));
    auto now_active = prom.query("kafka_controller_kafkacontroller_activecontrollercount == 1");
    EXPECT_EQ(now_active.find(killed), std::string::npos) << now_active;

    // The new controller's decision journal says what happened to each partition and why;
    // the other live broker points at it.
    ASSERT_TRUE(std::regex_search(now_active, m, std::regex(R"(instance="([0-9.:]+)\")")))
        << now_active;
    const std::string active = m[1];
    // Its failover, phase by phase (gregor's own histogram; Kafka has none): one round, and
    // the state load is one of its phases.
    EXPECT_TRUE(prom.reaches(
        fmt::format(
            R"(gregor_controller_round_phase_seconds_count{{instance="{}",round="failover",phase="total"}})",
            active),
        1, 60s));
    EXPECT_TRUE(prom.reaches(
        fmt::format(
            R"(gregor_controller_round_phase_seconds_count{{instance="{}",round="failover",phase="load"}})",
            active),
        1, 30s));
    const auto get = [](const std::string& host_port, const std::string& target) {
        auto r = admin::http_get(host_port, target, 10s);
        return r ? std::pair{r->status, r->body} : std::pair{0, r.err().to_string()};
    };
    auto [status, body] = get(active, "/api/journal?topic=alerts");
    ASSERT_EQ(status, 200) << body;
    const int dead = id_of[killed];
    std::set<int> moved;  // partitions whose new state leaves the dead broker out
    for (const std::string& line : std::vector<std::string>{body}) {
        std::regex entry(
            R"re("partition":(\d+),"old_leader":(-?\d+),"new_leader":(-?\d+),"old_isr":\[([0-9,]*)\],"new_isr":\[([0-9,]*)\].*?"reason":"([^"]+)")re");
        for (auto it = std::sregex_iterator(line.begin(), line.end(), entry);
             it != std::sregex_iterator(); ++it) {
            const auto& e = *it;
            auto isr = "," + e[5].str() + ",";
            if (std::stoi(e[3]) != dead &&
                isr.find("," + std::to_string(dead) + ",") == std::string::npos &&
                !e[6].str().empty()) {
                moved.insert(std::stoi(e[1]));
            }
        }
    }
    EXPECT_EQ(moved.size(), 6U) << "a decision per partition drops broker " << dead << ": " << body;
    for (const auto& t : targets) {
        if (t != active && t != killed) {
            auto [other_status, other_body] = get(t, "/api/journal");
            EXPECT_EQ(other_status, 503) << other_body;
            EXPECT_NE(other_body.find(fmt::format("\"controller\":{}", id_of[active])),
                      std::string::npos)
                << other_body;
        }
    }
    auto [bad_status, bad_body] = get(active, "/api/journal?partition=x");
    EXPECT_EQ(bad_status, 400) << bad_body;
}

}  // namespace
}  // namespace gregor::test

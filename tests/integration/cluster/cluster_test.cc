// Goal: `gregor cluster up` really starts a working local cluster and cleans up after
// itself: ZooKeeper and 3 brokers come up and register, every broker answers ApiVersions,
// `kill` and `restart` act on one broker, a second `up` on the same directory resumes the
// same ids, ports and ZooKeeper data, a busy directory and a taken port are clear errors,
// and neither SIGTERM to `up` nor `cluster down` leaves a process behind. With
// --zookeepers 3 it runs a real ensemble that outlives its leader.
// Method: the real gregor binary as child processes in a temp directory, ZooKeeper read
// through coord::zk_client, polling with deadlines of tens of seconds (a loaded 2-core CI
// machine), never a sleep used as an assertion.
#include "admin/connection.h"
#include "cluster/process.h"
#include "cluster/state.h"
#include "cluster/zk_view.h"
#include "integration/cluster/cluster_process.h"
#include "support/zookeeper_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <regex>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gregor::cluster {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::gregor;
using test::processes_mentioning;
using test::up_process;

constexpr auto start_limit = 180s;
constexpr auto step_limit = 60s;

class cluster_up_test : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/gregor-cluster-it-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = std::filesystem::path(tmpl) / "cluster";
    }
    void TearDown() override {
        for (pid_t p : processes_mentioning(dir_.parent_path().string())) {
            ::kill(p, SIGKILL);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_.parent_path(), ec);
    }

    cluster_state state() const {
        auto s = read_state(dir_);
        EXPECT_TRUE(s) << (s ? "" : s.err().detail);
        return s ? *s : cluster_state{};
    }

    // Reads ZooKeeper until `pred` holds for the view, within `limit`.
    bool zk_eventually(const std::function<bool(const cluster_view&)>& pred,
                       std::chrono::milliseconds limit) {
        auto zk = zk_view::connect(state().zookeeper_connect, 30s);
        if (!zk) {
            ADD_FAILURE() << zk.err().detail;
            return false;
        }
        return eventually(
            [&] {
                auto v = (*zk)->read();
                return v && pred(*v);
            },
            limit);
    }

    std::filesystem::path dir_;
};

bool registered(const cluster_view& v, std::vector<std::int32_t> ids) {
    return v.registered == ids;
}

TEST_F(cluster_up_test, starts_kills_restarts_stops_and_resumes) {
    auto up = std::make_unique<up_process>(
        dir_, std::vector<std::string>{"--brokers", "3", "--base-port", "0"});
    ASSERT_TRUE(up->wait_output("\nready\n", start_limit)) << up->output();
    auto first = state();
    ASSERT_EQ(first.brokers.size(), 3u);
    ASSERT_TRUE(zk_eventually(
        [](const cluster_view& v) {
            return registered(v, {1, 2, 3});
        },
        step_limit));
    for (const auto& b : first.brokers) {
        auto c = admin::connection::open({"127.0.0.1", b.port}, 30s);
        EXPECT_TRUE(c) << "broker " << b.id << ": " << (c ? "" : c.err().detail);
    }
    EXPECT_NE(up->output().find("kcat -b 127.0.0.1:"), std::string::npos);
    EXPECT_NE(up->output().find("metrics http://127.0.0.1:"), std::string::npos) << up->output();
    EXPECT_NE(up->output().find("dashboard http://127.0.0.1:"), std::string::npos) << up->output();
    auto created = gregor(
        "topics create journalled --partitions 2 --replication-factor 3 "
        "--config min.insync.replicas=2 --dir " +
        dir_.string());
    ASSERT_EQ(created.status, 0) << created.out;
    // Healthy: any one broker may stop (two in-sync replicas stay).
    EXPECT_TRUE(
        eventually([&] { return gregor("cluster can-stop 2 --dir " + dir_.string()).status == 0; },
                   step_limit))
        << gregor("cluster can-stop 2 --dir " + dir_.string()).out;

    // A second `up` on the same directory while it runs is a clear error.
    auto busy = gregor("cluster up --dir " + dir_.string());
    EXPECT_EQ(busy.status, 1) << busy.out;
    EXPECT_NE(busy.out.find("held by a running cluster"), std::string::npos) << busy.out;

    auto killed = gregor("cluster kill 2 --dir " + dir_.string());
    ASSERT_EQ(killed.status, 0) << killed.out;
    EXPECT_FALSE(process_alive(first.brokers[1].pid));
    EXPECT_TRUE(state().brokers[1].stopped_by_user);
    ASSERT_TRUE(zk_eventually(
        [](const cluster_view& v) {
            return registered(v, {1, 3});
        },
        step_limit));

    // The controller's journal names each decision: for both partitions, one that drops
    // broker 2 from the ISR, with its reason ("broker process gone (2)", or "controller
    // failover" when broker 2 was the controller and the journal is its successor's). The
    // controller is asked over its HTTP listener, found through --dir.
    const auto drops_broker_2 = [](const std::string& out, int partition) {
        std::regex line(fmt::format(
            R"(journalled-{}\s+\S+\s+\[[0-9,]*\]->\[([0-9,]*)\]\s+\S+\s+\S)", partition));
        for (auto it = std::sregex_iterator(out.begin(), out.end(), line);
             it != std::sregex_iterator(); ++it) {
            if ((*it)[1].str().find('2') == std::string::npos) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(eventually(
        [&] {
            auto j = gregor("cluster journal --topic journalled --dir " + dir_.string());
            return j.status == 0 && drops_broker_2(j.out, 0) && drops_broker_2(j.out, 1);
        },
        step_limit))
        << gregor("cluster journal --dir " + dir_.string()).out;
    // With broker 2 down, stopping broker 1 would leave one in-sync replica: refused (exit 3),
    // naming the partitions.
    auto blocked = gregor("cluster can-stop 1 --dir " + dir_.string());
    EXPECT_EQ(blocked.status, 3) << blocked.out;
    EXPECT_NE(
        blocked.out.find("journalled-0: the ISR would shrink to 1, below min.insync.replicas=2"),
        std::string::npos)
        << blocked.out;
    EXPECT_NE(blocked.out.find("journalled-1"), std::string::npos) << blocked.out;
    // `cluster kill` runs the same check first and refuses; broker 1 keeps running. (--force
    // would kill it anyway.) Restarting the dead broker 2 is never refused.
    auto refused = gregor("cluster kill 1 --dir " + dir_.string());
    EXPECT_EQ(refused.status, 3) << refused.out;
    EXPECT_NE(refused.out.find("refused, broker 1 cannot stop now"), std::string::npos)
        << refused.out;
    EXPECT_NE(refused.out.find("--force"), std::string::npos) << refused.out;
    EXPECT_TRUE(process_alive(first.brokers[0].pid));

    auto restarted = gregor("cluster restart 2 --dir " + dir_.string());
    ASSERT_EQ(restarted.status, 0) << restarted.out;
    auto after = state();
    EXPECT_GT(after.brokers[1].pid, 0);
    EXPECT_FALSE(after.brokers[1].stopped_by_user);
    ASSERT_TRUE(zk_eventually(
        [](const cluster_view& v) {
            return registered(v, {1, 2, 3});
        },
        step_limit));

    // SIGTERM to `up`: brokers and ZooKeeper stop, nothing is left behind.
    ::kill(up->pid(), SIGTERM);
    auto rc = up->wait_exit(step_limit * 2);
    ASSERT_TRUE(rc) << up->output();
    EXPECT_EQ(*rc, 0) << up->output();
    EXPECT_TRUE(processes_mentioning(dir_.parent_path().string()).empty());
    EXPECT_EQ(state().supervisor_pid, 0);

    // A second `up` resumes the same cluster: same ids and ports, same ZooKeeper data.
    up = std::make_unique<up_process>(dir_, std::vector<std::string>{});
    ASSERT_TRUE(up->wait_output("resuming the cluster", step_limit)) << up->output();
    ASSERT_TRUE(up->wait_output("\nready\n", start_limit)) << up->output();
    auto second = state();
    ASSERT_EQ(second.brokers.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(second.brokers[i].id, first.brokers[i].id);
        EXPECT_EQ(second.brokers[i].port, first.brokers[i].port);
        EXPECT_NE(second.brokers[i].http_port, 0);
        EXPECT_EQ(second.brokers[i].http_port, first.brokers[i].http_port);
    }
    EXPECT_EQ(second.zookeeper_connect, first.zookeeper_connect);

    auto down = gregor("cluster down --dir " + dir_.string());
    EXPECT_EQ(down.status, 0) << down.out;
    EXPECT_TRUE(up->wait_exit(step_limit));
    EXPECT_TRUE(processes_mentioning(dir_.parent_path().string()).empty());

    // Even SIGKILL of `up` leaves nothing behind: the children die with their parent.
    up = std::make_unique<up_process>(dir_, std::vector<std::string>{});
    ASSERT_TRUE(up->wait_output("\nready\n", start_limit)) << up->output();
    auto third = state();
    ::kill(up->pid(), SIGKILL);
    EXPECT_TRUE(up->wait_exit(step_limit));
    EXPECT_TRUE(eventually(
        [&] { return processes_mentioning(dir_.parent_path().string()).empty(); }, step_limit));
    for (const auto& b : third.brokers) {
        EXPECT_FALSE(process_alive(b.pid)) << "broker " << b.id;
    }
    for (const auto& z : third.zookeepers) {
        EXPECT_FALSE(process_alive(z.pid)) << "zookeeper " << z.id;
    }

    // After a crash the next `up` waits out the dead run's registrations and resumes.
    up = std::make_unique<up_process>(dir_, std::vector<std::string>{});
    ASSERT_TRUE(up->wait_output("\nready\n", start_limit)) << up->output();
    ASSERT_TRUE(zk_eventually(
        [](const cluster_view& v) {
            return registered(v, {1, 2, 3});
        },
        step_limit));
    down = gregor("cluster down --dir " + dir_.string());
    EXPECT_EQ(down.status, 0) << down.out;
    EXPECT_TRUE(up->wait_exit(step_limit));
    EXPECT_TRUE(processes_mentioning(dir_.parent_path().string()).empty());
}

TEST_F(cluster_up_test, a_port_in_use_is_a_clear_error) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    auto port = ntohs(addr.sin_port);
    auto r =
        gregor(fmt::format("cluster up --dir {} --brokers 1 --base-port {}", dir_.string(), port));
    ::close(fd);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find(fmt::format("port {} (broker 1) is in use", port)), std::string::npos)
        << r.out;
    EXPECT_TRUE(processes_mentioning(dir_.parent_path().string()).empty());
}

TEST_F(cluster_up_test, commands_on_a_directory_without_a_cluster_fail_clearly) {
    auto down = gregor("cluster down --dir " + dir_.string());
    EXPECT_EQ(down.status, 1);
    EXPECT_NE(down.out.find("no cluster in"), std::string::npos) << down.out;
    auto kill = gregor("cluster kill 1 --dir " + dir_.string());
    EXPECT_EQ(kill.status, 1);
    auto usage = gregor("cluster kill --dir " + dir_.string());
    EXPECT_EQ(usage.status, 2) << usage.out;
}

TEST_F(cluster_up_test, an_external_zookeeper_is_used_and_left_running) {
    test::zookeeper_server zk;
    auto up = std::make_unique<up_process>(
        dir_, std::vector<std::string>{"--brokers", "1", "--base-port", "0", "--zookeeper",
                                       zk.connect_string()});
    ASSERT_TRUE(up->wait_output("\nready\n", start_limit)) << up->output();
    auto s = state();
    EXPECT_FALSE(s.zookeeper_managed);
    EXPECT_EQ(s.zookeeper_connect, zk.connect_string());
    EXPECT_NE(up->output().find(zk.connect_string() + " (external)"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "zookeeper"));
    auto down = gregor("cluster down --dir " + dir_.string());
    EXPECT_EQ(down.status, 0) << down.out;
    EXPECT_TRUE(up->wait_exit(step_limit));
    EXPECT_EQ(test::four_letter_word(zk.port(), "ruok"), "imok");
}

// `up --zookeepers 3` runs a real ensemble: three servers, one leader, the brokers on all
// three. Killing the ZooKeeper leader leaves a majority: the supervisor says so, a new leader
// is elected, and the cluster still creates topics and elects a new controller.
TEST_F(cluster_up_test, an_ensemble_of_three_survives_the_loss_of_its_leader) {
    auto up = std::make_unique<up_process>(
        dir_, std::vector<std::string>{"--brokers", "2", "--base-port", "0", "--zookeepers", "3"});
    ASSERT_TRUE(up->wait_output("\nready\n", start_limit)) << up->output();
    auto s = state();
    ASSERT_EQ(s.zookeepers.size(), 3u);
    std::vector<std::string> modes;
    for (const auto& z : s.zookeepers) {
        EXPECT_TRUE(process_alive(z.pid)) << "zookeeper " << z.id;
        EXPECT_NE(s.zookeeper_connect.find(fmt::format("127.0.0.1:{}", z.port)), std::string::npos)
            << s.zookeeper_connect;
        auto srvr = test::four_letter_word(z.port, "srvr");
        std::smatch m;
        ASSERT_TRUE(std::regex_search(srvr, m, std::regex("Mode: (\\w+)"))) << srvr;
        modes.push_back(m[1]);
    }
    std::string all_modes;
    for (const auto& m : modes) {
        all_modes += m + " ";
    }
    ASSERT_EQ(std::count(modes.begin(), modes.end(), "leader"), 1) << all_modes;
    EXPECT_EQ(std::count(modes.begin(), modes.end(), "follower"), 2);
    for (std::int32_t id : {1, 2}) {
        std::ifstream props(dir_ / fmt::format("broker-{}", id) / "server.properties");
        std::stringstream text;
        text << props.rdbuf();
        EXPECT_NE(text.str().find("zookeeper.connect=" + s.zookeeper_connect), std::string::npos)
            << text.str();
    }
    EXPECT_NE(up->output().find("(an ensemble of 3)"), std::string::npos) << up->output();

    auto leader = s.zookeepers[static_cast<std::size_t>(
        std::find(modes.begin(), modes.end(), "leader") - modes.begin())];
    ::kill(leader.pid, SIGKILL);
    ASSERT_TRUE(up->wait_output(fmt::format("ZooKeeper server {} killed by SIGKILL", leader.id),
                                step_limit))
        << up->output();
    EXPECT_NE(up->output().find("2 of 3 servers run, still a majority"), std::string::npos)
        << up->output();
    EXPECT_TRUE(eventually(
        [&] {
            for (const auto& z : s.zookeepers) {
                if (z.id != leader.id &&
                    test::four_letter_word(z.port, "srvr").find("Mode: leader") !=
                        std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        step_limit));
    auto created = gregor(
        "topics create after-leader-loss --partitions 2 --replication-factor 2 "
        "--dir " +
        dir_.string());
    EXPECT_EQ(created.status, 0) << created.out;
    // The controller moves on the survivors' ZooKeeper: kill it, the other broker takes over.
    std::optional<std::int32_t> controller;
    ASSERT_TRUE(zk_eventually(
        [&](const cluster_view& v) { return (controller = v.controller).has_value(); },
        step_limit));
    auto killed =
        gregor(fmt::format("cluster kill {} --force --dir {}", *controller, dir_.string()));
    ASSERT_EQ(killed.status, 0) << killed.out;
    EXPECT_TRUE(zk_eventually(
        [&](const cluster_view& v) { return v.controller && *v.controller != *controller; },
        step_limit));
    auto down = gregor("cluster down --dir " + dir_.string());
    EXPECT_EQ(down.status, 0) << down.out;
    EXPECT_TRUE(up->wait_exit(step_limit));
    for (const auto& z : state().zookeepers) {
        EXPECT_EQ(z.pid, 0) << "zookeeper " << z.id;
    }
}

TEST_F(cluster_up_test, a_broker_that_exits_at_start_is_named_with_its_log) {
    // /bin/false stands in for a broker binary that fails at once.
    auto r = gregor(fmt::format("cluster up --dir {} --brokers 2 --base-port 0 --gregor /bin/false",
                                dir_.string()));
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("exited with code 1 while the cluster was starting; see " + dir_.string() +
                         "/broker-"),
              std::string::npos)
        << r.out;
    EXPECT_TRUE(processes_mentioning(dir_.parent_path().string()).empty());
    EXPECT_EQ(state().supervisor_pid, 0);
}

TEST_F(cluster_up_test, missing_java_says_to_run_the_setup_script) {
    auto r = gregor("cluster up --base-port 0 --dir " + dir_.string(), "env PATH=/nonexistent");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("scripts/setup.sh"), std::string::npos) << r.out;
    EXPECT_TRUE(processes_mentioning(dir_.parent_path().string()).empty());
}

}  // namespace
}  // namespace gregor::cluster

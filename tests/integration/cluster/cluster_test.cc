// Goal: `gregor cluster up` really starts a working local cluster and cleans up after
// itself: ZooKeeper and 3 brokers come up and register, every broker answers ApiVersions,
// `kill` and `restart` act on one broker, a second `up` on the same directory resumes the
// same ids, ports and ZooKeeper data, a busy directory and a taken port are clear errors,
// and neither SIGTERM to `up` nor `cluster down` leaves a process behind.
// Method: the real gregor binary as child processes in a temp directory, ZooKeeper read
// through coord::zk_client, polling with deadlines of tens of seconds (a loaded 2-core CI
// machine), never a sleep used as an assertion.
#include "admin/connection.h"
#include "cluster/process.h"
#include "cluster/state.h"
#include "cluster/zk_view.h"
#include "coord/zk_client.h"
#include "coord/znode_json.h"

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
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gregor::cluster {
namespace {

using namespace std::chrono_literals;

constexpr auto start_limit = 180s;
constexpr auto step_limit = 60s;

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct command_result {
    int status = -1;
    std::string out;
};

// Runs `[prefix] gregor <args>` to completion, capturing stdout and stderr.
command_result gregor(const std::string& args, const std::string& prefix = "") {
    command_result r;
    std::string cmd = prefix + " " + std::string(GREGOR_BINARY) + " " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return r;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        r.out.append(buf, n);
    }
    int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// `gregor cluster up` as a child whose output goes to a file.
class up_process {
public:
    up_process(const std::filesystem::path& dir, std::vector<std::string> extra) {
        out_ = dir.string() + ".up.log";
        std::vector<std::string> args{GREGOR_BINARY, "cluster", "up", "--dir", dir.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) {
                ::_exit(127);
            }
            int fd = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
            std::vector<char*> argv;
            for (auto& a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~up_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    std::string output() const { return slurp(out_); }
    bool wait_output(const std::string& text, std::chrono::milliseconds limit) const {
        return eventually([&] { return output().find(text) != std::string::npos; }, limit);
    }
    // Waits for exit; returns the exit code, or nullopt after `limit`.
    std::optional<int> wait_exit(std::chrono::milliseconds limit) {
        auto s = reap_within(pid_, limit);
        if (!s) {
            return std::nullopt;
        }
        pid_ = -1;
        return WIFEXITED(*s) ? WEXITSTATUS(*s) : 128 + WTERMSIG(*s);
    }

private:
    std::filesystem::path out_;
    pid_t pid_ = -1;
};

// Every live process whose command line mentions `needle` (the unique temp dir).
std::vector<pid_t> processes_mentioning(const std::string& needle) {
    std::vector<pid_t> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        auto cmdline = slurp(e.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        auto pid = static_cast<pid_t>(std::stoi(name));
        if (cmdline.find(needle) != std::string::npos && process_alive(pid)) {
            out.push_back(pid);
        }
    }
    return out;
}

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

// Until the controller lands on this branch, no broker creates /controller, so `up` would
// wait for it forever. Once the brokers are registered and no controller appeared within a
// grace period, the test writes /controller itself (persistent, naming broker 1), standing
// in for the election. Remove this once the brokers elect a controller.
void stand_in_controller_if_none(const std::filesystem::path& dir) {
    ASSERT_TRUE(eventually([&] { return read_state(dir).has_value(); }, 60s));
    auto connect = read_state(dir)->zookeeper_connect;
    boost::asio::io_context ioc;
    coord::zk_config cfg;
    cfg.connect = connect;
    cfg.connection_timeout = 60s;
    coord::zk_client zk(ioc, cfg);
    auto pump = [&](const std::function<bool()>& done, std::chrono::milliseconds limit) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < end) {
            ioc.restart();
            ioc.run_one_for(50ms);
        }
        return done();
    };
    std::optional<result<void>> started;
    zk.start([&](result<void> r) { started.emplace(std::move(r)); });
    ASSERT_TRUE(pump([&] { return started.has_value(); }, 90s));
    ASSERT_TRUE(*started);
    auto controller_exists = [&] {
        std::optional<result<std::optional<coord::znode_stat>>> got;
        zk.exists("/controller", {}, [&](auto r) { got.emplace(std::move(r)); });
        pump([&] { return got.has_value(); }, 10s);
        return got && *got && (*got)->has_value();
    };
    auto brokers_registered = [&] {
        std::optional<result<coord::children>> got;
        zk.get_children("/brokers/ids", {}, [&](auto r) { got.emplace(std::move(r)); });
        pump([&] { return got.has_value(); }, 10s);
        return got && *got && (*got)->names.size() == 3;
    };
    ASSERT_TRUE(eventually(brokers_registered, start_limit));
    if (eventually(controller_exists, 15s)) {
        return;
    }
    std::optional<result<std::string>> created;
    zk.create("/controller",
              coord::encode_controller({model::node_id{1}, model::timestamp_ms{0}, std::nullopt}),
              coord::create_mode::persistent, [&](auto r) { created.emplace(std::move(r)); });
    pump([&] { return created.has_value(); }, 10s);
}

bool registered(const cluster_view& v, std::vector<std::int32_t> ids) {
    return v.registered == ids;
}

TEST_F(cluster_up_test, starts_kills_restarts_stops_and_resumes) {
    auto up = std::make_unique<up_process>(
        dir_, std::vector<std::string>{"--brokers", "3", "--base-port", "0"});
    stand_in_controller_if_none(dir_);
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
    EXPECT_FALSE(process_alive(third.zookeeper_pid));

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

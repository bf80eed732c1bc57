#include "cluster/supervisor.h"

#include "base/log.h"
#include "cluster/errc.h"
#include "cluster/process.h"
#include "cluster/summary.h"
#include "cluster/supervisor_impl.h"
#include "cluster/zookeeper.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sys/file.h>
#include <unistd.h>

namespace gregor::cluster {
namespace detail {
namespace {

using namespace std::chrono_literals;

// How long `down` lets the brokers' controlled shutdowns run before killing them; a killed
// broker recovers every log at its next start (minutes at 300,000 partitions). At 300,000
// partitions RF 3 the three shutdowns at once (the controller moves each broker's leaders in
// turn) outlasted the 30 s this once was. `cluster down` waits 120 s for all of it.
constexpr auto broker_stop_grace = 90s;
constexpr auto readiness_poll = 250ms;
constexpr auto progress_interval = 10s;
// Beyond twice the session timeout, for ZooKeeper to notice expired sessions.
constexpr auto stale_grace = 10s;
// Bounds the attempts to find N distinct free ports.
constexpr int free_port_attempts = 100;
// With --base-port P, broker N listens on P + N - 1 and serves /metrics on P + 100 + N - 1.
constexpr int http_port_offset = 100;

void complain(const std::string& text) {
    std::fprintf(stderr, "gregor cluster: %s\n", text.c_str());
    std::fflush(stderr);
}

std::string self_executable() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("gregor") : p.string();
}

// How the user can run this gregor again: "gregor" if that is what PATH finds, else the
// path relative to the working directory when it lies below it, else the absolute path.
std::string display_command() {
    auto self = std::filesystem::path(self_executable());
    std::error_code ec;
    if (auto on_path = find_on_path("gregor");
        on_path && std::filesystem::equivalent(*on_path, self, ec)) {
        return "gregor";
    }
    auto cwd = std::filesystem::current_path(ec);
    auto rel = self.lexically_relative(cwd);
    if (!ec && !rel.empty() && *rel.begin() != "..") {
        return rel.string();
    }
    return self.string();
}

}  // namespace

void say(const std::string& text) {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
}

supervisor::supervisor(up_options o) : options_(std::move(o)) {}

supervisor::~supervisor() {
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);
    }
}

int supervisor::run() {
    if (auto r = prepare(); !r) {
        complain(r.err().detail.empty() ? r.err().to_string() : r.err().detail);
        return exit_failed;
    }
    auto started = start_all();
    auto view = started ? wait_ready() : result<cluster_view>(started.err());
    if (!view) {
        complain(view.err().detail.empty() ? view.err().to_string() : view.err().detail);
        say("gregor cluster: stopping everything it started\n");
        stop_all();
        return exit_failed;
    }
    say(summary_text(state_, *view, display_command()));
    int rc = supervise();
    stop_all();
    return rc;
}

result<void> supervisor::prepare() {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    auto dir = std::filesystem::absolute(options_.dir, ec).lexically_normal();
    if (ec || !std::filesystem::is_directory(dir)) {
        return error(errc::io_error, fmt::format("cannot create directory {}", options_.dir));
    }
    if (dir.has_filename() == false) {
        dir = dir.parent_path();
    }
    layout_.dir = dir;
    gregor_binary_ = options_.gregor.empty() ? self_executable() : options_.gregor;
    GREGOR_TRY_VOID(take_directory());
    GREGOR_TRY_VOID(load_or_create_state());
    GREGOR_TRY_VOID(check_ports());
    // Requests and replies of an earlier run are stale: nobody waits for them any more.
    std::filesystem::remove_all(layout_.control_dir(), ec);
    std::filesystem::create_directories(layout_.control_dir(), ec);
    for (const auto& b : state_.brokers) {
        std::filesystem::create_directories(layout_.broker_data(b.id), ec);
    }
    return ok();
}

result<void> supervisor::take_directory() {
    lock_fd_ = ::open(layout_.lock_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) {
        return error(errc::io_error, fmt::format("cannot open {}: {}", layout_.lock_file().string(),
                                                 std::strerror(errno)));
    }
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        auto held = read_state(layout_.dir);
        std::string who = held ? fmt::format(" (supervisor pid {})", held->supervisor_pid) : "";
        return error(errc::busy,
                     fmt::format("{} is held by a running cluster{}; stop it with `gregor cluster "
                                 "down --dir {}` or use another --dir",
                                 layout_.dir.string(), who, layout_.dir.string()));
    }
    return ok();
}

result<void> supervisor::load_or_create_state() {
    auto old = read_state(layout_.dir);
    if (!old && old.code() != errc::not_running) {
        return error(old.code(),
                     fmt::format("{} (delete the directory to start afresh)", old.err().detail));
    }
    if (old) {
        state_ = std::move(*old);
        resumed_ = true;
        if (options_.brokers_given &&
            static_cast<std::size_t>(options_.brokers) != state_.brokers.size()) {
            return error(
                errc::bad_request,
                fmt::format("{} holds a cluster of {} brokers, not {}; use another --dir",
                            layout_.dir.string(), state_.brokers.size(), options_.brokers));
        }
        if (state_.zookeeper_managed && state_.zookeepers.empty()) {
            return error(errc::bad_state_file,
                         fmt::format("{}: the cluster runs its own ZooKeeper but lists no "
                                     "server; use another --dir",
                                     state_path(layout_.dir).string()));
        }
        if (options_.zookeepers_given && state_.zookeeper_managed &&
            static_cast<std::size_t>(options_.zookeepers) != state_.zookeepers.size()) {
            return error(
                errc::bad_request,
                fmt::format("{} holds a cluster with {} ZooKeeper server(s), not {}; use "
                            "another --dir",
                            layout_.dir.string(), state_.zookeepers.size(), options_.zookeepers));
        }
        if (!options_.zookeeper.empty() && options_.zookeeper != state_.zookeeper_connect) {
            return error(errc::bad_request,
                         fmt::format("{} holds a cluster on ZooKeeper {}; use another --dir",
                                     layout_.dir.string(), state_.zookeeper_connect));
        }
        say(fmt::format("gregor cluster: resuming the cluster in {}\n", layout_.dir.string()));
        for (auto& b : state_.brokers) {
            if (b.http_port == 0) {  // a cluster from before metrics: pick a port now
                GREGOR_TRY(b.http_port, pick_free_port());
            }
        }
    } else {
        state_ = cluster_state{};
        state_.session_timeout_ms = static_cast<std::int32_t>(demo_session_timeout.count());
        state_.zookeeper_managed = options_.zookeeper.empty();
        state_.zookeeper_connect = options_.zookeeper;
        if (state_.zookeeper_managed) {
            for (std::int32_t id = 1; id <= options_.zookeepers; ++id) {
                state_.zookeepers.push_back({options_.zookeepers == 1 ? 0 : id, 0, 0, 0, 0});
            }
        }
        for (std::int32_t id = 1; id <= options_.brokers; ++id) {
            state_.brokers.push_back({id, 0, 0, false, 0});
        }
        GREGOR_TRY_VOID(assign_new_ports());
    }
    if (options_.session_timeout_ms > 0) {  // for a new cluster, and a resumed one too
        state_.session_timeout_ms = options_.session_timeout_ms;
    }
    state_.dir = layout_.dir.string();
    state_.supervisor_pid = ::getpid();
    for (auto& z : state_.zookeepers) {
        z.pid = 0;
    }
    for (auto& b : state_.brokers) {
        b.pid = 0;
        b.stopped_by_user = false;
    }
    return ok();
}

result<void> supervisor::assign_new_ports() {
    std::set<std::uint16_t> used;
    auto fresh = [&]() -> result<std::uint16_t> {
        for (int i = 0; i < free_port_attempts; ++i) {
            GREGOR_TRY(auto p, pick_free_port());
            if (used.insert(p).second) {
                return p;
            }
        }
        return error(errc::port_in_use, "cannot find enough free loopback ports");
    };
    for (auto& b : state_.brokers) {
        if (options_.base_port == 0) {
            GREGOR_TRY(b.port, fresh());
            GREGOR_TRY(b.http_port, fresh());
        } else {
            b.port = static_cast<std::uint16_t>(options_.base_port + b.id - 1);
            b.http_port =
                static_cast<std::uint16_t>(options_.base_port + http_port_offset + b.id - 1);
            used.insert(b.port);
            used.insert(b.http_port);
        }
    }
    if (state_.zookeeper_managed) {
        for (auto& z : state_.zookeepers) {
            GREGOR_TRY(z.port, fresh());
            if (z.id != 0) {
                GREGOR_TRY(z.quorum_port, fresh());
                GREGOR_TRY(z.election_port, fresh());
            }
        }
        state_.zookeeper_connect = zookeeper_connect_string(state_.zookeepers);
    }
    return ok();
}

result<void> supervisor::check_ports() const {
    // A resumed cluster keeps its ports (they are in cluster.json and the brokers' metadata).
    std::string way_out = resumed_ ? "or use another --dir (this cluster's ports are fixed)"
                                   : "or pick another --base-port (0 picks free ports)";
    for (const auto& b : state_.brokers) {
        if (b.http_port != 0 && !port_free(b.http_port)) {
            return error(errc::port_in_use,
                         fmt::format("port {} (broker {}'s /metrics) is in use; stop what listens "
                                     "there {}",
                                     b.http_port, b.id, way_out));
        }
        if (!port_free(b.port)) {
            return error(errc::port_in_use,
                         fmt::format("port {} (broker {}) is in use; stop what listens there {}",
                                     b.port, b.id, way_out));
        }
    }
    for (const auto& z : state_.zookeepers) {
        for (std::uint16_t port : {z.port, z.quorum_port, z.election_port}) {
            if (port != 0 && !port_free(port)) {
                return error(errc::port_in_use,
                             fmt::format("port {} (ZooKeeper{}) is in use; stop what listens "
                                         "there or use another --dir",
                                         port, z.id == 0 ? "" : fmt::format(" server {}", z.id)));
            }
        }
    }
    return ok();
}

result<void> supervisor::start_all() {
    save_state();
    if (state_.zookeeper_managed) {
        GREGOR_TRY_VOID(check_zookeeper_installed());
        if (state_.zookeepers.size() == 1) {
            say(fmt::format("gregor cluster: starting ZooKeeper on {} (log {})\n",
                            state_.zookeeper_connect,
                            layout_.zookeeper_log(state_.zookeepers[0].id).string()));
        } else {
            say(fmt::format(
                "gregor cluster: starting a ZooKeeper ensemble of {} on {} (logs "
                "{}/zookeeper-*/zookeeper.log)\n",
                state_.zookeepers.size(), state_.zookeeper_connect, layout_.dir.string()));
        }
        auto started = start_zookeepers(layout_, state_.zookeepers,
                                        std::chrono::seconds(options_.start_timeout_s));
        save_state();
        GREGOR_TRY_VOID(started);
    }
    GREGOR_TRY_VOID(wait_stale_registrations_gone());
    for (auto& b : state_.brokers) {
        GREGOR_TRY_VOID(start_broker(b));
    }
    say(
        fmt::format("gregor cluster: started {} broker(s); waiting for registrations and a "
                    "controller\n",
                    state_.brokers.size()));
    return ok();
}

result<void> supervisor::wait_stale_registrations_gone() {
    // None of our brokers runs yet, so a registration of one of our ids is left over from a
    // run that did not stop cleanly (ZooKeeper restores its sessions and expires them one
    // session timeout later). A broker started now would find it owned by another session
    // and refuse to start, as Kafka's does.
    GREGOR_TRY(auto zk, zk_view::connect(state_.zookeeper_connect,
                                         std::chrono::seconds(options_.start_timeout_s)));
    auto limit = 2 * std::chrono::milliseconds(state_.session_timeout_ms) + stale_grace;
    auto end = std::chrono::steady_clock::now() + limit;
    bool announced = false;
    for (;;) {
        GREGOR_TRY(auto v, zk->read());
        std::vector<std::int32_t> stale;
        for (const auto& b : state_.brokers) {
            if (std::binary_search(v.registered.begin(), v.registered.end(), b.id)) {
                stale.push_back(b.id);
            }
        }
        if (stale.empty()) {
            return ok();
        }
        if (std::chrono::steady_clock::now() >= end) {
            return error(errc::busy,
                         fmt::format("broker id(s) {} stay registered in ZooKeeper {} by another "
                                     "process; is another cluster using these ids?",
                                     fmt::join(stale, ", "), state_.zookeeper_connect));
        }
        if (!announced) {
            say(
                fmt::format("gregor cluster: waiting for the previous run's registrations of "
                            "broker(s) {} to expire (up to {} s)\n",
                            fmt::join(stale, ", "),
                            std::chrono::duration_cast<std::chrono::seconds>(limit).count()));
            announced = true;
        }
        pending_ = signals_.wait(readiness_poll);
        if (pending_.stop) {
            return error(errc::interrupted, "interrupted while starting");
        }
    }
}

result<void> supervisor::start_broker(broker_entry& b) {
    broker_settings s;
    s.id = b.id;
    s.port = b.port;
    s.http_port = b.http_port;
    s.data_dir = layout_.broker_data(b.id);
    s.zookeeper_connect = state_.zookeeper_connect;
    s.session_timeout = std::chrono::milliseconds(state_.session_timeout_ms);
    s.replication_factor =
        static_cast<std::int32_t>(std::min<std::size_t>(3, state_.brokers.size()));
    std::error_code ec;
    std::filesystem::create_directories(s.data_dir, ec);
    {
        std::ofstream props(layout_.broker_config(b.id), std::ios::trunc);
        props << server_properties(s);
        if (!props) {
            return error(errc::io_error, "cannot write " + layout_.broker_config(b.id).string());
        }
    }
    GREGOR_TRY(b.pid,
               spawn({{gregor_binary_, "broker", "--config", layout_.broker_config(b.id).string()},
                      layout_.broker_log(b.id)}));
    b.stopped_by_user = false;
    save_state();
    return ok();
}

result<void> supervisor::check_children_while_starting() {
    for (auto& z : state_.zookeepers) {
        if (auto st = try_reap(z.pid)) {
            z.pid = 0;
            return error(
                errc::start_failed,
                fmt::format("ZooKeeper{} {} while the cluster was starting; see {}",
                            z.id == 0 ? "" : fmt::format(" server {}", z.id),
                            describe_wait_status(*st), layout_.zookeeper_log(z.id).string()));
        }
    }
    for (auto& b : state_.brokers) {
        if (auto st = try_reap(b.pid)) {
            b.pid = 0;
            return error(errc::start_failed,
                         fmt::format("broker {} {} while the cluster was starting; see {}", b.id,
                                     describe_wait_status(*st), layout_.broker_log(b.id).string()));
        }
    }
    return ok();
}

result<cluster_view> supervisor::wait_ready() {
    auto start = std::chrono::steady_clock::now();
    auto end = start + std::chrono::seconds(options_.start_timeout_s);
    GREGOR_TRY(auto zk, zk_view::connect(state_.zookeeper_connect,
                                         std::chrono::seconds(options_.start_timeout_s)));
    std::vector<std::int32_t> ids;
    for (const auto& b : state_.brokers) {
        ids.push_back(b.id);
    }
    auto next_progress = start + progress_interval;
    std::string gap = "the first ZooKeeper read";
    while (std::chrono::steady_clock::now() < end) {
        pending_ = signals_.wait(readiness_poll);
        if (pending_.stop) {
            return error(errc::interrupted, "interrupted while starting");
        }
        GREGOR_TRY_VOID(check_children_while_starting());
        refuse_control_requests_while_starting();
        if (auto v = zk->read()) {
            gap = readiness_gap(*v, ids);
            if (gap.empty()) {
                return std::move(*v);
            }
        }
        if (std::chrono::steady_clock::now() >= next_progress) {
            say(fmt::format("gregor cluster: still waiting for {}\n", gap));
            next_progress += progress_interval;
        }
    }
    return error(errc::timed_out,
                 fmt::format("the cluster was not ready within {} s: still waiting for {}; see "
                             "the logs {}/broker-*/broker.log",
                             options_.start_timeout_s, gap, layout_.dir.string()));
}

void supervisor::stop_all() {
    bool any = false;
    for (auto& b : state_.brokers) {
        if (b.pid > 0) {
            ::kill(b.pid, SIGCONT);
            ::kill(b.pid, SIGTERM);
            any = true;
        }
    }
    if (any) {
        say("gregor cluster: stopping brokers (controlled shutdown)\n");
    }
    auto end = std::chrono::steady_clock::now() + broker_stop_grace;
    for (auto& b : state_.brokers) {
        if (b.pid <= 0) {
            continue;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (!reap_within(b.pid, std::max(left, std::chrono::milliseconds(0)))) {
            complain(fmt::format("broker {} did not stop within {} s; killing it", b.id,
                                 broker_stop_grace.count()));
            stop_child(b.pid, std::chrono::milliseconds(0));
        }
        b.pid = 0;
    }
    for (auto& z : state_.zookeepers) {
        if (z.pid > 0) {
            say(z.id == 0 ? std::string("gregor cluster: stopping ZooKeeper\n")
                          : fmt::format("gregor cluster: stopping ZooKeeper server {}\n", z.id));
            stop_child(z.pid, zookeeper_stop_grace);
            z.pid = 0;
        }
    }
    state_.supervisor_pid = 0;
    save_state();
    say("gregor cluster: stopped\n");
}

void supervisor::save_state() {
    if (auto r = write_state(layout_.dir, state_); !r) {
        complain(r.err().detail);
    }
}

}  // namespace detail

int run_up(const up_options& o) {
    // The supervisor's own output is its printed lines; library info lines (the ZooKeeper
    // session it reads through) would only interleave with them.
    log_set_level("error");
    detail::supervisor s(o);
    return s.run();
}

}  // namespace gregor::cluster

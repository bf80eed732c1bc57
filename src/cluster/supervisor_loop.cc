// The supervisor's steady state: signals, child exits and control requests; and the
// client commands (down, kill, pause, resume, restart) that talk to it.
#include "cluster/errc.h"
#include "cluster/process.h"
#include "cluster/supervisor.h"
#include "cluster/supervisor_impl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <poll.h>
#include <sys/signalfd.h>
#include <thread>
#include <unistd.h>

namespace gregor::cluster {
namespace detail {
namespace {

using namespace std::chrono_literals;

constexpr auto loop_tick = 200ms;
constexpr auto restart_stop_grace = 30s;
constexpr auto kill_reap_limit = 10s;
// Bounds the signals read in one wait (the kernel merges repeats of a signal anyway).
constexpr int signals_per_wait = 32;

sigset_t supervisor_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1}) {
        sigaddset(&set, s);
    }
    return set;
}

}  // namespace

signal_source::signal_source() {
    sigset_t set = supervisor_signals();
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    // A closed stdout (the reader of our summary went away) must not kill the supervisor.
    ::signal(SIGPIPE, SIG_IGN);
}

signal_source::~signal_source() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    sigset_t set = supervisor_signals();
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

signal_events signal_source::wait(std::chrono::milliseconds limit) {
    signal_events ev;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) {
        return ev;
    }
    signalfd_siginfo info{};
    for (int i = 0; i < signals_per_wait; ++i) {
        if (::read(fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
            break;
        }
        switch (static_cast<int>(info.ssi_signo)) {
            case SIGCHLD:
                ev.children = true;
                break;
            case SIGUSR1:
                ev.control = true;
                break;
            default:
                ev.stop = true;
        }
    }
    return ev;
}

int supervisor::supervise() {
    for (;;) {
        if (pending_.stop) {
            say("gregor cluster: stop requested\n");
            return exit_ok;
        }
        // Reaping and the control directory are checked every tick: signals of the same
        // kind merge, and a request may land between two signals.
        if (!reap_children()) {
            return exit_failed;
        }
        serve_control_requests();
        pending_ = signals_.wait(loop_tick);
    }
}

bool supervisor::reap_children() {
    for (auto& z : state_.zookeepers) {
        auto st = try_reap(z.pid);
        if (!st) {
            continue;
        }
        z.pid = 0;
        save_state();
        if (z.id == 0) {
            std::fprintf(stderr, "gregor cluster: ZooKeeper %s; see %s; stopping the cluster\n",
                         describe_wait_status(*st).c_str(), layout_.zookeeper_log().c_str());
            return false;
        }
        // An ensemble serves on while a majority runs; the brokers ride it out (or, without
        // a majority, wait for it).
        auto running = std::count_if(state_.zookeepers.begin(), state_.zookeepers.end(),
                                     [](const zookeeper_entry& e) { return e.pid > 0; });
        say(fmt::format("gregor cluster: ZooKeeper server {} {} (log {}); {} of {} servers run{}\n",
                        z.id, describe_wait_status(*st), layout_.zookeeper_log(z.id).string(),
                        running, state_.zookeepers.size(),
                        2 * static_cast<std::size_t>(running) > state_.zookeepers.size()
                            ? ", still a majority"
                            : ": no majority, so ZooKeeper serves nobody"));
    }
    for (auto& b : state_.brokers) {
        if (auto st = try_reap(b.pid)) {
            b.pid = 0;
            save_state();
            say(
                fmt::format("gregor cluster: broker {} {} (log {}); `gregor cluster restart {} "
                            "--dir {}` starts it again\n",
                            b.id, describe_wait_status(*st), layout_.broker_log(b.id).string(),
                            b.id, layout_.dir.string()));
        }
    }
    return true;
}

void supervisor::serve_control_requests() {
    for (auto& pending : take_requests(layout_)) {
        control_reply reply = pending.request ? execute(*pending.request)
                                              : control_reply{false, pending.request.err().detail};
        say(fmt::format("gregor cluster: {}{}\n", reply.ok ? "" : "refused: ", reply.message));
        send_reply(layout_, pending.client, reply);
    }
}

void supervisor::refuse_control_requests_while_starting() {
    for (auto& pending : take_requests(layout_)) {
        send_reply(layout_, pending.client,
                   {false,
                    "the cluster is still starting; try again once `cluster up` prints "
                    "ready"});
    }
}

control_reply supervisor::execute(const control_request& r) {
    broker_entry* b = state_.find_broker(r.broker);
    if (b == nullptr) {
        return {false, fmt::format("no broker {} in this cluster (ids 1..{})", r.broker,
                                   state_.brokers.size())};
    }
    if (r.action == control_action::restart) {
        return restart_broker(*b);
    }
    if (b->pid <= 0) {
        return {false,
                fmt::format("broker {} is not running; `restart {}` starts it", b->id, b->id)};
    }
    switch (r.action) {
        case control_action::kill: {
            pid_t pid = b->pid;
            ::kill(pid, SIGKILL);
            if (reap_within(pid, kill_reap_limit)) {
                b->pid = 0;
            }
            b->stopped_by_user = true;
            save_state();
            return {true, fmt::format("broker {} killed (SIGKILL to pid {}); it stays down "
                                      "until `restart {}`",
                                      b->id, pid, b->id)};
        }
        case control_action::pause:
            ::kill(b->pid, SIGSTOP);
            return {true, fmt::format("broker {} paused (SIGSTOP to pid {})", b->id, b->pid)};
        case control_action::resume:
            ::kill(b->pid, SIGCONT);
            return {true, fmt::format("broker {} resumed (SIGCONT to pid {})", b->id, b->pid)};
        case control_action::restart:
            break;
    }
    return {false, "unreachable"};
}

control_reply supervisor::restart_broker(broker_entry& b) {
    if (b.pid > 0) {
        say(fmt::format("gregor cluster: stopping broker {} (controlled shutdown)\n", b.id));
        stop_child(b.pid, restart_stop_grace);
        b.pid = 0;
    }
    if (auto r = start_broker(b); !r) {
        save_state();
        return {false, fmt::format("broker {} did not start: {}", b.id, r.err().detail)};
    }
    return {true, fmt::format("broker {} restarted (pid {}, log {})", b.id, b.pid,
                              layout_.broker_log(b.id).string())};
}

}  // namespace detail

namespace {

result<cluster_state> running_cluster(const std::string& dir) {
    auto s = read_state(dir);
    if (!s) {
        return error(errc::not_running, fmt::format("no cluster in {} ({})", dir, s.err().detail));
    }
    if (s->supervisor_pid <= 0 || !process_alive(s->supervisor_pid)) {
        return error(errc::not_running, fmt::format("no running cluster in {}", dir));
    }
    return s;
}

int fail(const error& e) {
    std::fprintf(stderr, "gregor cluster: %s\n",
                 e.detail.empty() ? e.to_string().c_str() : e.detail.c_str());
    return exit_failed;
}

}  // namespace

int run_down(const down_options& o) {
    auto s = running_cluster(o.dir);
    if (!s) {
        return fail(s.err());
    }
    ::kill(s->supervisor_pid, SIGTERM);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
    while (process_alive(s->supervisor_pid)) {
        if (std::chrono::steady_clock::now() > end) {
            return fail(error(errc::timed_out,
                              fmt::format("the cluster supervisor (pid {}) did not stop within "
                                          "{} s",
                                          s->supervisor_pid, o.timeout_s)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("gregor cluster: stopped the cluster in %s\n", s->dir.c_str());
    return exit_ok;
}

int run_control(const control_options& o) {
    auto s = running_cluster(o.dir);
    if (!s) {
        return fail(s.err());
    }
    cluster_layout layout{s->dir};
    auto reply = call_supervisor(layout, s->supervisor_pid, {o.action, o.broker},
                                 std::chrono::seconds(o.timeout_s));
    if (!reply) {
        return fail(reply.err());
    }
    if (!reply->ok) {
        return fail(error(errc::bad_request, reply->message));
    }
    std::printf("gregor cluster: %s\n", reply->message.c_str());
    return exit_ok;
}

}  // namespace gregor::cluster

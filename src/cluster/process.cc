#include "cluster/process.h"

#include "cluster/errc.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gregor::cluster {
namespace {

using namespace std::chrono_literals;

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const std::vector<char*>& argv, int log_fd, pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
        ::_exit(127);
    }
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        ::dup2(null_fd, STDIN_FILENO);
    }
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execvp(argv[0], argv.data());
    const char* what = "gregor cluster: exec failed: ";
    ssize_t ignored = ::write(STDERR_FILENO, what, std::strlen(what));
    const char* why = std::strerror(errno);
    ignored = ::write(STDERR_FILENO, why, std::strlen(why));
    ignored = ::write(STDERR_FILENO, "\n", 1);
    (void)ignored;
    ::_exit(127);
}

int loopback_listener(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

result<pid_t> spawn(const spawn_spec& spec) {
    if (spec.argv.empty()) {
        return error(errc::start_failed, "empty command");
    }
    int log_fd = ::open(spec.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        return error(errc::start_failed,
                     fmt::format("cannot open {}: {}", spec.log.string(), std::strerror(errno)));
    }
    std::vector<std::string> args = spec.argv;
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
        exec_child(argv, log_fd, parent);
    }
    ::close(log_fd);
    if (pid < 0) {
        return error(errc::start_failed, fmt::format("fork: {}", std::strerror(errno)));
    }
    // Also from the parent, so the group exists before anyone signals it.
    ::setpgid(pid, pid);
    return pid;
}

bool process_alive(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) {
        return false;
    }
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    std::getline(stat, line);
    auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos || close_paren + 2 >= line.size()) {
        return true;  // no /proc: trust kill()
    }
    char state = line[close_paren + 2];
    return state != 'Z' && state != 'X';
}

std::optional<int> try_reap(pid_t pid) {
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
        return status;
    }
    return std::nullopt;
}

std::optional<int> reap_within(pid_t pid, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (auto s = try_reap(pid)) {
            return s;
        }
        if (std::chrono::steady_clock::now() >= end) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(20ms);
    }
}

int stop_child(pid_t pid, std::chrono::milliseconds grace) {
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGTERM);
    if (auto s = reap_within(pid, grace)) {
        return *s;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) {
        return fmt::format("exited with code {}", WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        const char* name = sigabbrev_np(WTERMSIG(status));
        return fmt::format("killed by SIG{}", name != nullptr ? name : "?");
    }
    return fmt::format("ended with wait status {}", status);
}

bool port_free(std::uint16_t port) {
    int fd = loopback_listener(port);
    if (fd < 0) {
        return false;
    }
    ::close(fd);
    return true;
}

result<std::uint16_t> pick_free_port() {
    int fd = loopback_listener(0);
    if (fd < 0) {
        return error(errc::port_in_use, "cannot bind any loopback port");
    }
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return static_cast<std::uint16_t>(ntohs(addr.sin_port));
}

std::optional<std::filesystem::path> find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
    while (!rest.empty()) {
        auto colon = rest.find(':');
        std::filesystem::path dir(std::string(rest.substr(0, colon)));
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        auto candidate = dir / name;
        if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

}  // namespace gregor::cluster

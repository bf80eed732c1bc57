#include "integration/cluster/cluster_process.h"

#include "cluster/process.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gregor::test {

using namespace std::chrono_literals;

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

// Runs `[prefix] gregor <args>` to completion, capturing stdout and stderr.
command_result gregor(const std::string& args, const std::string& prefix) {
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

up_process::up_process(const std::filesystem::path& dir, std::vector<std::string> extra) {
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

up_process::~up_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool up_process::wait_output(const std::string& text, std::chrono::milliseconds limit) const {
    return eventually([&] { return output().find(text) != std::string::npos; }, limit);
}

std::optional<int> up_process::wait_exit(std::chrono::milliseconds limit) {
    auto s = cluster::reap_within(pid_, limit);
    if (!s) {
        return std::nullopt;
    }
    pid_ = -1;
    return WIFEXITED(*s) ? WEXITSTATUS(*s) : 128 + WTERMSIG(*s);
}

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
        if (cmdline.find(needle) != std::string::npos && cluster::process_alive(pid)) {
            out.push_back(pid);
        }
    }
    return out;
}

}  // namespace gregor::test

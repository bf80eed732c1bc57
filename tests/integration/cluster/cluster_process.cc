#include "integration/cluster/cluster_process.h"

#include "cluster/process.h"

#include <algorithm>
#include <csignal>
#include <sys/wait.h>

namespace gregor::test {

// Runs `[prefix] gregor <args>` to completion, capturing stdout and stderr.
command_result gregor(const std::string& args, const std::string& prefix) {
    return run_command(prefix + " " + std::string(GREGOR_BINARY) + " " + args + " 2>&1");
}

up_process::up_process(const std::filesystem::path& dir, std::vector<std::string> extra) {
    out_ = dir.string() + ".up.log";
    std::vector<std::string> args{GREGOR_BINARY, "cluster", "up", "--dir", dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = spawn_child(std::move(args), out_, true);
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

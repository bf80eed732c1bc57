#include "bench/process_usage.h"

#include "bench/errc.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unistd.h>

namespace gregor::bench {
namespace {

constexpr int utime_field = 14;  // 1-based fields of /proc/<pid>/stat (proc(5))
constexpr double kib_per_mib = 1024;

long long to_number(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    long long v = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && end != text.data() ? v : -1;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

long long cpu_ticks_from_stat(const std::string& stat) {
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return -1;
    }
    std::istringstream rest(stat.substr(close + 1));
    std::string field;
    long long utime = -1;
    long long stime = -1;
    for (int n = 3; rest >> field; ++n) {
        if (n == utime_field) {
            utime = to_number(field);
        } else if (n == utime_field + 1) {
            stime = to_number(field);
            break;
        }
    }
    return utime < 0 || stime < 0 ? -1 : utime + stime;
}

long long rss_kib_from_status(const std::string& status) {
    std::istringstream in(status);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return to_number(std::string_view(line).substr(6));
        }
    }
    return -1;
}

result<process_usage> read_process_usage(pid_t pid) {
    std::string base = fmt::format("/proc/{}/", pid);
    long long ticks = cpu_ticks_from_stat(slurp(base + "stat"));
    long long rss = rss_kib_from_status(slurp(base + "status"));
    if (ticks < 0 || rss < 0) {
        return error(errc::bad_argument, fmt::format("--broker-pid {}: no such process", pid));
    }
    process_usage u;
    u.cpu_s = static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    u.rss_mib = static_cast<double>(rss) / kib_per_mib;
    return u;
}

}  // namespace gregor::bench

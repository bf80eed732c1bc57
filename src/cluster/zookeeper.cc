#include "cluster/zookeeper.h"

#include "cluster/errc.h"
#include "cluster/process.h"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace gregor::cluster {
namespace {

constexpr std::string_view jar_dir = "/usr/share/java";
constexpr std::string_view classpath = "/usr/share/java/*:/etc/zookeeper/conf";
// A four-letter reply is a few words; `mntr` is the largest we might read.
constexpr std::size_t four_letter_reply_max = 64 * 1024;

int connect_loopback(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool zookeeper_jar_installed() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(jar_dir, ec)) {
        auto name = e.path().filename().string();
        if (name.starts_with("zookeeper-3") && name.ends_with(".jar")) {
            return true;
        }
        if (name == "zookeeper.jar") {
            return true;
        }
    }
    return false;
}

}  // namespace

result<void> check_zookeeper_installed() {
    if (!find_on_path("java")) {
        return error(errc::zookeeper_missing,
                     "no `java` on PATH; run scripts/setup.sh (installs the Debian package "
                     "'zookeeper' and its Java runtime), or pass --zookeeper host:port");
    }
    if (!zookeeper_jar_installed()) {
        return error(errc::zookeeper_missing,
                     fmt::format("no ZooKeeper jar in {}; run scripts/setup.sh (installs the "
                                 "Debian package 'zookeeper'), or pass --zookeeper host:port",
                                 jar_dir));
    }
    return ok();
}

std::string four_letter_word(std::uint16_t port, const std::string& cmd) {
    int fd = connect_loopback(port);
    if (fd < 0) {
        return "";
    }
    std::string reply;
    if (::send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(cmd.size())) {
        std::array<char, 4096> buf{};
        while (reply.size() < four_letter_reply_max) {
            ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) {
                break;
            }
            reply.append(buf.data(), static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply;
}

namespace {

// The command of server `id`. ZooKeeper holds every znode in its heap, about 1 KiB per
// partition (209 MB live at 220,000 partitions, RF 3): the 256 MiB this once had ended in
// back-to-back full collections and lost sessions near 250,000. The heap may now grow to a
// quarter of the machine's memory (the JVM's own default), from 64 MiB.
spawn_spec zookeeper_spec(const cluster_layout& layout, std::int32_t id) {
    return spawn_spec{
        {"java", "-Xms64m", "-XX:MaxRAMPercentage=25", "-XX:+UseSerialGC",
         "-XX:TieredStopAtLevel=1", "-cp", std::string(classpath),
         "org.apache.zookeeper.server.quorum.QuorumPeerMain", layout.zookeeper_config(id).string()},
        layout.zookeeper_log(id)};
}

}  // namespace

result<void> start_zookeepers(const cluster_layout& layout, std::span<zookeeper_entry> servers,
                              std::chrono::milliseconds deadline) {
    const bool ensemble = servers.size() > 1;
    auto stop_all = [&] {
        for (auto& z : servers) {
            if (z.pid > 0) {
                stop_child(z.pid, zookeeper_stop_grace);
                z.pid = 0;
            }
        }
    };
    for (auto& z : servers) {
        std::error_code ec;
        std::filesystem::create_directories(layout.zookeeper_data(z.id), ec);
        std::ofstream cfg(layout.zookeeper_config(z.id), std::ios::trunc);
        cfg << zoo_cfg(layout.zookeeper_data(z.id), z.port,
                       ensemble ? std::span<const zookeeper_entry>(servers)
                                : std::span<const zookeeper_entry>());
        std::ofstream myid;
        if (ensemble) {
            myid.open(layout.zookeeper_data(z.id) / "myid", std::ios::trunc);
            myid << z.id << "\n";
        }
        if (!cfg || (ensemble && !myid)) {
            stop_all();
            return error(errc::io_error, "cannot write the configuration in " +
                                             layout.zookeeper_dir(z.id).string());
        }
        auto pid = spawn(zookeeper_spec(layout, z.id));
        if (!pid) {
            stop_all();
            return pid.err();
        }
        z.pid = *pid;
    }
    auto end = std::chrono::steady_clock::now() + deadline;
    std::vector<bool> serving(servers.size(), false);
    while (std::chrono::steady_clock::now() < end) {
        for (std::size_t i = 0; i < servers.size(); ++i) {
            auto& z = servers[i];
            if (auto status = try_reap(z.pid)) {
                z.pid = 0;
                stop_all();
                return error(errc::start_failed,
                             fmt::format("ZooKeeper{} {}; see {}",
                                         ensemble ? fmt::format(" server {}", z.id) : "",
                                         describe_wait_status(*status),
                                         layout.zookeeper_log(z.id).string()));
            }
            serving[i] =
                serving[i] || four_letter_word(z.port, "srvr").find("Mode: ") != std::string::npos;
        }
        if (std::all_of(serving.begin(), serving.end(), [](bool b) { return b; })) {
            return ok();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop_all();
    return error(
        errc::timed_out,
        fmt::format("ZooKeeper did not serve clients within {} s; see {}", deadline.count() / 1000,
                    layout.zookeeper_log(servers.empty() ? 0 : servers[0].id).string()));
}

}  // namespace gregor::cluster

// zookeeper_server: a real standalone ZooKeeper for integration tests.
//
// Starts Debian's ZooKeeper (java QuorumPeerMain with a generated zoo.cfg) in a fresh temp
// directory on a free loopback port, and waits until it answers `ruok` with `imok`. The
// server can be stopped and started again on the same port and data directory (outage
// tests). The child dies with the test: it gets PR_SET_PDEATHSIG(SIGKILL), and the
// destructor stops it (SIGTERM, then SIGKILL) and removes the directory. Used from one test
// thread; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>

namespace gregor::test {

// How the server's JVM runs. Tests want a quick start; benchmarks want a server as fast as a
// deployed one (the full JIT, a heap that holds 100,000 partitions' znodes comfortably).
struct zookeeper_options {
    std::string max_heap = "128m";  // -Xmx
    bool full_jit = false;          // false: C1 only (starts sooner, runs slower)
    // The JVM's default collector (G1, as a ZooKeeper deployment runs) instead of the serial
    // one, which starts sooner and suits the tests' small trees but pauses long over a big one.
    bool default_gc = false;
    std::string gc_log;  // non-empty: -Xlog:gc to this file
};

class zookeeper_server {
public:
    // Starts the server. Throws std::runtime_error (test setup) if it does not come up.
    zookeeper_server() : zookeeper_server(zookeeper_options{}) {}
    explicit zookeeper_server(zookeeper_options options);
    zookeeper_server(const zookeeper_server&) = delete;
    zookeeper_server& operator=(const zookeeper_server&) = delete;
    ~zookeeper_server();

    // "127.0.0.1:<port>", a ZooKeeper connect string (append a chroot if needed).
    std::string connect_string() const;
    std::uint16_t port() const { return port_; }
    bool running() const { return pid_ > 0; }
    // The server process, or -1 when stopped.
    pid_t pid() const { return pid_; }

    // Stops the server (kill -TERM, then -KILL after a grace period). Idempotent.
    void stop();
    // Starts it again on the same port and data directory; waits for `imok`.
    void start();
    // Sends `sig` to the server process: SIGSTOP freezes it (clients keep their TCP
    // connections but get no answers, as with a hung server), SIGCONT resumes it.
    void signal(int sig) const;

private:
    void write_config() const;
    bool answers_ruok() const;

    zookeeper_options options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

// Sends a four-letter command to 127.0.0.1:<port> and returns the reply ("" on failure).
std::string four_letter_word(std::uint16_t port, const std::string& cmd);

// Returns a loopback TCP port that was free a moment ago.
std::uint16_t free_loopback_port();

}  // namespace gregor::test

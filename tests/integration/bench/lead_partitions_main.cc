// bench-lead-partitions PORT TOPIC PARTITIONS: makes the lone broker on 127.0.0.1:PORT the
// leader of PARTITIONS partitions of TOPIC, as a controller would (see fake_controller.h).
// Used to measure one broker with `gregor bench` until the controller lands
// (bench/README.md). Exit code 0 on success.
#include "integration/bench/fake_controller.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s PORT TOPIC PARTITIONS\n", argv[0]);
        return 2;
    }
    int port = std::atoi(argv[1]);
    int partitions = std::atoi(argv[3]);
    if (port <= 0 || port > 65535 || partitions <= 0) {
        std::fprintf(stderr, "bad PORT or PARTITIONS\n");
        return 2;
    }
    std::string failure =
        gregor::test::lead_partitions(static_cast<std::uint16_t>(port), argv[2], partitions);
    if (!failure.empty()) {
        std::fprintf(stderr, "%s\n", failure.c_str());
        return 1;
    }
    return 0;
}

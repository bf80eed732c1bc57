// fake_controller: acts as the controller (id 1, epoch 1) towards one broker, over its
// socket: UpdateMetadata naming that broker, then LeaderAndIsr making it the only replica
// and leader of partitions 0..n-1 of a topic. This is how tests and measurements get a lone
// broker to serve a topic until the real controller lands. Test thread only.
#pragma once

#include <cstdint>
#include <string>

namespace gregor::test {

// Returns "" on success, else what went wrong.
std::string lead_partitions(std::uint16_t port, const std::string& topic, int partitions);

}  // namespace gregor::test

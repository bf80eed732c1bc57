// expire_session: forces the expiry of a live ZooKeeper session on a real server.
//
// The classic trick: open a second handle with the same session id and password, wait until
// it is connected, and close it. Closing ends the session on the server, so the original
// handle's ephemerals vanish and it is told its session expired when it next talks to the
// server. Blocking (it runs its own small event loop); for test threads only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

namespace gregor::test {

// Returns true iff the second handle connected with the same session and closed it.
bool expire_session(const std::string& connect, std::int64_t session_id,
                    const std::array<char, 16>& password,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace gregor::test

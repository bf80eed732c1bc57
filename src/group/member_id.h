// Member ids: Kafka's `<client id or group instance id>-<random UUID>`.
//
// The state machine takes its randomness as an injected function (group_coordinator's
// uuid_source) so tests and the simulator are deterministic; the broker passes one built on
// a seeded-from-entropy generator and uuid_text. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gregor::group {

// Returns a fresh 36-character UUID text each call.
using uuid_source = std::function<std::string()>;

// The version-4 UUID text ("xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx", lower-case hex) made
// from 128 random bits; the version and variant bits are overwritten as RFC 4122 says.
std::string uuid_text(std::uint64_t high, std::uint64_t low);

}  // namespace gregor::group

// The part of the "consumer" protocol's bytes the coordinator reads.
//
// A member's JoinGroup metadata for protocol type "consumer" is a
// ConsumerProtocolSubscription (versions 0-3, version-prefixed, classic encoding): int16
// version, then `Topics` as int32 count and int16-length strings, then fields the
// coordinator ignores. Every version starts with that prefix, so the topic list is read the
// same way for all; the bytes are untrusted and every length is checked. Pure functions;
// any thread.
#pragma once

#include "base/bytes.h"

#include <optional>
#include <string>
#include <vector>

namespace gregor::group {

// The subscribed topics, or nullopt iff the bytes are not a subscription (negative version,
// truncated, negative or oversized lengths, a null topic).
std::optional<std::vector<std::string>> parse_subscription_topics(bytes_view metadata);

// A ConsumerProtocolSubscription v0 with these topics and no user data (tests, tools).
bytes encode_subscription_v0(const std::vector<std::string>& topics);

}  // namespace gregor::group

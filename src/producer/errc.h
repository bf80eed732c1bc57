// producer::errc: the operating errors of producer id allocation.
//
// A claim of a producer id block fails with one of these, or with a coord::errc from
// ZooKeeper itself (connection loss, session expiry, malformed znode content). Value types;
// any thread.
#pragma once

#include <system_error>

namespace gregor::producer {

enum class errc {
    // /latest_producer_id_block ends above INT64_MAX - 1000: no further block exists
    // (Kafka: "exhausted all producerIds"). Permanent; a human must act.
    ids_exhausted = 1,
    // Every compare-and-set attempt of one claim lost a race with another broker.
    claim_contended,
    // The znode named a block that does not lie above every id this broker handed out
    // (the znode was rewritten by hand); the block is not used.
    block_behind,
};

const std::error_category& producer_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), producer_category()};
}

}  // namespace gregor::producer

template <>
struct std::is_error_code_enum<gregor::producer::errc> : std::true_type {};

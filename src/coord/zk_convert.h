// Conversions between the ZooKeeper C client's types and coord's (internal to coord).
// Pure functions; any thread.
#pragma once

#include "coord/client.h"

#include <zookeeper/zookeeper.h>

namespace gregor::coord::detail {

// Maps a ZooKeeper result code (ZOK excluded) onto coord::errc.
std::error_code from_zk(int rc);
znode_stat from_zk(const struct Stat& s);
int to_zk_mode(create_mode m);
// The session state a ZooKeeper session event reports, if it is one coord announces.
std::optional<session_state> session_state_from_zk(int state);

}  // namespace gregor::coord::detail

// The coord module's own logger (also receives the ZooKeeper C client's log lines).
#pragma once

#include "base/log.h"

namespace gregor::coord {
inline logger coord_log{"coord"};
}  // namespace gregor::coord

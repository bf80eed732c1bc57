// The group module's logger: group state transitions (one info line each, with the
// generation), member expiries, loads and unloads of offsets partitions.
#pragma once

#include "base/log.h"

namespace gregor::group {
inline gregor::logger group_log{"group"};
}  // namespace gregor::group

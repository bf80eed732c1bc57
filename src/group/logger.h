// The group module's own logger.
#pragma once

#include "base/log.h"

namespace gregor::group {
inline logger group_log{"group"};
}  // namespace gregor::group

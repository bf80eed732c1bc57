// The producer module's logger: every claimed producer id block (one info line with its
// range), failed claims (warn, rate-limited) and exhaustion (error).
#pragma once

#include "base/log.h"

namespace gregor::producer {
inline gregor::logger producer_log{"producer"};
}  // namespace gregor::producer

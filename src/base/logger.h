// The base module's own logger.
#pragma once

#include "base/log.h"

namespace gregor {
inline logger base_log{"base"};
}  // namespace gregor

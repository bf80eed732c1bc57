// The broker module's logger.
#pragma once

#include "base/log.h"

namespace gregor::broker {
inline logger broker_log{"broker"};
}  // namespace gregor::broker

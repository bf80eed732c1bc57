// The protocol module's own logger.
#pragma once

#include "base/log.h"

namespace gregor::protocol {
inline logger protocol_log{"protocol"};
}  // namespace gregor::protocol

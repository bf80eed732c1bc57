// The net module's logger.
#pragma once

#include "base/log.h"

namespace gregor::net {
inline logger net_log{"net"};
}  // namespace gregor::net

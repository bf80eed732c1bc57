// The records library's own logger (gregor::records, namespace gregor::protocol).
#pragma once

#include "base/log.h"

namespace gregor::protocol {
inline logger records_log{"records"};
}  // namespace gregor::protocol

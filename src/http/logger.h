// The http module's logger.
#pragma once

#include "base/log.h"

namespace gregor::http {
inline logger http_log{"http"};
}  // namespace gregor::http

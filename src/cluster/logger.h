// The cluster launcher's logger.
#pragma once

#include "base/log.h"

namespace gregor::cluster {
inline gregor::logger cluster_log{"cluster"};
}  // namespace gregor::cluster

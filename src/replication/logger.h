// The replication module's logger: ISR proposals, truncations, fetcher trouble.
#pragma once

#include "base/log.h"

namespace gregor::replication {
inline gregor::logger replication_log{"replication"};
}  // namespace gregor::replication

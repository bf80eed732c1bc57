// The controller's loggers: one for its operation, one for the decision journal (every
// leader/ISR change with its reason, one structured line each).
#pragma once

#include "base/log.h"

namespace gregor::controller {
inline gregor::logger controller_log{"controller"};
inline gregor::logger journal_log{"controller.journal"};
}  // namespace gregor::controller

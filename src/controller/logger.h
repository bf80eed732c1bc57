// The controller's loggers: one for its operation, one for the decision journal (every
// leader/ISR change with its reason, one structured line each).
#pragma once

#include "base/log.h"
#include "model/fundamental.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

namespace gregor::controller {
inline gregor::logger controller_log{"controller"};
inline gregor::logger journal_log{"controller.journal"};

// A replica list as the journal writes it: "[1,2,3]".
inline std::string replica_list(const std::vector<model::node_id>& ids) {
    return fmt::format("[{}]", fmt::join(ids, ","));
}
}  // namespace gregor::controller

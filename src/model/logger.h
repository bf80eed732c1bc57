// The model module's own logger.
#pragma once

#include "base/log.h"

namespace gregor::model {
inline logger model_log{"model"};
}  // namespace gregor::model

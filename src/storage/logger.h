// The storage module's own logger. Thread-safe (spdlog); used from the owner loop and the
// I/O worker alike.
#pragma once

#include "base/log.h"

namespace gregor::storage {
inline logger storage_log{"storage"};
}  // namespace gregor::storage

// CRC32C (Castagnoli), as used by Kafka's record batch v2 checksum.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (chosen once, at first use) and a
// portable table-driven fallback otherwise. Pure functions; any thread.
#pragma once

#include "base/bytes.h"

#include <cstdint>

namespace gregor {

// Returns the CRC32C of `data`, continuing from `crc` (0 to start; chain calls by passing
// the previous result).
std::uint32_t crc32c(bytes_view data, std::uint32_t crc = 0);

namespace detail {
std::uint32_t crc32c_portable(bytes_view data, std::uint32_t crc);
// REQUIRES: crc32c_hardware_available().
std::uint32_t crc32c_hardware(bytes_view data, std::uint32_t crc);
bool crc32c_hardware_available();
}  // namespace detail

}  // namespace gregor

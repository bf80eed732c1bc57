// Byte buffers and views used across gregor: the wire, the disk and the codecs all speak
// in these. A bytes_view never owns; the owner must outlive it (documented per API).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gregor {

using bytes = std::vector<std::uint8_t>;
using bytes_view = std::span<const std::uint8_t>;
using mutable_bytes_view = std::span<std::uint8_t>;

}  // namespace gregor

// Big-endian load/store helpers for the on-disk formats (indexes, batch headers). Pure;
// any thread. REQUIRES (every function): the span holds enough bytes at `pos`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gregor::storage::detail {

inline std::uint32_t load_be32(const std::uint8_t* p) {
    std::uint32_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return __builtin_bswap32(v);
}
inline std::uint64_t load_be64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return __builtin_bswap64(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) {
    v = __builtin_bswap32(v);
    std::memcpy(p, &v, sizeof v);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) {
    v = __builtin_bswap64(v);
    std::memcpy(p, &v, sizeof v);
}

}  // namespace gregor::storage::detail

#include "group/member_id.h"

#include <fmt/format.h>

namespace gregor::group {

std::string uuid_text(std::uint64_t high, std::uint64_t low) {
    high = (high & ~std::uint64_t{0xf000}) | 0x4000;                    // version 4
    low = (low & ~(std::uint64_t{0xc} << 60)) | (std::uint64_t{8} << 60);  // variant 10xx
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff,
                       high & 0xffff, low >> 48, low & 0xffffffffffffULL);
}

}  // namespace gregor::group

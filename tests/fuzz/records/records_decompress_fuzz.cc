// Fuzz target: the four codecs on hostile input. The first byte picks the codec, the rest
// is the compressed stream. Decompression must end in bytes or a records_errc under the
// limit; whatever decompresses must survive a compress/decompress round trip unchanged.
#include "protocol/records/compression.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gregor;
    constexpr std::size_t limit = 256 * 1024;
    if (size < 1) {
        return 0;
    }
    const auto codec = static_cast<model::compression_type>(data[0] % 6);
    const bytes_view input(data + 1, size - 1);
    auto out = protocol::decompress(codec, input, limit);
    if (out.has_error()) {
        return 0;
    }
    if (out->size() > limit) {
        __builtin_trap();
    }
    auto packed = protocol::compress(codec, *out);
    if (packed.has_error()) {
        __builtin_trap();
    }
    auto again = protocol::decompress(codec, *packed, limit);
    if (again.has_error() || *again != *out) {
        __builtin_trap();
    }
    return 0;
}

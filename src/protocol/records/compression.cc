#include "protocol/records/compression.h"

#include "base/assert.h"
#include "base/limits.h"
#include "protocol/records/codecs.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::protocol {
namespace records_detail {

namespace {
// Without a plausible hint the first buffer guesses a typical expansion of record data.
constexpr std::size_t first_output_bytes_min = 16 * 1024;
constexpr std::size_t expansion_guess = 4;
// Declared sizes beyond this ratio are not believed up front; the buffer grows instead.
constexpr std::size_t output_hint_ratio_max = 64;

std::size_t first_buffer_bytes(std::size_t input_bytes, std::size_t size_hint) {
    if (size_hint > 0 && size_hint / output_hint_ratio_max <= input_bytes) {
        return size_hint + 1;  // the spare byte lets the codec report its end without a regrow
    }
    return std::max(first_output_bytes_min, input_bytes * expansion_guess);
}
}  // namespace

bounded_output::bounded_output(bytes& storage, std::size_t limit, std::size_t input_bytes,
                               std::size_t size_hint)
    : buf_(storage), limit_(limit), first_bytes_(first_buffer_bytes(input_bytes, size_hint)) {}

mutable_bytes_view bounded_output::space() {
    const std::size_t cap = limit_ + 1;
    if (size_ >= std::min(cap, buf_.size())) {
        if (size_ >= cap) {
            return {};
        }
        const std::size_t grown = std::max(first_bytes_, buf_.size() * 2);
        buf_.resize(std::min(cap, grown));
    }
    return mutable_bytes_view(buf_).subspan(size_, std::min(cap, buf_.size()) - size_);
}

void bounded_output::commit(std::size_t n) {
    GREGOR_ASSERT(n <= buf_.size() - size_, "commit {} past space {}", n, buf_.size() - size_);
    size_ += n;
}

}  // namespace records_detail

result<bytes> compress(model::compression_type codec, bytes_view input) {
    using model::compression_type;
    switch (codec) {
        case compression_type::none:
            return bytes(input.begin(), input.end());
        case compression_type::gzip:
            return records_detail::gzip_compress(input);
        case compression_type::snappy:
            return records_detail::snappy_xerial_compress(input);
        case compression_type::lz4:
            return records_detail::lz4_compress(input);
        case compression_type::zstd:
            return records_detail::zstd_compress(input);
    }
    return error(records_errc::unsupported_compression,
                 fmt::format("codec {}", static_cast<int>(codec)));
}

result<std::size_t> decompress_into(model::compression_type codec, bytes_view input,
                                    std::size_t decompressed_bytes_max, bytes& out) {
    using model::compression_type;
    const std::size_t limit =
        std::min(decompressed_bytes_max, limits::decompressed_batch_bytes_max);
    switch (codec) {
        case compression_type::none:
            if (input.size() > limit) {
                return error(records_errc::decompressed_too_large,
                             fmt::format("{} bytes, limit {}", input.size(), limit));
            }
            if (out.size() < input.size()) {
                out.resize(input.size());
            }
            std::copy(input.begin(), input.end(), out.begin());
            return input.size();
        case compression_type::gzip:
            return records_detail::gzip_decompress(input, limit, out);
        case compression_type::snappy:
            return records_detail::snappy_decompress(input, limit, out);
        case compression_type::lz4:
            return records_detail::lz4_decompress(input, limit, out);
        case compression_type::zstd:
            return records_detail::zstd_decompress(input, limit, out);
    }
    return error(records_errc::unsupported_compression,
                 fmt::format("codec {}", static_cast<int>(codec)));
}

result<bytes> decompress(model::compression_type codec, bytes_view input,
                         std::size_t decompressed_bytes_max) {
    bytes out;
    GREGOR_TRY(const std::size_t n, decompress_into(codec, input, decompressed_bytes_max, out));
    out.resize(n);
    return out;
}

}  // namespace gregor::protocol

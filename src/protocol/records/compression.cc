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

bounded_output::bounded_output(std::size_t limit, std::size_t input_bytes, std::size_t size_hint)
    : limit_(limit), first_bytes_(first_buffer_bytes(input_bytes, size_hint)) {}

mutable_bytes_view bounded_output::space() {
    const std::size_t cap = limit_ + 1;
    if (size_ == buf_.size()) {
        if (buf_.size() >= cap) {
            return {};
        }
        const std::size_t grown = buf_.empty() ? first_bytes_ : buf_.size() * 2;
        buf_.resize(std::min(cap, grown));
    }
    return mutable_bytes_view(buf_).subspan(size_);
}

void bounded_output::commit(std::size_t n) {
    GREGOR_ASSERT(n <= buf_.size() - size_, "commit {} past space {}", n, buf_.size() - size_);
    size_ += n;
}

bytes bounded_output::finish() && {
    buf_.resize(size_);
    return std::move(buf_);
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

result<bytes> decompress(model::compression_type codec, bytes_view input,
                         std::size_t decompressed_bytes_max) {
    using model::compression_type;
    const std::size_t limit =
        std::min(decompressed_bytes_max, limits::decompressed_batch_bytes_max);
    switch (codec) {
        case compression_type::none:
            if (input.size() > limit) {
                return error(records_errc::decompressed_too_large,
                             fmt::format("{} bytes, limit {}", input.size(), limit));
            }
            return bytes(input.begin(), input.end());
        case compression_type::gzip:
            return records_detail::gzip_decompress(input, limit);
        case compression_type::snappy:
            return records_detail::snappy_decompress(input, limit);
        case compression_type::lz4:
            return records_detail::lz4_decompress(input, limit);
        case compression_type::zstd:
            return records_detail::zstd_decompress(input, limit);
    }
    return error(records_errc::unsupported_compression,
                 fmt::format("codec {}", static_cast<int>(codec)));
}

}  // namespace gregor::protocol

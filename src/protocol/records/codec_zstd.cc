// zstd through the streaming API, so the output grows under our limit instead of trusting
// the frame's declared content size. Several frames may follow each other.
#include "protocol/records/codecs.h"
#include "protocol/records/errc.h"

#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <memory>

namespace gregor::protocol::records_detail {
namespace {

// zstd's own default level, as the Kafka clients use.
constexpr int zstd_level = 3;

struct dctx_deleter {
    void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};
using dctx_ptr = std::unique_ptr<ZSTD_DCtx, dctx_deleter>;

// One decompression context per thread, reset before each use: creating one per batch costs
// more than decoding a small batch. Returns nullptr if zstd cannot allocate it.
ZSTD_DCtx* thread_dctx() {
    thread_local const dctx_ptr ctx(ZSTD_createDCtx());
    if (ctx) {
        ZSTD_DCtx_reset(ctx.get(), ZSTD_reset_session_only);
    }
    return ctx.get();
}

error corrupt(const char* what) {
    return error(records_errc::corrupt_compressed_data, fmt::format("zstd: {}", what));
}

}  // namespace

result<std::size_t> zstd_decompress(bytes_view input, std::size_t limit, bytes& storage) {
    if (input.empty()) {
        return corrupt("empty input");
    }
    ZSTD_DCtx* ctx = thread_dctx();
    if (ctx == nullptr) {
        return error(records_errc::compression_failed, "zstd: context");
    }
    // The frame's declared content size lets zstd decode in a single pass into our buffer.
    const unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
    const std::size_t hint =
        declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR
            ? 0
            : static_cast<std::size_t>(std::min<unsigned long long>(declared, SIZE_MAX - 1));
    bounded_output out(storage, limit, input.size(), hint);
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    for (;;) {
        const mutable_bytes_view space = out.space();
        if (space.empty()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        ZSTD_outBuffer o{space.data(), space.size(), 0};
        const std::size_t in_before = in.pos;
        const std::size_t rc = ZSTD_decompressStream(ctx, &o, &in);
        if (ZSTD_isError(rc)) {
            return corrupt(ZSTD_getErrorName(rc));
        }
        out.commit(o.pos);
        if (out.over_limit()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        const bool input_done = in.pos == in.size;
        // rc == 0: a frame ended and everything is flushed.
        if (input_done && rc == 0) {
            return out.size();
        }
        if (input_done && o.pos < o.size) {
            return corrupt("truncated frame");
        }
        if (in.pos == in_before && o.pos == 0) {
            return corrupt("no progress");
        }
    }
}

result<bytes> zstd_compress(bytes_view input) {
    bytes out(ZSTD_compressBound(input.size()));
    const std::size_t n =
        ZSTD_compress(out.data(), out.size(), input.data(), input.size(), zstd_level);
    if (ZSTD_isError(n)) {
        return error(records_errc::compression_failed,
                     fmt::format("zstd: {}", ZSTD_getErrorName(n)));
    }
    out.resize(n);
    return out;
}

}  // namespace gregor::protocol::records_detail

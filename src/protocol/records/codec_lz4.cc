// lz4: Kafka's LZ4 codec is the standard LZ4 frame format (Kafka >= 0.10 writes the correct
// header checksum), so liblz4's frame API reads and writes it. Frames may follow each other.
#include "protocol/records/codecs.h"
#include "protocol/records/errc.h"

#include <fmt/format.h>
#include <lz4frame.h>

#include <memory>

namespace gregor::protocol::records_detail {
namespace {

struct dctx_deleter {
    void operator()(LZ4F_dctx* ctx) const { LZ4F_freeDecompressionContext(ctx); }
};
using dctx_ptr = std::unique_ptr<LZ4F_dctx, dctx_deleter>;

// One decompression context per thread, reset before each use (a failed frame leaves it
// mid-stream). Returns nullptr if lz4 cannot allocate it.
LZ4F_dctx* thread_dctx() {
    thread_local const dctx_ptr ctx = [] {
        LZ4F_dctx* raw = nullptr;
        const bool failed = LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION));
        return dctx_ptr(failed ? nullptr : raw);
    }();
    if (ctx) {
        LZ4F_resetDecompressionContext(ctx.get());
    }
    return ctx.get();
}

error corrupt(const char* what) {
    return error(records_errc::corrupt_compressed_data, fmt::format("lz4: {}", what));
}

// Kafka's writer settings: 64 KiB independent blocks, no content size.
LZ4F_preferences_t kafka_preferences() {
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.frameType = LZ4F_frame;
    return prefs;
}

}  // namespace

result<std::size_t> lz4_decompress(bytes_view input, std::size_t limit, bytes& storage) {
    if (input.empty()) {
        return corrupt("empty input");
    }
    LZ4F_dctx* ctx = thread_dctx();
    if (ctx == nullptr) {
        return error(records_errc::compression_failed, "lz4: context");
    }
    bounded_output out(storage, limit, input.size());
    std::size_t pos = 0;
    for (;;) {
        const mutable_bytes_view space = out.space();
        if (space.empty()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        std::size_t produced = space.size();
        std::size_t consumed = input.size() - pos;
        const std::size_t hint =
            LZ4F_decompress(ctx, space.data(), &produced, input.data() + pos, &consumed, nullptr);
        if (LZ4F_isError(hint)) {
            return corrupt(LZ4F_getErrorName(hint));
        }
        pos += consumed;
        out.commit(produced);
        if (out.over_limit()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        const bool input_done = pos == input.size();
        if (input_done && hint == 0) {
            return out.size();
        }
        // Out of input mid-frame, with room left to write: the frame is cut short.
        if (input_done && produced < space.size()) {
            return corrupt("truncated frame");
        }
        if (consumed == 0 && produced == 0) {
            return corrupt("no progress");
        }
    }
}

result<bytes> lz4_compress(bytes_view input) {
    const LZ4F_preferences_t prefs = kafka_preferences();
    bytes out(LZ4F_compressFrameBound(input.size(), &prefs));
    const std::size_t n =
        LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
    if (LZ4F_isError(n)) {
        return error(records_errc::compression_failed,
                     fmt::format("lz4: {}", LZ4F_getErrorName(n)));
    }
    out.resize(n);
    return out;
}

}  // namespace gregor::protocol::records_detail

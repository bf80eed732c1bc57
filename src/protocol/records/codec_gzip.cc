// gzip through zlib's streaming API. Kafka's gzip is RFC 1952; the Java client may write
// several members back to back, so a member's end followed by another gzip magic continues.
#define ZLIB_CONST
#include "protocol/records/codecs.h"
#include "protocol/records/errc.h"

#include <climits>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

namespace gregor::protocol::records_detail {
namespace {

// zlib: 15 window bits, +16 for the gzip wrapper, +32 to detect gzip or zlib on input.
constexpr int gzip_window_bits = 15 + 16;
constexpr int detect_window_bits = 15 + 32;
constexpr int mem_level = 8;

// One inflate state per thread, reset before each use: inflateInit allocates its window,
// which costs more than inflating a small batch.
struct inflater {
    z_stream zs{};
    bool ready = false;
    inflater() { ready = inflateInit2(&zs, detect_window_bits) == Z_OK; }
    ~inflater() {
        if (ready) {
            inflateEnd(&zs);
        }
    }
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;
};

// Returns nullptr if zlib cannot allocate the state.
z_stream* thread_inflater() {
    thread_local inflater inf;
    if (!inf.ready || inflateReset(&inf.zs) != Z_OK) {
        return nullptr;
    }
    return &inf.zs;
}

struct deflater {
    z_stream zs{};
    bool ready = false;
    ~deflater() {
        if (ready) {
            deflateEnd(&zs);
        }
    }
};

// gzip's trailer ends with the member's size modulo 2^32: a hint for the output buffer.
std::size_t gzip_size_hint(bytes_view input) {
    constexpr std::size_t gzip_overhead_bytes = 18;
    if (input.size() < gzip_overhead_bytes || input[0] != 0x1F || input[1] != 0x8B) {
        return 0;
    }
    const std::size_t n = input.size();
    return std::size_t{input[n - 4]} | (std::size_t{input[n - 3]} << 8) |
           (std::size_t{input[n - 2]} << 16) | (std::size_t{input[n - 1]} << 24);
}

bool at_gzip_magic(const z_stream& zs) {
    return zs.avail_in >= 2 && zs.next_in[0] == 0x1F && zs.next_in[1] == 0x8B;
}

error corrupt(const char* what, const z_stream& zs) {
    return error(records_errc::corrupt_compressed_data,
                 fmt::format("gzip: {} ({})", what, zs.msg != nullptr ? zs.msg : "-"));
}

}  // namespace

result<std::size_t> gzip_decompress(bytes_view input, std::size_t limit, bytes& storage) {
    if (input.empty() || input.size() > UINT_MAX) {
        return error(records_errc::corrupt_compressed_data, "gzip: empty input");
    }
    z_stream* zs = thread_inflater();
    if (zs == nullptr) {
        return error(records_errc::compression_failed, "gzip: inflate state");
    }
    zs->next_in = input.data();
    zs->avail_in = static_cast<uInt>(input.size());
    bounded_output out(storage, limit, input.size(), gzip_size_hint(input));
    for (;;) {
        const mutable_bytes_view space = out.space();
        if (space.empty()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        const auto avail = static_cast<uInt>(std::min<std::size_t>(space.size(), UINT_MAX));
        zs->next_out = space.data();
        zs->avail_out = avail;
        const int rc = inflate(zs, Z_NO_FLUSH);
        out.commit(avail - zs->avail_out);
        if (out.over_limit()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        if (rc == Z_STREAM_END) {
            if (zs->avail_in == 0) {
                return out.size();
            }
            if (!at_gzip_magic(*zs) || inflateReset(zs) != Z_OK) {
                return corrupt("bytes after the end of the stream", *zs);
            }
        } else if (rc == Z_BUF_ERROR && zs->avail_in == 0) {
            return corrupt("truncated stream", *zs);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return corrupt("inflate", *zs);
        }
    }
}

result<bytes> gzip_compress(bytes_view input) {
    if (input.size() > UINT_MAX) {
        return error(records_errc::compression_failed, "gzip: input too large");
    }
    deflater def;
    if (deflateInit2(&def.zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window_bits, mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return error(records_errc::compression_failed, "gzip: deflateInit2");
    }
    def.ready = true;
    bytes out(deflateBound(&def.zs, static_cast<uLong>(input.size())));
    def.zs.next_in = input.data();
    def.zs.avail_in = static_cast<uInt>(input.size());
    def.zs.next_out = out.data();
    def.zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&def.zs, Z_FINISH) != Z_STREAM_END) {
        return error(records_errc::compression_failed, "gzip: deflate");
    }
    out.resize(def.zs.total_out);
    return out;
}

}  // namespace gregor::protocol::records_detail

// gzip through zlib's streaming API. Kafka's gzip is RFC 1952; the Java client may write
// several members back to back, so a member's end followed by another gzip magic continues.
#define ZLIB_CONST
#include "protocol/records/codecs.h"
#include "protocol/records/errc.h"

#include <fmt/format.h>
#include <zlib.h>

#include <climits>

namespace gregor::protocol::records_detail {
namespace {

// zlib: 15 window bits, +16 for the gzip wrapper, +32 to detect gzip or zlib on input.
constexpr int gzip_window_bits = 15 + 16;
constexpr int detect_window_bits = 15 + 32;
constexpr int mem_level = 8;

struct inflater {
    z_stream zs{};
    bool ready = false;
    ~inflater() {
        if (ready) {
            inflateEnd(&zs);
        }
    }
};

struct deflater {
    z_stream zs{};
    bool ready = false;
    ~deflater() {
        if (ready) {
            deflateEnd(&zs);
        }
    }
};

bool at_gzip_magic(const z_stream& zs) {
    return zs.avail_in >= 2 && zs.next_in[0] == 0x1F && zs.next_in[1] == 0x8B;
}

error corrupt(const char* what, const z_stream& zs) {
    return error(records_errc::corrupt_compressed_data,
                 fmt::format("gzip: {} ({})", what, zs.msg != nullptr ? zs.msg : "-"));
}

}  // namespace

result<bytes> gzip_decompress(bytes_view input, std::size_t limit) {
    if (input.empty() || input.size() > UINT_MAX) {
        return error(records_errc::corrupt_compressed_data, "gzip: empty input");
    }
    inflater inf;
    if (inflateInit2(&inf.zs, detect_window_bits) != Z_OK) {
        return error(records_errc::compression_failed, "gzip: inflateInit2");
    }
    inf.ready = true;
    inf.zs.next_in = input.data();
    inf.zs.avail_in = static_cast<uInt>(input.size());
    bounded_output out(limit, input.size());
    for (;;) {
        const mutable_bytes_view space = out.space();
        if (space.empty()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        const auto avail = static_cast<uInt>(std::min<std::size_t>(space.size(), UINT_MAX));
        inf.zs.next_out = space.data();
        inf.zs.avail_out = avail;
        const int rc = inflate(&inf.zs, Z_NO_FLUSH);
        out.commit(avail - inf.zs.avail_out);
        if (out.over_limit()) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        if (rc == Z_STREAM_END) {
            if (inf.zs.avail_in == 0) {
                return std::move(out).finish();
            }
            if (!at_gzip_magic(inf.zs) || inflateReset(&inf.zs) != Z_OK) {
                return corrupt("bytes after the end of the stream", inf.zs);
            }
        } else if (rc == Z_BUF_ERROR && inf.zs.avail_in == 0) {
            return corrupt("truncated stream", inf.zs);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return corrupt("inflate", inf.zs);
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

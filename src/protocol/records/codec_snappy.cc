// snappy: raw blocks (librdkafka) and the xerial framing (the Java client). Snappy states
// each block's uncompressed length up front; that length is untrusted, so it is checked
// against the limit and against the most a block of that size can expand before any buffer
// is sized from it.
#include "protocol/records/codecs.h"
#include "protocol/records/errc.h"

#include <fmt/format.h>
#include <snappy.h>

#include <array>
#include <cstring>

namespace gregor::protocol::records_detail {
namespace {

constexpr std::array<std::uint8_t, 8> xerial_magic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr std::size_t xerial_header_bytes = 16;  // magic, version, compatible version
constexpr std::int32_t xerial_version = 1;
// The xerial writer's default block size (32 KiB of uncompressed input per block).
constexpr std::size_t xerial_block_bytes = 32 * 1024;
// A snappy copy element of 3 bytes emits at most 64 bytes; nothing expands more than that.
constexpr std::size_t snappy_expansion_max = 22;

const char* as_chars(const std::uint8_t* p) {
    return reinterpret_cast<const char*>(p);  // NOLINT: byte buffer to snappy's char API
}

std::uint32_t read_be32(bytes_view b, std::size_t at) {
    return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
           (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

void put_be32(bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

bool is_xerial(bytes_view input) {
    return input.size() >= xerial_header_bytes &&
           std::memcmp(input.data(), xerial_magic.data(), xerial_magic.size()) == 0;
}

error corrupt(std::string what) {
    return error(records_errc::corrupt_compressed_data, "snappy: " + std::move(what));
}

// Returns the uncompressed length a raw block declares, iff it is plausible for its size.
result<std::size_t> block_length(bytes_view block) {
    std::size_t length = 0;
    if (block.empty() ||
        !snappy::GetUncompressedLength(as_chars(block.data()), block.size(), &length)) {
        return corrupt("bad block length header");
    }
    if (length > block.size() * snappy_expansion_max) {
        return corrupt(fmt::format("block of {} bytes claims {}", block.size(), length));
    }
    return length;
}

// Decompresses one raw block into `dst`, which holds exactly its declared length.
result<void> uncompress_block(bytes_view block, mutable_bytes_view dst) {
    // RawUncompress writes through a char*; the bytes are ours.
    char* out = reinterpret_cast<char*>(dst.data());  // NOLINT
    if (!snappy::RawUncompress(as_chars(block.data()), block.size(), out)) {
        return corrupt("bad block");
    }
    return ok();
}

// Calls f(block) for each raw block of a xerial stream, checking the framing.
template <class F>
result<void> for_each_xerial_block(bytes_view input, F&& f) {
    std::size_t pos = xerial_header_bytes;
    while (pos < input.size()) {
        if (input.size() - pos < 4) {
            return corrupt("truncated xerial block length");
        }
        const std::uint32_t block_len = read_be32(input, pos);
        pos += 4;
        if (block_len > input.size() - pos) {
            return corrupt(
                fmt::format("xerial block of {} bytes, {} left", block_len, input.size() - pos));
        }
        GREGOR_TRY_VOID(f(input.subspan(pos, block_len)));
        pos += block_len;
    }
    return ok();
}

// Two passes: the declared lengths are summed and checked against the limit first, so the
// output is allocated once and only within the limit.
result<std::size_t> xerial_decompress(bytes_view input, std::size_t limit, bytes& out) {
    std::size_t total = 0;
    const auto sum_lengths = [&](bytes_view block) -> result<void> {
        GREGOR_TRY(const std::size_t length, block_length(block));
        if (length > limit - total) {
            return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
        }
        total += length;
        return ok();
    };
    GREGOR_TRY_VOID(for_each_xerial_block(input, sum_lengths));
    if (out.size() < total) {
        out.resize(total);
    }
    std::size_t at = 0;
    const auto fill = [&](bytes_view block) -> result<void> {
        GREGOR_TRY(const std::size_t length, block_length(block));
        const mutable_bytes_view dst = mutable_bytes_view(out).subspan(at, length);
        at += length;
        return uncompress_block(block, dst);
    };
    GREGOR_TRY_VOID(for_each_xerial_block(input, fill));
    return total;
}

}  // namespace

result<std::size_t> snappy_decompress(bytes_view input, std::size_t limit, bytes& out) {
    if (is_xerial(input)) {
        return xerial_decompress(input, limit, out);
    }
    GREGOR_TRY(const std::size_t length, block_length(input));
    if (length > limit) {
        return error(records_errc::decompressed_too_large, fmt::format("limit {}", limit));
    }
    if (out.size() < length) {
        out.resize(length);
    }
    GREGOR_TRY_VOID(uncompress_block(input, mutable_bytes_view(out).first(length)));
    return length;
}

result<bytes> snappy_xerial_compress(bytes_view input) {
    bytes out(xerial_magic.begin(), xerial_magic.end());
    put_be32(out, xerial_version);
    put_be32(out, xerial_version);  // compatible version
    std::string block;
    for (std::size_t pos = 0; pos < input.size(); pos += xerial_block_bytes) {
        const std::size_t n = std::min(xerial_block_bytes, input.size() - pos);
        snappy::Compress(as_chars(input.data() + pos), n, &block);
        put_be32(out, static_cast<std::uint32_t>(block.size()));
        out.insert(out.end(), block.begin(), block.end());
    }
    return out;
}

}  // namespace gregor::protocol::records_detail

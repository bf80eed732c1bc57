// Goal: each codec round-trips, reads the framings real clients send (raw and xerial snappy,
// concatenated gzip members and zstd frames), and refuses corrupt, truncated, empty or
// bomb-like input with a clean records_errc, never by allocating a declared size.
// Method: compress with our codecs or hand-built framings from the codec libraries, then
// damage the bytes; bombs are small inputs that expand far past a small limit.
#include "protocol/records/compression.h"

#include "base/limits.h"
#include "protocol/records/codecs.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <algorithm>
#include <random>
#include <string>

namespace gregor::protocol {
namespace {

using model::compression_type;

constexpr compression_type all_codecs[] = {compression_type::none, compression_type::gzip,
                                           compression_type::snappy, compression_type::lz4,
                                           compression_type::zstd};
constexpr compression_type real_codecs[] = {compression_type::gzip, compression_type::snappy,
                                            compression_type::lz4, compression_type::zstd};

bytes sample(std::size_t n, std::uint32_t seed) {
    // Compressible but not trivial: words from a small alphabet plus some noise.
    std::mt19937 rng(seed);
    bytes out(n);
    for (auto& b : out) {
        b = static_cast<std::uint8_t>(rng() % 7 == 0 ? rng() : 'a' + rng() % 4);
    }
    return out;
}

bytes must(result<bytes> r) {
    EXPECT_TRUE(r.has_value()) << r.err().to_string();
    return r.has_value() ? std::move(r).value() : bytes{};
}

TEST(compression, every_codec_round_trips_various_sizes) {
    for (compression_type codec : all_codecs) {
        for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000},
                              std::size_t{100'000}, std::size_t{300'000}}) {
            const bytes input = sample(n, static_cast<std::uint32_t>(n));
            const bytes packed = must(compress(codec, input));
            EXPECT_EQ(must(decompress(codec, packed, 1 << 20)), input)
                << static_cast<int>(codec) << " n=" << n;
        }
    }
}

TEST(compression, snappy_writes_xerial_and_reads_raw_blocks) {
    const bytes input = sample(100'000, 9);
    const bytes framed = must(compress(compression_type::snappy, input));
    ASSERT_GE(framed.size(), 16U);
    EXPECT_EQ(framed[0], 0x82);
    EXPECT_EQ(std::string(framed.begin() + 1, framed.begin() + 8), std::string("SNAPPY\0", 7));
    std::string raw;
    snappy::Compress(reinterpret_cast<const char*>(input.data()), input.size(), &raw);  // NOLINT
    const bytes raw_bytes(raw.begin(), raw.end());
    EXPECT_EQ(must(decompress(compression_type::snappy, raw_bytes, 1 << 20)), input);
}

// Builds a xerial stream by hand from raw snappy blocks, as the Java client frames it.
bytes xerial_by_hand(const std::vector<bytes>& chunks) {
    bytes out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    for (const bytes& chunk : chunks) {
        std::string block;
        snappy::Compress(reinterpret_cast<const char*>(chunk.data()), chunk.size(),  // NOLINT
                         &block);
        const auto n = static_cast<std::uint32_t>(block.size());
        for (int shift = 24; shift >= 0; shift -= 8) {
            out.push_back(static_cast<std::uint8_t>(n >> shift));
        }
        out.insert(out.end(), block.begin(), block.end());
    }
    return out;
}

TEST(compression, hand_made_xerial_stream_with_uneven_blocks_decodes) {
    const std::vector<bytes> chunks = {sample(10, 1), sample(40'000, 2), sample(1, 3), {}};
    bytes expected;
    for (const bytes& c : chunks) {
        expected.insert(expected.end(), c.begin(), c.end());
    }
    EXPECT_EQ(must(decompress(compression_type::snappy, xerial_by_hand(chunks), 1 << 20)),
              expected);
    // Header only: no blocks, no records.
    EXPECT_TRUE(must(decompress(compression_type::snappy, xerial_by_hand({}), 1 << 20)).empty());
}

TEST(compression, xerial_block_length_past_the_end_is_corrupt) {
    bytes framed = xerial_by_hand({sample(1000, 4)});
    framed[16] = 0x7F;  // block length ~2 GB
    EXPECT_EQ(decompress(compression_type::snappy, framed, 1 << 20).code(),
              records_errc::corrupt_compressed_data);
    framed = xerial_by_hand({sample(1000, 4)});
    framed.resize(18);  // cut inside the length field
    EXPECT_EQ(decompress(compression_type::snappy, framed, 1 << 20).code(),
              records_errc::corrupt_compressed_data);
}

TEST(compression, gzip_reads_concatenated_members) {
    const bytes a = sample(5000, 5);
    const bytes b = sample(7000, 6);
    bytes two = must(compress(compression_type::gzip, a));
    const bytes second = must(compress(compression_type::gzip, b));
    two.insert(two.end(), second.begin(), second.end());
    bytes expected = a;
    expected.insert(expected.end(), b.begin(), b.end());
    EXPECT_EQ(must(decompress(compression_type::gzip, two, 1 << 20)), expected);
    two.push_back(0x00);  // garbage after the last member
    EXPECT_EQ(decompress(compression_type::gzip, two, 1 << 20).code(),
              records_errc::corrupt_compressed_data);
}

TEST(compression, zstd_reads_concatenated_frames) {
    const bytes a = sample(5000, 7);
    bytes two = must(compress(compression_type::zstd, a));
    const bytes again = two;
    two.insert(two.end(), again.begin(), again.end());
    bytes expected = a;
    expected.insert(expected.end(), a.begin(), a.end());
    EXPECT_EQ(must(decompress(compression_type::zstd, two, 1 << 20)), expected);
}

TEST(compression, truncated_streams_are_corrupt) {
    const bytes input = sample(50'000, 8);
    for (compression_type codec : real_codecs) {
        const bytes packed = must(compress(codec, input));
        for (std::size_t cut :
             {std::size_t{0}, std::size_t{1}, packed.size() / 2, packed.size() - 1}) {
            auto r = decompress(codec, bytes_view(packed).first(cut), 1 << 20);
            EXPECT_EQ(r.code(), records_errc::corrupt_compressed_data)
                << static_cast<int>(codec) << " cut=" << cut;
        }
    }
}

TEST(compression, garbage_is_corrupt_for_every_codec) {
    const bytes garbage = sample(4096, 10);
    for (compression_type codec : real_codecs) {
        EXPECT_EQ(decompress(codec, garbage, 1 << 20).code(), records_errc::corrupt_compressed_data)
            << static_cast<int>(codec);
    }
}

TEST(compression, bomb_stops_at_the_caller_limit) {
    const bytes zeros(4 << 20, 0);  // 4 MiB of zeros compresses to a few KB
    for (compression_type codec : real_codecs) {
        const bytes packed = must(compress(codec, zeros));
        ASSERT_LT(packed.size(), 300'000U);
        EXPECT_EQ(decompress(codec, packed, 1 << 20).code(), records_errc::decompressed_too_large)
            << static_cast<int>(codec);
        EXPECT_EQ(must(decompress(codec, packed, 4 << 20)).size(), zeros.size());
    }
    EXPECT_EQ(decompress(compression_type::none, zeros, 1000).code(),
              records_errc::decompressed_too_large);
}

TEST(compression, exact_limit_is_accepted_one_below_is_not) {
    const bytes input = sample(10'000, 11);
    for (compression_type codec : all_codecs) {
        const bytes packed = must(compress(codec, input));
        EXPECT_TRUE(decompress(codec, packed, input.size()).has_value());
        EXPECT_EQ(decompress(codec, packed, input.size() - 1).code(),
                  records_errc::decompressed_too_large);
    }
}

// decompress_into reuses the caller's buffer: one buffer serves batch after batch of every
// codec and size, the output is its first n bytes, and a buffer already larger than the
// limit does not lift the limit.
TEST(compression, a_reused_buffer_decodes_every_batch_and_keeps_the_limit) {
    bytes buffer;
    for (std::size_t n : {70'000U, 100U, 200'000U, 0U, 5'000U}) {
        for (compression_type codec : all_codecs) {
            const bytes input = sample(n, static_cast<std::uint32_t>(n) + 3);
            const bytes packed = must(compress(codec, input));
            auto got = decompress_into(codec, packed, 1 << 20, buffer);
            ASSERT_TRUE(got.has_value()) << got.err().to_string();
            ASSERT_GE(buffer.size(), *got);
            EXPECT_TRUE(std::equal(input.begin(), input.end(), buffer.begin(),
                                   buffer.begin() + static_cast<std::ptrdiff_t>(*got)))
                << "codec " << static_cast<int>(codec) << ", " << n << " bytes";
            EXPECT_EQ(*got, n);
        }
    }
    ASSERT_GE(buffer.size(), 200'000U);
    const bytes zeros(150'000, 0);
    for (compression_type codec : all_codecs) {
        const bytes packed = must(compress(codec, zeros));
        EXPECT_EQ(decompress_into(codec, packed, 1000, buffer).code(),
                  records_errc::decompressed_too_large)
            << static_cast<int>(codec);
        EXPECT_EQ(decompress_into(codec, packed, zeros.size() - 1, buffer).code(),
                  records_errc::decompressed_too_large)
            << static_cast<int>(codec);
    }
}

TEST(compression, snappy_declared_length_is_checked_before_allocating) {
    // A raw snappy block whose length header claims 2^31 bytes, followed by nothing.
    const bytes liar = {0x80, 0x80, 0x80, 0x80, 0x08, 0x00};
    EXPECT_EQ(
        decompress(compression_type::snappy, liar, limits::decompressed_batch_bytes_max).code(),
        records_errc::corrupt_compressed_data);
}

TEST(compression, a_failed_stream_does_not_poison_the_next_one) {
    // Decoders keep per-thread state between calls; each call must start clean.
    const bytes input = sample(70'000, 13);
    for (compression_type codec : real_codecs) {
        const bytes packed = must(compress(codec, input));
        const bytes_view half = bytes_view(packed).first(packed.size() / 2);
        EXPECT_TRUE(decompress(codec, half, 1 << 20).has_error());
        EXPECT_EQ(decompress(codec, packed, 1000).code(), records_errc::decompressed_too_large);
        EXPECT_EQ(must(decompress(codec, packed, 1 << 20)), input) << static_cast<int>(codec);
    }
}

TEST(compression, declared_sizes_that_lie_still_decode_or_fail_cleanly) {
    // gzip's trailer states the size; a wrong one must only affect buffer sizing.
    const bytes input = sample(50'000, 14);
    bytes packed = must(compress(compression_type::gzip, input));
    const std::size_t n = packed.size();
    packed[n - 1] = 0x7F;  // claims ~2 GB: not plausible, ignored as a hint
    EXPECT_EQ(decompress(compression_type::gzip, packed, 1 << 20).code(),
              records_errc::corrupt_compressed_data);  // zlib checks ISIZE
    packed[n - 1] = 0;
    packed[n - 4] = 1;  // claims a little less than it holds: the buffer must grow
    EXPECT_EQ(decompress(compression_type::gzip, packed, 1 << 20).code(),
              records_errc::corrupt_compressed_data);
}

TEST(compression, unknown_codec_is_unsupported) {
    const bytes input = sample(10, 12);
    const auto bogus = static_cast<compression_type>(5);
    EXPECT_EQ(decompress(bogus, input, 1 << 20).code(), records_errc::unsupported_compression);
    EXPECT_EQ(compress(bogus, input).code(), records_errc::unsupported_compression);
}

}  // namespace
}  // namespace gregor::protocol

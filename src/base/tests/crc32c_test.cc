// Goal: crc32c() computes CRC32C (Castagnoli) exactly as Kafka's record batch v2 checksum
// needs, on every path the machine may pick.
// Method: published check values (the "123456789" check, RFC 3720's iSCSI vectors), then the
// hardware path against the portable path on random buffers of every length 0..1024 at
// every alignment 0..7, on the lengths around the interleaving block sizes, and chaining.
#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace gregor {
namespace {

bytes_view view_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}

bytes random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    bytes out(n);
    for (auto& b : out) {
        b = static_cast<std::uint8_t>(rng());
    }
    return out;
}

TEST(crc32c, check_value_of_123456789) {
    EXPECT_EQ(crc32c(view_of("123456789")), 0xE3069283U);
    EXPECT_EQ(detail::crc32c_portable(view_of("123456789"), 0), 0xE3069283U);
}

TEST(crc32c, empty_input_leaves_crc_unchanged) {
    EXPECT_EQ(crc32c({}), 0U);
    EXPECT_EQ(crc32c({}, 0x12345678U), 0x12345678U);
}

TEST(crc32c, rfc3720_vectors) {
    bytes zeros(32, 0x00);
    bytes ones(32, 0xFF);
    bytes ascending(32);
    bytes descending(32);
    for (std::size_t i = 0; i < 32; ++i) {
        ascending[i] = static_cast<std::uint8_t>(i);
        descending[i] = static_cast<std::uint8_t>(31 - i);
    }
    const bytes iscsi_read = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                              0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(crc32c(zeros), 0x8A9136AAU);
    EXPECT_EQ(crc32c(ones), 0x62A8AB43U);
    EXPECT_EQ(crc32c(ascending), 0x46DD794EU);
    EXPECT_EQ(crc32c(descending), 0x113FDB5CU);
    EXPECT_EQ(crc32c(iscsi_read), 0xD9963A56U);
}

TEST(crc32c, hardware_matches_portable_for_every_length_and_alignment) {
    if (!detail::crc32c_hardware_available()) {
        GTEST_SKIP() << "no SSE4.2 on this CPU";
    }
    const bytes buf = random_bytes(1024 + 8, 1);
    for (std::size_t align = 0; align < 8; ++align) {
        for (std::size_t len = 0; len + align <= buf.size() && len <= 1024; ++len) {
            bytes_view v(buf.data() + align, len);
            ASSERT_EQ(detail::crc32c_hardware(v, 0), detail::crc32c_portable(v, 0))
                << "len=" << len << " align=" << align;
        }
    }
}

TEST(crc32c, hardware_matches_portable_around_interleaving_block_sizes) {
    if (!detail::crc32c_hardware_available()) {
        GTEST_SKIP() << "no SSE4.2 on this CPU";
    }
    const bytes buf = random_bytes(200'000, 2);
    std::mt19937 rng(3);
    const std::size_t edges[] = {768, 3 * 8192, 2 * 3 * 8192, 3 * 8192 + 768};
    for (std::size_t edge : edges) {
        for (std::size_t len = edge - 9; len <= edge + 9; ++len) {
            const std::size_t off = rng() % 64;
            bytes_view v(buf.data() + off, len);
            ASSERT_EQ(detail::crc32c_hardware(v, 7), detail::crc32c_portable(v, 7)) << len;
        }
    }
    for (int i = 0; i < 200; ++i) {
        const std::size_t off = rng() % 1000;
        const std::size_t len = rng() % (buf.size() - off);
        bytes_view v(buf.data() + off, len);
        ASSERT_EQ(detail::crc32c_hardware(v, 0), detail::crc32c_portable(v, 0)) << len;
    }
}

TEST(crc32c, chaining_equals_one_pass) {
    const bytes buf = random_bytes(100'000, 4);
    const std::uint32_t whole = crc32c(buf);
    std::mt19937 rng(5);
    for (int i = 0; i < 100; ++i) {
        const std::size_t cut = rng() % buf.size();
        const std::uint32_t first = crc32c(bytes_view(buf).first(cut));
        ASSERT_EQ(crc32c(bytes_view(buf).subspan(cut), first), whole) << cut;
        ASSERT_EQ(detail::crc32c_portable(bytes_view(buf).subspan(cut),
                                          detail::crc32c_portable(bytes_view(buf).first(cut), 0)),
                  whole);
    }
}

TEST(crc32c, detects_a_single_flipped_bit) {
    bytes buf = random_bytes(4096, 6);
    const std::uint32_t before = crc32c(buf);
    buf[1234] ^= 0x10;
    EXPECT_NE(crc32c(buf), before);
}

}  // namespace
}  // namespace gregor

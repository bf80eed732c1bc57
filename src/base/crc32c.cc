// CRC32C: a portable slicing-by-8 path and an SSE4.2 path with three interleaved streams.
//
// The crc32 instruction has a latency of about 3 cycles but a throughput of one per cycle, so
// one dependency chain uses a third of the unit. The hardware path therefore runs three
// independent CRCs over three adjacent blocks and merges them: the CRC register is linear over
// GF(2), so the CRC of A||B equals the CRC of A advanced over |B| zero bytes, xor the CRC of B
// started from zero. "Advancing over n zero bytes" is multiplication by x^(8n) modulo the
// polynomial, done with four 256-entry tables per block size.
#include "base/crc32c.h"

#include "base/assert.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define GREGOR_CRC32C_X86 1
#endif

namespace gregor {
namespace {

// The Castagnoli polynomial, bit-reflected (x^0 in the top bit of the register's logic).
constexpr std::uint32_t poly_reflected = 0x82F63B78U;

using slice_tables = std::array<std::array<std::uint32_t, 256>, 8>;

// t[0] is the classic byte table; t[k][b] is the CRC of byte b followed by k zero bytes.
constexpr slice_tables make_slice_tables() {
    slice_tables t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t c = b;
        for (int bit = 0; bit < 8; ++bit) {
            c = (c & 1U) != 0 ? (c >> 1) ^ poly_reflected : c >> 1;
        }
        t[0][b] = c;
    }
    for (std::size_t k = 1; k < 8; ++k) {
        for (std::size_t b = 0; b < 256; ++b) {
            const std::uint32_t prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t[0][prev & 0xFFU];
        }
    }
    return t;
}

constexpr slice_tables slice = make_slice_tables();

std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap64(v);
    }
    return v;
}

// Raw register update (no pre/post inversion) over [p, p + n).
std::uint32_t portable_update(std::uint32_t c, const std::uint8_t* p, std::size_t n) {
    while (n >= 8) {
        const std::uint64_t w = load_le64(p) ^ c;
        c = slice[7][w & 0xFFU] ^ slice[6][(w >> 8) & 0xFFU] ^ slice[5][(w >> 16) & 0xFFU] ^
            slice[4][(w >> 24) & 0xFFU] ^ slice[3][(w >> 32) & 0xFFU] ^
            slice[2][(w >> 40) & 0xFFU] ^ slice[1][(w >> 48) & 0xFFU] ^ slice[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        c = (c >> 8) ^ slice[0][(c ^ *p++) & 0xFFU];
    }
    return c;
}

#if defined(GREGOR_CRC32C_X86)

// Polynomials in the reflected convention: bit 31 is the coefficient of x^0, bit 0 of x^31.
constexpr std::uint32_t poly_one = 0x80000000U;

// Returns a * b modulo the polynomial.
constexpr std::uint32_t mul_mod_poly(std::uint32_t a, std::uint32_t b) {
    std::uint32_t product = 0;
    for (std::uint32_t bit = poly_one; bit != 0; bit >>= 1) {
        if ((a & bit) != 0) {
            product ^= b;
        }
        // b *= x: a right shift, reduced when the x^31 coefficient overflows into x^32.
        b = (b & 1U) != 0 ? (b >> 1) ^ poly_reflected : b >> 1;
    }
    return product;
}

// Returns x^(8 * n) modulo the polynomial: the operator "advance over n zero bytes".
constexpr std::uint32_t x_pow_8n(std::size_t n) {
    std::uint32_t result = poly_one;
    std::uint32_t square = poly_one >> 8;  // x^8
    for (; n != 0; n >>= 1) {
        if ((n & 1U) != 0) {
            result = mul_mod_poly(result, square);
        }
        square = mul_mod_poly(square, square);
    }
    return result;
}

using shift_tables = std::array<std::array<std::uint32_t, 256>, 4>;

// t[k][b] advances the register value b << 8k over n zero bytes; by linearity a full register
// is advanced by xoring the entries of its four bytes.
constexpr shift_tables make_shift_tables(std::size_t n) {
    const std::uint32_t op = x_pow_8n(n);
    shift_tables t{};
    for (std::size_t k = 0; k < 4; ++k) {
        for (std::uint32_t b = 0; b < 256; ++b) {
            t[k][b] = mul_mod_poly(op, b << (8 * k));
        }
    }
    return t;
}

std::uint32_t shift(const shift_tables& t, std::uint32_t c) {
    return t[0][c & 0xFFU] ^ t[1][(c >> 8) & 0xFFU] ^ t[2][(c >> 16) & 0xFFU] ^ t[3][c >> 24];
}

// Block sizes per stream: long blocks amortise the merge, short ones serve records of a few KB.
constexpr std::size_t long_block_bytes = 8192;
constexpr std::size_t short_block_bytes = 256;

constexpr shift_tables long_shift = make_shift_tables(long_block_bytes);
constexpr shift_tables short_shift = make_shift_tables(short_block_bytes);

// Three streams over adjacent blocks of `block` bytes each, merged into one register.
__attribute__((target("sse4.2"))) std::uint32_t hw_three_way(std::uint32_t c, const std::uint8_t* p,
                                                             std::size_t block,
                                                             const shift_tables& t) {
    std::uint64_t a = c;
    std::uint64_t b = 0;
    std::uint64_t d = 0;
    for (std::size_t i = 0; i < block; i += 8) {
        a = _mm_crc32_u64(a, load_le64(p + i));
        b = _mm_crc32_u64(b, load_le64(p + block + i));
        d = _mm_crc32_u64(d, load_le64(p + 2 * block + i));
    }
    std::uint32_t merged = shift(t, static_cast<std::uint32_t>(a)) ^ static_cast<std::uint32_t>(b);
    return shift(t, merged) ^ static_cast<std::uint32_t>(d);
}

__attribute__((target("sse4.2"))) std::uint32_t hw_update(std::uint32_t c, const std::uint8_t* p,
                                                          std::size_t n) {
    while (n >= 3 * long_block_bytes) {
        c = hw_three_way(c, p, long_block_bytes, long_shift);
        p += 3 * long_block_bytes;
        n -= 3 * long_block_bytes;
    }
    while (n >= 3 * short_block_bytes) {
        c = hw_three_way(c, p, short_block_bytes, short_shift);
        p += 3 * short_block_bytes;
        n -= 3 * short_block_bytes;
    }
    std::uint64_t c64 = c;
    for (; n >= 8; n -= 8, p += 8) {
        c64 = _mm_crc32_u64(c64, load_le64(p));
    }
    c = static_cast<std::uint32_t>(c64);
    for (; n > 0; --n, ++p) {
        c = _mm_crc32_u8(c, *p);
    }
    return c;
}

#endif  // GREGOR_CRC32C_X86

using update_fn = std::uint32_t (*)(std::uint32_t, const std::uint8_t*, std::size_t);

update_fn choose_update() {
#if defined(GREGOR_CRC32C_X86)
    if (detail::crc32c_hardware_available()) {
        return hw_update;
    }
#endif
    return portable_update;
}

}  // namespace

namespace detail {

std::uint32_t crc32c_portable(bytes_view data, std::uint32_t crc) {
    return ~portable_update(~crc, data.data(), data.size());
}

std::uint32_t crc32c_hardware(bytes_view data, std::uint32_t crc) {
    GREGOR_ASSERT(crc32c_hardware_available(), "crc32c_hardware without SSE4.2");
#if defined(GREGOR_CRC32C_X86)
    return ~hw_update(~crc, data.data(), data.size());
#else
    return crc;
#endif
}

bool crc32c_hardware_available() {
#if defined(GREGOR_CRC32C_X86)
    static const bool available = __builtin_cpu_supports("sse4.2") != 0;
    return available;
#else
    return false;
#endif
}

}  // namespace detail

std::uint32_t crc32c(bytes_view data, std::uint32_t crc) {
    // Chosen once; the static's initialisation is thread-safe.
    static const update_fn update = choose_update();
    return ~update(~crc, data.data(), data.size());
}

}  // namespace gregor

// Goal: the cleaner's offset map keeps the latest offset per key within its fixed memory,
// refuses new keys once full (but still overwrites present ones), and behaves as a plain
// hash map would for any key set it can hold (empty keys and megabyte keys included), across
// the rehashes that grow its table and the clears that shrink it back; what it reserves
// never exceeds its budget.
// Method: direct checks, and seeded random workloads against std::unordered_map.
#include "storage/offset_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace gregor::storage {
namespace {

using model::offset;

bytes_view as_key(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT
}

TEST(offset_map, sizes_follow_the_memory_budget) {
    key_offset_map m(24 * 1000, 0.9);
    EXPECT_EQ(m.slots(), 1000U);
    EXPECT_EQ(m.capacity(), 900U);
    EXPECT_EQ(m.size(), 0U);
    EXPECT_EQ(m.latest_offset(), offset(-1));
    key_offset_map odd(24 * 10 + 23, 1.0);
    EXPECT_EQ(odd.slots(), 10U);
    EXPECT_EQ(odd.capacity(), 9U);  // one slot always stays empty
    key_offset_map none(23, 0.9);
    EXPECT_EQ(none.slots(), 0U);
    EXPECT_FALSE(none.put(as_key("k"), offset(1)));
    EXPECT_EQ(none.get(as_key("k")), offset(-1));
    EXPECT_EQ(none.utilization(), 0.0);
}

TEST(offset_map, overwrite_keeps_the_latest_and_absent_is_minus_one) {
    key_offset_map m(24 * 64, 0.9);
    EXPECT_EQ(m.get(as_key("a")), offset(-1));
    EXPECT_TRUE(m.put(as_key("a"), offset(1)));
    EXPECT_TRUE(m.put(as_key("b"), offset(2)));
    EXPECT_TRUE(m.put(as_key("a"), offset(7)));
    EXPECT_EQ(m.get(as_key("a")), offset(7));
    EXPECT_EQ(m.get(as_key("b")), offset(2));
    EXPECT_EQ(m.get(as_key("c")), offset(-1));
    EXPECT_EQ(m.size(), 2U);
    EXPECT_DOUBLE_EQ(m.utilization(), 2.0 / 64.0);
    // Offset 0 is a value like any other (a zero offset is not an empty slot).
    EXPECT_TRUE(m.put(as_key("z"), offset(0)));
    EXPECT_EQ(m.get(as_key("z")), offset(0));
}

TEST(offset_map, full_map_refuses_new_keys_but_overwrites_present_ones) {
    key_offset_map m(24 * 100, 0.5);
    ASSERT_EQ(m.capacity(), 50U);
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(m.put(as_key("k" + std::to_string(i)), offset(i)));
    }
    EXPECT_TRUE(m.full());
    EXPECT_FALSE(m.put(as_key("new"), offset(100)));
    EXPECT_EQ(m.get(as_key("new")), offset(-1));
    EXPECT_EQ(m.size(), 50U);
    EXPECT_TRUE(m.put(as_key("k7"), offset(200)));
    EXPECT_EQ(m.get(as_key("k7")), offset(200));
    for (int i = 0; i < 50; ++i) {
        if (i != 7) {
            EXPECT_EQ(m.get(as_key("k" + std::to_string(i))), offset(i));
        }
    }
}

TEST(offset_map, a_map_filled_to_every_usable_slot_still_finds_and_misses) {
    key_offset_map m(24 * 37, 1.0);
    ASSERT_EQ(m.capacity(), 36U);
    for (int i = 0; i < 36; ++i) {
        ASSERT_TRUE(m.put(as_key(std::to_string(i)), offset(i * 2)));
    }
    EXPECT_FALSE(m.put(as_key("one more"), offset(1)));
    for (int i = 0; i < 36; ++i) {
        EXPECT_EQ(m.get(as_key(std::to_string(i))), offset(i * 2));
    }
    for (int i = 36; i < 200; ++i) {
        EXPECT_EQ(m.get(as_key(std::to_string(i))), offset(-1));  // ends on the empty slot
    }
}

TEST(offset_map, clear_empties_and_resets_the_latest_offset) {
    key_offset_map m(24 * 16, 0.75);
    for (int i = 0; i < 12; ++i) {
        ASSERT_TRUE(m.put(as_key(std::to_string(i)), offset(i)));
    }
    m.update_latest_offset(offset(11));
    EXPECT_EQ(m.latest_offset(), offset(11));
    m.clear();
    EXPECT_EQ(m.size(), 0U);
    EXPECT_EQ(m.slots(), 16U);
    EXPECT_EQ(m.latest_offset(), offset(-1));
    for (int i = 0; i < 12; ++i) {
        EXPECT_EQ(m.get(as_key(std::to_string(i))), offset(-1));
    }
    for (int i = 100; i < 112; ++i) {
        ASSERT_TRUE(m.put(as_key(std::to_string(i)), offset(i)));
    }
    EXPECT_EQ(m.get(as_key("105")), offset(105));
}

TEST(offset_map, empty_key_and_a_megabyte_key) {
    key_offset_map m(24 * 16, 0.9);
    const std::string big(1 << 20, 'k');
    std::string big2 = big;
    big2.back() = 'j';
    EXPECT_TRUE(m.put(bytes_view{}, offset(3)));
    EXPECT_TRUE(m.put(as_key(big), offset(4)));
    EXPECT_EQ(m.get(bytes_view{}), offset(3));
    EXPECT_EQ(m.get(as_key(big)), offset(4));
    EXPECT_EQ(m.get(as_key(big2)), offset(-1));
    EXPECT_EQ(m.get(as_key(std::string(1, '\0'))), offset(-1));
}

// Random keys (some repeated often) against std::unordered_map, through fills, clears and
// a full map; GREGOR_SIM_SEEDS is not read: ten fixed seeds are enough for a hash table.
TEST(offset_map, random_workloads_match_a_plain_hash_map) {
    for (std::uint32_t seed = 1; seed <= 10; ++seed) {
        std::mt19937_64 rng(seed);
        key_offset_map m(24 * 5000, 0.9);
        std::unordered_map<std::string, std::int64_t> model;
        std::int64_t next = 0;
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < 20000; ++i) {
                const auto universe = (rng() % 4 == 0) ? 100U : 10000U;
                std::string key = "key-" + std::to_string(rng() % universe);
                key.resize(key.size() + rng() % 40, static_cast<char>('a' + rng() % 26));
                const bool present = model.contains(key);
                const bool stored = m.put(as_key(key), offset(next));
                ASSERT_EQ(stored, present || model.size() < m.capacity()) << "seed " << seed;
                if (stored) {
                    model[key] = next;
                }
                ++next;
                ASSERT_EQ(m.size(), model.size());
            }
            for (const auto& [key, o] : model) {
                ASSERT_EQ(m.get(as_key(key)), offset(o)) << "seed " << seed << " key " << key;
            }
            for (int i = 0; i < 1000; ++i) {
                ASSERT_EQ(m.get(as_key("absent-" + std::to_string(rng()))), offset(-1));
            }
            m.clear();
            model.clear();
        }
    }
}

// Tables of 16, 32, ..., 8,192 slots (each fits in 80,000 / 8), then 80,000 - 8,192.
TEST(offset_map, tables_double_then_take_the_rest_of_the_budget) {
    key_offset_map m(24 * 80'000, 0.9, 16);
    EXPECT_EQ(m.reserved_bytes(), 24U * 80'000);
    EXPECT_EQ(m.slots(), 80'000U - 8'192);
    EXPECT_EQ(m.capacity(), (80'000U - 8'192) * 9 / 10);
    EXPECT_EQ(m.table_slots(), 16U);
    std::vector<std::size_t> tables{m.table_slots()};
    for (std::size_t i = 0; i < m.capacity(); ++i) {
        ASSERT_TRUE(m.put(as_key(std::to_string(i)), offset(static_cast<std::int64_t>(i))));
        if (m.table_slots() != tables.back()) {
            // A table grows when half full, by the key that would pass half.
            EXPECT_EQ(m.size(), tables.back() / 2 + 1);
            tables.push_back(m.table_slots());
        }
    }
    const std::vector<std::size_t> expected{16,   32,   64,   128,  256,           512,
                                            1024, 2048, 4096, 8192, 80'000 - 8'192};
    EXPECT_EQ(tables, expected);
    EXPECT_TRUE(m.full());
    EXPECT_EQ(m.table_slots(), m.slots());
    EXPECT_DOUBLE_EQ(m.utilization(),
                     static_cast<double>(m.capacity()) / static_cast<double>(m.slots()));
}

TEST(offset_map, put_and_get_across_a_rehash) {
    key_offset_map m(24 * 10'000, 0.9, 64);
    ASSERT_EQ(m.table_slots(), 64U);
    for (int i = 0; i < 32; ++i) {
        ASSERT_TRUE(m.put(as_key("k" + std::to_string(i)), offset(i)));
    }
    ASSERT_EQ(m.table_slots(), 64U);
    // Overwrites never grow the table.
    ASSERT_TRUE(m.put(as_key("k3"), offset(300)));
    ASSERT_EQ(m.table_slots(), 64U);
    ASSERT_TRUE(m.put(as_key("k32"), offset(32)));  // the 33rd key: rehash
    ASSERT_EQ(m.table_slots(), 128U);
    EXPECT_EQ(m.size(), 33U);
    for (int i = 0; i <= 32; ++i) {
        EXPECT_EQ(m.get(as_key("k" + std::to_string(i))), offset(i == 3 ? 300 : i)) << i;
    }
    EXPECT_EQ(m.get(as_key("k33")), offset(-1));
    EXPECT_TRUE(m.put(as_key("k0"), offset(1000)));
    EXPECT_EQ(m.get(as_key("k0")), offset(1000));
}

TEST(offset_map, a_full_map_at_its_largest_table_refuses_new_keys) {
    key_offset_map m(24 * 4'000, 0.75, 8);
    const std::size_t cap = m.capacity();
    ASSERT_EQ(m.slots(), 4'000U - 256);  // 8 .. 256 fit in 4,000 / 8 = 500
    for (std::size_t i = 0; i < cap; ++i) {
        ASSERT_TRUE(m.put(as_key("k" + std::to_string(i)), offset(1)));
    }
    EXPECT_TRUE(m.full());
    EXPECT_EQ(m.table_slots(), m.slots());
    EXPECT_FALSE(m.put(as_key("new"), offset(2)));
    EXPECT_EQ(m.size(), cap);
    EXPECT_TRUE(m.put(as_key("k5"), offset(9)));
    EXPECT_EQ(m.get(as_key("k5")), offset(9));
    EXPECT_EQ(m.get(as_key("new")), offset(-1));
}

TEST(offset_map, held_offsets_are_listed_ascending_until_the_largest_table) {
    key_offset_map m(24 * 4'000, 0.9, 8);  // tables 8 .. 256, then 3,744
    EXPECT_EQ(m.held_offsets(), std::vector<offset>{});
    std::mt19937_64 rng(3);
    std::unordered_map<std::string, std::int64_t> model;
    for (std::int64_t o = 0; m.table_slots() < m.slots(); ++o) {
        auto key = "k" + std::to_string(rng() % 400);
        ASSERT_TRUE(m.put(as_key(key), offset(o)));
        model[key] = o;
        if (m.table_slots() == m.slots()) {
            break;
        }
        std::vector<offset> want;
        for (const auto& [k, v] : model) {
            want.emplace_back(v);
        }
        std::sort(want.begin(), want.end());
        auto got = m.held_offsets();
        ASSERT_TRUE(got) << "table " << m.table_slots() << " of " << m.slots();
        ASSERT_EQ(*got, want);
    }
    EXPECT_EQ(m.held_offsets(), std::nullopt) << "no room beside the largest table";
    m.clear();
    EXPECT_EQ(m.held_offsets(), std::vector<offset>{});
    key_offset_map single(64 * 1024, 0.9);  // one table of the whole budget
    ASSERT_TRUE(single.put(as_key("a"), offset(1)));
    EXPECT_EQ(single.held_offsets(), std::nullopt);
}

TEST(offset_map, clear_after_growth_goes_back_to_the_first_table) {
    key_offset_map m(24 * 20'000, 0.9, 32);
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 5'000; ++i) {
            ASSERT_TRUE(m.put(as_key(std::to_string(round) + "/" + std::to_string(i)), offset(i)));
        }
        EXPECT_GT(m.table_slots(), 32U);
        m.update_latest_offset(offset(4'999));
        m.clear();
        EXPECT_EQ(m.table_slots(), 32U);
        EXPECT_EQ(m.size(), 0U);
        EXPECT_EQ(m.latest_offset(), offset(-1));
        for (int i = 0; i < 5'000; i += 7) {
            EXPECT_EQ(m.get(as_key(std::to_string(round) + "/" + std::to_string(i))), offset(-1));
        }
    }
}

// The region is reserved once and every table lives inside it; so what it reserves is all
// the map ever uses, rehashes included.
TEST(offset_map, never_reserves_more_than_its_budget) {
    for (const std::size_t budget :
         {std::size_t{0}, std::size_t{23}, std::size_t{24}, std::size_t{4'095},
          std::size_t{100'003}, (std::size_t{2} << 20) - 1, std::size_t{2} << 20,
          (std::size_t{2} << 20) + 4'097, std::size_t{12'345'678}, std::size_t{13'000'001},
          std::size_t{128} << 20}) {
        key_offset_map m(budget, 0.9);
        EXPECT_LE(m.reserved_bytes(), budget) << budget;
        EXPECT_GE(m.reserved_bytes(), m.slots() * key_offset_map::slot_bytes) << budget;
        EXPECT_GE(m.reserved_bytes() + 4'096 + 24, budget) << budget;  // at most a page lost
        EXPECT_LE(m.table_slots(), m.slots());
        if (budget >= key_offset_map::slot_bytes * 8 * key_offset_map::default_initial_slots) {
            EXPECT_EQ(m.table_slots(), key_offset_map::default_initial_slots) << budget;
            // The largest table: at least 7/8 of the region.
            EXPECT_GE(m.slots() * 8, m.reserved_bytes() / key_offset_map::slot_bytes * 7);
        }
    }
    // 128 MiB: 5,592,405 slots; tables of 64 Ki .. 512 Ki slots, then the other 5,068,117.
    key_offset_map big(std::size_t{128} << 20, 0.9);
    EXPECT_EQ(big.reserved_bytes(), std::size_t{128} << 20);
    EXPECT_EQ(big.slots(), 5'592'405U - 524'288);
    EXPECT_EQ(big.capacity(), (5'592'405U - 524'288) * 9 / 10);
    for (int i = 0; i < 40'000; ++i) {
        ASSERT_TRUE(big.put(as_key(std::to_string(i)), offset(i)));
    }
    EXPECT_EQ(big.table_slots(), 128U * 1024);
    EXPECT_EQ(big.get(as_key("39999")), offset(39'999));
}

// Random workloads through many growths, up to a full map, against std::unordered_map.
TEST(offset_map, random_workloads_across_growths_match_a_plain_hash_map) {
    for (std::uint32_t seed = 1; seed <= 10; ++seed) {
        std::mt19937_64 rng(seed);
        key_offset_map m(24 * 40'000, 0.9, 1 + seed % 4);
        std::unordered_map<std::string, std::int64_t> model;
        std::int64_t next = 0;
        for (int round = 0; round < 2; ++round) {
            std::size_t tables = 0;
            std::size_t last = m.table_slots();
            for (int i = 0; i < 80'000; ++i) {
                const auto universe = (rng() % 4 == 0) ? 1'000U : 60'000U;
                std::string key = "key-" + std::to_string(rng() % universe);
                const bool present = model.contains(key);
                const bool stored = m.put(as_key(key), offset(next));
                ASSERT_EQ(stored, present || model.size() < m.capacity()) << "seed " << seed;
                if (stored) {
                    model[key] = next;
                }
                ++next;
                ASSERT_EQ(m.size(), model.size());
                if (m.table_slots() != last) {
                    ++tables;
                    last = m.table_slots();
                    for (const auto& [k, o] : model) {  // every key survives each rehash
                        ASSERT_EQ(m.get(as_key(k)), offset(o)) << "seed " << seed;
                    }
                }
            }
            EXPECT_GE(tables, 10U) << "seed " << seed;
            EXPECT_TRUE(m.full()) << "seed " << seed;
            for (const auto& [key, o] : model) {
                ASSERT_EQ(m.get(as_key(key)), offset(o)) << "seed " << seed << " key " << key;
            }
            for (int i = 0; i < 1000; ++i) {
                ASSERT_EQ(m.get(as_key("absent-" + std::to_string(rng()))), offset(-1));
            }
            m.clear();
            model.clear();
        }
    }
}

}  // namespace
}  // namespace gregor::storage

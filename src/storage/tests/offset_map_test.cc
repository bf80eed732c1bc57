// Goal: the cleaner's offset map keeps the latest offset per key within its fixed memory,
// refuses new keys once full (but still overwrites present ones), and behaves as a plain
// hash map would for any key set it can hold (empty keys and megabyte keys included).
// Method: direct checks, and seeded random workloads against std::unordered_map.
#include "storage/offset_map.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

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

}  // namespace
}  // namespace gregor::storage

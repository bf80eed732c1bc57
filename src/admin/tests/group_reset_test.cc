// Goal: `groups reset-offsets` computes the new offsets kafka-consumer-groups.sh computes:
// each mode, clamping to [log start, log end], the fallbacks (no committed offset, no record
// at the time), and the datetime and duration arguments (zones, fractions, bad dates).
// Method: the pure planner over hand-built partition offsets; times in UTC or with TZ=UTC.
#include "admin/errc.h"
#include "admin/group_reset.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace gregor::admin {
namespace {

constexpr std::int64_t jan_2_2024_03_04_05_678 = 1704164645678;  // UTC, in ms

// One partition with log [10, 100).
partition_offsets part(std::int32_t p, std::optional<std::int64_t> committed,
                            std::optional<std::int64_t> at_time = std::nullopt) {
    return {{"t", p}, committed, 10, 100, at_time};
}

std::vector<std::int64_t> plan(reset_mode mode, std::int64_t value,
                               const std::vector<partition_offsets>& parts) {
    auto r = plan_reset({mode, value}, parts);
    EXPECT_TRUE(r) << (r ? "" : r.err().detail);
    std::vector<std::int64_t> out;
    if (r) {
        for (const auto& p : *r) {
            out.push_back(p.offset);
        }
    }
    return out;
}

using offsets = std::vector<std::int64_t>;

TEST(group_reset, earliest_latest_and_current) {
    std::vector<partition_offsets> parts{part(0, 50), part(1, std::nullopt)};
    EXPECT_EQ(plan(reset_mode::earliest, 0, parts), (offsets{10, 10}));
    EXPECT_EQ(plan(reset_mode::latest, 0, parts), (offsets{100, 100}));
    EXPECT_EQ(plan(reset_mode::current, 0, parts), (offsets{50, 100}))
        << "no committed offset: the log end, as Kafka does";
}

TEST(group_reset, to_offset_is_clamped_to_the_log) {
    std::vector<partition_offsets> parts{part(0, 50)};
    EXPECT_EQ(plan(reset_mode::offset, 42, parts), (offsets{42}));
    EXPECT_EQ(plan(reset_mode::offset, 3, parts), (offsets{10}));
    EXPECT_EQ(plan(reset_mode::offset, 1000, parts), (offsets{100}));
    EXPECT_EQ(plan(reset_mode::offset, 100, parts), (offsets{100}));
    EXPECT_EQ(plan(reset_mode::offset, -1, parts), (offsets{10}));
}

TEST(group_reset, shift_by_moves_the_committed_offset_within_the_log) {
    std::vector<partition_offsets> parts{part(0, 50), part(1, 95)};
    EXPECT_EQ(plan(reset_mode::shift_by, 10, parts), (offsets{60, 100}));
    EXPECT_EQ(plan(reset_mode::shift_by, -45, parts), (offsets{10, 50}));
    EXPECT_EQ(plan(reset_mode::shift_by, std::numeric_limits<std::int64_t>::max(), parts),
              (offsets{100, 100}))
        << "no overflow";
    EXPECT_EQ(plan(reset_mode::shift_by, std::numeric_limits<std::int64_t>::min(), parts),
              (offsets{10, 10}));
    auto none = plan_reset({reset_mode::shift_by, 1}, {part(0, 50), part(7, {})});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.code(), errc::bad_usage);
    EXPECT_NE(none.err().detail.find("t-7"), std::string::npos) << none.err().detail;
}

TEST(group_reset, timestamp_takes_the_first_offset_at_or_after_it) {
    std::vector<partition_offsets> parts{part(0, 50, 30), part(1, 50, std::nullopt),
                                         part(2, std::nullopt, 5)};
    EXPECT_EQ(plan(reset_mode::timestamp, 1, parts), (offsets{30, 100, 10}))
        << "no record that recent: the log end; an answer below the start is clamped";
}

TEST(group_reset, empty_selection_plans_nothing) {
    auto r = plan_reset({reset_mode::earliest, 0}, {});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());
}

TEST(group_reset, datetimes_with_zones) {
    EXPECT_EQ(*parse_datetime_ms("2024-01-02T03:04:05.678Z"), jan_2_2024_03_04_05_678);
    EXPECT_EQ(*parse_datetime_ms("2024-01-02T05:04:05.678+02:00"), jan_2_2024_03_04_05_678);
    EXPECT_EQ(*parse_datetime_ms("2024-01-02T01:04:05.678-0200"), jan_2_2024_03_04_05_678);
    EXPECT_EQ(*parse_datetime_ms("2024-01-02T03:04:05Z"), jan_2_2024_03_04_05_678 - 678);
    EXPECT_EQ(*parse_datetime_ms("2024-01-02T03:04:05.6Z"), jan_2_2024_03_04_05_678 - 78);
    EXPECT_EQ(*parse_datetime_ms("2024-02-29T00:00:00.000Z"), 1709164800000);
}

TEST(group_reset, datetime_without_zone_is_local_time) {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    EXPECT_EQ(*parse_datetime_ms("2024-01-02T03:04:05.678"), jan_2_2024_03_04_05_678);
    ::setenv("TZ", "EST5", 1);  // UTC-5, no daylight saving
    ::tzset();
    EXPECT_EQ(*parse_datetime_ms("2024-01-01T22:04:05.678"), jan_2_2024_03_04_05_678);
    if (old) {
        ::setenv("TZ", saved.c_str(), 1);
    } else {
        ::unsetenv("TZ");
    }
    ::tzset();
}

TEST(group_reset, malformed_datetimes) {
    for (const char* bad :
         {"", "2024-01-02", "2024-01-02 03:04:05", "2024-1-02T03:04:05", "2024-13-02T03:04:05",
          "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-02T24:00:00Z",
          "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05.1234Z", "2024-01-02T03:04:05+2",
          "2024-01-02T03:04:05Zjunk", "2024-01-02T03:04:05+25:00"}) {
        auto r = parse_datetime_ms(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.code(), errc::bad_usage) << bad;
    }
}

TEST(group_reset, durations) {
    EXPECT_EQ(*parse_duration_ms("PT1H"), 3600000);
    EXPECT_EQ(*parse_duration_ms("P1DT2H3M4S"), ((24 + 2) * 60 + 3) * 60000 + 4000);
    EXPECT_EQ(*parse_duration_ms("P2D"), 2 * 86400000);
    EXPECT_EQ(*parse_duration_ms("PT0.5S"), 500);
    EXPECT_EQ(*parse_duration_ms("pt10m"), 600000);
    for (const char* bad : {"", "P", "PT", "1H", "PT1D", "P1H", "PT1.5M", "PT1S2M", "PT1H1H",
                            "-PT1H", "PT-1H", "PTH", "P1DT", "PT99999999999999H"}) {
        auto r = parse_duration_ms(bad);
        EXPECT_FALSE(r) << bad;
    }
}

TEST(group_reset, spec_of_the_options) {
    groups_reset_options o;
    EXPECT_EQ(reset_spec_of(o, 0).code(), errc::bad_usage) << "no mode";
    o.to_latest = true;
    EXPECT_EQ(reset_spec_of(o, 0)->mode, reset_mode::latest);
    o = {};
    o.shift_by = -3;
    auto shift = reset_spec_of(o, 0);
    EXPECT_EQ(shift->mode, reset_mode::shift_by);
    EXPECT_EQ(shift->value, -3);
    o = {};
    o.by_duration = "PT1M";
    auto ago = reset_spec_of(o, 1'000'000);
    EXPECT_EQ(ago->mode, reset_mode::timestamp);
    EXPECT_EQ(ago->value, 1'000'000 - 60'000);
    o = {};
    o.to_datetime = "2024-01-02T03:04:05.678Z";
    EXPECT_EQ(reset_spec_of(o, 0)->value, jan_2_2024_03_04_05_678);
    o.to_datetime = "2024-01-02";
    EXPECT_EQ(reset_spec_of(o, 0).code(), errc::bad_usage);
}

}  // namespace
}  // namespace gregor::admin

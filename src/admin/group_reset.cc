#include "admin/group_reset.h"

#include "admin/errc.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <limits>

namespace gregor::admin {
namespace {

constexpr std::int64_t ms_per_second = 1000;
constexpr std::int64_t ms_per_minute = 60 * ms_per_second;
constexpr std::int64_t ms_per_hour = 60 * ms_per_minute;
constexpr std::int64_t ms_per_day = 24 * ms_per_hour;

// Reads exactly `n` digits at `pos` (advancing it); nullopt if they are not all there.
std::optional<int> fixed_digits(std::string_view s, std::size_t& pos, std::size_t n) {
    if (pos + n > s.size()) {
        return std::nullopt;
    }
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
    }
    pos += n;
    return v;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

// ".sss" (1 to 3 digits) -> ms; nothing -> 0; nullopt if malformed.
std::optional<int> fraction_ms(std::string_view s, std::size_t& pos) {
    if (!expect(s, pos, '.')) {
        return 0;
    }
    int ms = 0;
    std::size_t digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && digits < 3) {
        ms = ms * 10 + (s[pos++] - '0');
        ++digits;
    }
    if (digits == 0) {
        return std::nullopt;
    }
    for (; digits < 3; ++digits) {
        ms *= 10;
    }
    return ms;
}

// The zone suffix: nullopt (none: local time), or its offset east of UTC in seconds.
// Sets `ok` false if malformed.
std::optional<int> zone_offset_s(std::string_view s, std::size_t& pos, bool& ok) {
    if (pos == s.size()) {
        return std::nullopt;
    }
    if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
        return 0;
    }
    int sign = s[pos] == '+' ? 1 : (s[pos] == '-' ? -1 : 0);
    ++pos;
    auto hours = fixed_digits(s, pos, 2);
    expect(s, pos, ':');
    auto minutes = fixed_digits(s, pos, 2);
    if (sign == 0 || !hours || !minutes || *hours > 18 || *minutes > 59) {
        ok = false;
        return std::nullopt;
    }
    return sign * (*hours * 3600 + *minutes * 60);
}

// The date and time fields of "YYYY-MM-DDTHH:mm:SS"; nullopt if malformed.
std::optional<std::tm> date_time_fields(std::string_view s, std::size_t& pos) {
    std::tm tm{};
    auto year = fixed_digits(s, pos, 4);
    bool shape = year && expect(s, pos, '-');
    auto month = fixed_digits(s, pos, 2);
    shape = shape && month && expect(s, pos, '-');
    auto day = fixed_digits(s, pos, 2);
    shape = shape && day && expect(s, pos, 'T');
    auto hour = fixed_digits(s, pos, 2);
    shape = shape && hour && expect(s, pos, ':');
    auto minute = fixed_digits(s, pos, 2);
    shape = shape && minute && expect(s, pos, ':');
    auto second = fixed_digits(s, pos, 2);
    if (!shape || !second || *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 ||
        *minute > 59 || *second > 59) {
        return std::nullopt;
    }
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    return tm;
}

std::int64_t clamp_offset(std::int64_t v, const partition_offsets& p) {
    return std::max(p.earliest, std::min(v, p.latest));
}

// a + b, saturating at the int64 limits (--shift-by takes any 64-bit value).
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    }
    return sum;
}

}  // namespace

result<std::int64_t> parse_datetime_ms(std::string_view text) {
    auto bad = [&] {
        return error(errc::bad_usage,
                     fmt::format("--to-datetime '{}': expected YYYY-MM-DDTHH:mm:SS.sss, optionally "
                                 "followed by Z or +hh:mm",
                                 text));
    };
    std::size_t pos = 0;
    auto tm = date_time_fields(text, pos);
    auto ms = tm ? fraction_ms(text, pos) : std::nullopt;
    bool ok = tm && ms;
    auto zone = ok ? zone_offset_s(text, pos, ok) : std::nullopt;
    if (!ok || pos != text.size()) {
        return bad();
    }
    std::tm fields = *tm;
    std::time_t seconds = 0;
    if (zone) {
        seconds = ::timegm(&fields) - *zone;
    } else {
        fields.tm_isdst = -1;
        seconds = std::mktime(&fields);
    }
    // timegm/mktime normalise 31 February into March: a changed day means no such date.
    if (fields.tm_mday != tm->tm_mday || fields.tm_mon != tm->tm_mon) {
        return bad();
    }
    return static_cast<std::int64_t>(seconds) * ms_per_second + *ms;
}

result<std::int64_t> parse_duration_ms(std::string_view text) {
    auto bad = [&] {
        return error(errc::bad_usage,
                     fmt::format("--by-duration '{}': expected an ISO-8601 duration PnDTnHnMnS "
                                 "(e.g. P1DT2H, PT30M, PT0.5S)",
                                 text));
    };
    std::size_t pos = 0;
    if (!expect(text, pos, 'P') && !expect(text, pos, 'p')) {
        return bad();
    }
    std::int64_t total = 0;
    bool in_time = false;
    bool any = false;
    std::string_view units = "DHMS";  // each at most once, in this order
    constexpr std::int64_t value_max = std::numeric_limits<std::int64_t>::max() / ms_per_day / 10;
    while (pos < text.size()) {
        if (!in_time && (text[pos] == 'T' || text[pos] == 't')) {
            in_time = true;
            ++pos;
            continue;
        }
        std::int64_t v = 0;
        std::size_t digits = 0;
        for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])); ++pos) {
            v = v * 10 + (text[pos] - '0');
            if (++digits > 12 || v > value_max) {
                return bad();
            }
        }
        std::size_t before = pos;
        auto ms = digits > 0 && pos < text.size() && text[pos] == '.' ? fraction_ms(text, pos)
                                                                      : std::optional<int>(0);
        bool fractional = pos != before;
        if (digits == 0 || !ms || pos >= text.size()) {
            return bad();
        }
        char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos++])));
        auto at = units.find(unit);
        if (at == std::string_view::npos || (unit == 'D') == in_time ||
            (fractional && unit != 'S')) {
            return bad();
        }
        units = units.substr(at + 1);
        any = true;
        static constexpr std::int64_t unit_ms[] = {ms_per_day, ms_per_hour, ms_per_minute,
                                                   ms_per_second};
        total += v * unit_ms[std::string_view("DHMS").find(unit)] + *ms;
    }
    // "P1DT" (a T with no time after it) is as malformed as "P".
    bool time_unit_seen = units.size() < 3;  // H, M or S consumed
    if (!any || (in_time && !time_unit_seen)) {
        return bad();
    }
    return total;
}

result<reset_spec> reset_spec_of(const groups_reset_options& o, std::int64_t now_ms) {
    if (o.to_earliest) {
        return reset_spec{reset_mode::earliest, 0};
    }
    if (o.to_latest) {
        return reset_spec{reset_mode::latest, 0};
    }
    if (o.to_current) {
        return reset_spec{reset_mode::current, 0};
    }
    if (o.to_offset) {
        return reset_spec{reset_mode::offset, *o.to_offset};
    }
    if (o.shift_by) {
        return reset_spec{reset_mode::shift_by, *o.shift_by};
    }
    if (o.to_datetime) {
        GREGOR_TRY(auto ms, parse_datetime_ms(*o.to_datetime));
        return reset_spec{reset_mode::timestamp, ms};
    }
    if (o.by_duration) {
        GREGOR_TRY(auto ms, parse_duration_ms(*o.by_duration));
        return reset_spec{reset_mode::timestamp, now_ms - ms};
    }
    return error(errc::bad_usage,
                 "give one of --to-earliest, --to-latest, --to-current, --to-offset, "
                 "--shift-by, --to-datetime, --by-duration");
}

result<std::vector<planned_offset>> plan_reset(const reset_spec& spec,
                                               const std::vector<partition_offsets>& parts) {
    std::vector<planned_offset> out;
    out.reserve(parts.size());
    for (const auto& p : parts) {
        std::int64_t v = 0;
        switch (spec.mode) {
            case reset_mode::earliest:
                v = p.earliest;
                break;
            case reset_mode::latest:
                v = p.latest;
                break;
            case reset_mode::current:
                v = p.committed.value_or(p.latest);
                break;
            case reset_mode::offset:
                v = clamp_offset(spec.value, p);
                break;
            case reset_mode::shift_by:
                if (!p.committed) {
                    return error(errc::bad_usage,
                                 fmt::format("cannot shift the offset of {}: the group has no "
                                             "committed offset there",
                                             p.partition.to_string()));
                }
                v = clamp_offset(saturating_add(*p.committed, spec.value), p);
                break;
            case reset_mode::timestamp:
                v = p.at_time ? clamp_offset(*p.at_time, p) : p.latest;
                break;
        }
        out.push_back({p.partition, v});
    }
    return out;
}

}  // namespace gregor::admin

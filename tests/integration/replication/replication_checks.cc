#include "integration/replication/replication_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

namespace gregor::test {

namespace {

constexpr int shown_max = 10;  // violations listed in full; the rest are counted

// Collects violations, listing the first few.
struct findings {
    std::string text;
    int count = 0;

    void add(const std::string& line) {
        if (++count <= shown_max) {
            text += line + "\n";
        }
    }
    std::string summary(const std::string& what) const {
        return count == 0 ? "" : fmt::format("{} {}:\n{}", count, what, text);
    }
};

// Splits "<prefix>-<n>" into prefix and n; nullopt for anything else.
std::optional<std::pair<std::string, std::int64_t>> parse_value(const std::string& v) {
    auto dash = v.rfind('-');
    if (dash == std::string::npos || dash + 1 == v.size()) {
        return std::nullopt;
    }
    std::int64_t n = 0;
    const char* first = v.data() + dash + 1;
    const char* last = v.data() + v.size();
    auto [end, ec] = std::from_chars(first, last, n);
    if (ec != std::errc() || end != last) {
        return std::nullopt;
    }
    return std::pair(v.substr(0, dash), n);
}

}  // namespace

std::string check_acknowledged(const partition_log& log, const std::string& prefix,
                               const std::vector<acked_record>& acked) {
    findings lost;
    for (const auto& a : acked) {
        auto want = fmt::format("{}-{}", prefix, a.n);
        auto it = log.find(a.offset);
        if (it == log.end()) {
            lost.add(fmt::format("{} acknowledged at offset {}: no record there", want, a.offset));
        } else if (it->second != want) {
            lost.add(fmt::format("{} acknowledged at offset {}: the log has {} there", want,
                                 a.offset, it->second));
        }
    }
    // Each offset holds one value, so no offset can have been acknowledged for two records.
    return lost.summary("acknowledged records missing from the log (of " +
                        std::to_string(acked.size()) + ")");
}

std::string check_only_sent(const partition_log& log,
                            const std::map<std::string, std::int64_t>& producers,
                            const std::set<std::string>& extra) {
    findings alien;
    for (const auto& [offset, value] : log) {
        if (extra.contains(value)) {
            continue;
        }
        auto parsed = parse_value(value);
        auto it = parsed ? producers.find(parsed->first) : producers.end();
        if (it == producers.end() || parsed->second < 0 || parsed->second >= it->second) {
            alien.add(fmt::format("offset {}: {}", offset, value));
        }
    }
    return alien.summary("records nobody sent");
}

std::string check_consumer_saw_committed(const partition_log& log, const partition_log& seen) {
    findings gone;
    for (const auto& [offset, value] : seen) {
        auto it = log.find(offset);
        if (it == log.end()) {
            gone.add(fmt::format("offset {} ({}) is no longer in the log", offset, value));
        } else if (it->second != value) {
            gone.add(fmt::format("offset {} was served as {} but the log has {}", offset, value,
                                 it->second));
        }
    }
    return gone.summary("records a consumer was served that the final log does not hold");
}

std::string check_same_below(const partition_log& leader, const partition_log& replica,
                             std::int64_t high_watermark) {
    findings differ;
    for (std::int64_t o = 0; o < high_watermark; ++o) {
        auto l = leader.find(o);
        auto r = replica.find(o);
        std::string lv = l == leader.end() ? "<none>" : l->second;
        std::string rv = r == replica.end() ? "<none>" : r->second;
        if (lv != rv) {
            differ.add(fmt::format("offset {}: leader {}, replica {}", o, lv, rv));
        }
    }
    return differ.summary("offsets below the high watermark " + std::to_string(high_watermark) +
                          " that differ");
}

std::int64_t send_order_inversions(const std::vector<acked_record>& acked) {
    std::int64_t out = 0;
    for (std::size_t i = 1; i < acked.size(); ++i) {
        out += acked[i].n < acked[i - 1].n ? 1 : 0;
    }
    return out;
}

std::int64_t duplicates(const partition_log& log) {
    std::map<std::string, int> times;
    for (const auto& [offset, value] : log) {
        ++times[value];
    }
    return std::count_if(times.begin(), times.end(), [](const auto& kv) { return kv.second > 1; });
}

std::string check_exactly_once_in_order(const partition_log& log, const std::string& prefix,
                                        std::int64_t sent) {
    std::int64_t expected = 0;
    for (const auto& [offset, value] : log) {
        if (!value.starts_with(prefix + "-")) {
            continue;
        }
        std::string want = fmt::format("{}-{}", prefix, expected);
        if (value != want) {
            return fmt::format("offset {} holds {} where {} was due (a duplicate, a gap or a "
                               "reordering)",
                               offset, value, want);
        }
        ++expected;
    }
    if (expected != sent) {
        return fmt::format("the log holds {} of the {} records sent", expected, sent);
    }
    return "";
}

}  // namespace gregor::test

#include "admin/group_options.h"

#include "admin/errc.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string_view>

namespace gregor::admin {
namespace {

// Kafka's group states as ListGroups v4 and DescribeGroups spell them (the classic
// coordinator's, plus the KIP-848 ones a newer cluster may report).
constexpr std::array<std::string_view, 8> group_states{
    "PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty",
    "Assigning",          "Reconciling",         "Unknown"};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

void add_group_common(CLI::App& cmd, group_common_options& o) {
    add_common_options(cmd, o.common);
    cmd.add_option("--timeout", o.timeout_s,
                   "Seconds to keep retrying while a group's coordinator is unavailable, loading "
                   "or moving")
        ->check(CLI::Range(1, 3600));
}

void add_group_selection(CLI::App& cmd, group_selection& o) {
    auto* g = cmd.add_option("--group", o.groups, "A consumer group (repeatable)");
    auto* all = cmd.add_flag("--all-groups", o.all_groups, "Every consumer group of the cluster");
    g->excludes(all);
}

}  // namespace

void add_groups_list_options(CLI::App& cmd, groups_list_options& o) {
    add_group_common(cmd, o.base);
    cmd.add_option("--state", o.state,
                   "Show each group's state; with a value, only groups in these states "
                   "(comma-separated, any case: Stable,Empty,PreparingRebalance,"
                   "CompletingRebalance,Dead)")
        ->expected(0, 1);
}

void add_groups_describe_options(CLI::App& cmd, groups_describe_options& o) {
    add_group_common(cmd, o.base);
    add_group_selection(cmd, o.select);
    auto* m = cmd.add_flag("--members", o.members, "The members: id, host, client id, partitions");
    auto* off = cmd.add_flag("--offsets", o.offsets,
                             "Committed offset, log end offset and lag per partition (default)");
    auto* s = cmd.add_flag("--state", o.state,
                           "Coordinator, assignment strategy, state and member count");
    cmd.add_flag("--verbose", o.verbose, "With --members: each member's assigned partitions")
        ->needs(m);
    m->excludes(off)->excludes(s);
    off->excludes(s);
}

void add_groups_reset_options(CLI::App& cmd, groups_reset_options& o) {
    add_group_common(cmd, o.base);
    add_group_selection(cmd, o.select);
    auto* t = cmd.add_option("--topic", o.topics,
                             "A topic, or topic:P,P,... for some partitions (repeatable)");
    auto* all = cmd.add_flag("--all-topics", o.all_topics,
                             "Every partition the group has a committed offset for");
    t->excludes(all);
    std::vector<CLI::Option*> modes{
        cmd.add_flag("--to-earliest", o.to_earliest, "The earliest offset of each partition"),
        cmd.add_flag("--to-latest", o.to_latest, "The log end offset of each partition"),
        cmd.add_flag("--to-current", o.to_current,
                     "The committed offset (the log end where none is committed)"),
        cmd.add_option("--to-offset", o.to_offset, "This offset (kept within the log's range)"),
        cmd.add_option("--shift-by", o.shift_by,
                       "The committed offset plus N (N may be negative; kept within range)"),
        cmd.add_option("--to-datetime", o.to_datetime,
                       "The first offset at or after YYYY-MM-DDTHH:mm:SS.sss (local time, or "
                       "a Z / +hh:mm suffix)"),
        cmd.add_option("--by-duration", o.by_duration,
                       "The first offset at or after now minus an ISO-8601 duration PnDTnHnMnS"),
    };
    for (std::size_t i = 0; i < modes.size(); ++i) {
        for (std::size_t j = i + 1; j < modes.size(); ++j) {
            modes[i]->excludes(modes[j]);
        }
    }
    auto* dry = cmd.add_flag("--dry-run", o.dry_run, "Only print the new offsets (the default)");
    auto* exe = cmd.add_flag("--execute", o.execute, "Commit the new offsets (OffsetCommit)");
    dry->excludes(exe);
}

void add_groups_delete_options(CLI::App& cmd, groups_delete_options& o) {
    add_group_common(cmd, o.base);
    add_group_selection(cmd, o.select);
}

void add_groups_delete_offsets_options(CLI::App& cmd, groups_delete_offsets_options& o) {
    add_group_common(cmd, o.base);
    cmd.add_option("--group", o.group, "The consumer group")->required();
    cmd.add_option("--topic", o.topics, "A topic, or topic:P,P,... (repeatable)")->required();
}

result<std::vector<std::string>> parse_group_states(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto word = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        while (!word.empty() && word.front() == ' ') {
            word.remove_prefix(1);
        }
        while (!word.empty() && word.back() == ' ') {
            word.remove_suffix(1);
        }
        auto it = std::find_if(group_states.begin(), group_states.end(),
                               [&](std::string_view s) { return equal_ignoring_case(s, word); });
        if (it == group_states.end()) {
            return error(errc::bad_usage,
                         fmt::format("--state '{}': not a group state (Stable, Empty, "
                                     "PreparingRebalance, CompletingRebalance, Dead)",
                                     word));
        }
        if (std::find(out.begin(), out.end(), *it) == out.end()) {
            out.emplace_back(*it);
        }
    }
    return out;
}

result<topic_selection> parse_topic_selection(std::string_view text) {
    auto bad = [&] {
        return error(errc::bad_usage, fmt::format("--topic '{}': expected T or T:P,P,...", text));
    };
    auto colon = text.find(':');
    topic_selection out;
    out.topic = std::string(text.substr(0, colon));
    if (out.topic.empty()) {
        return bad();
    }
    if (colon == std::string_view::npos) {
        return out;
    }
    out.partitions.emplace();
    auto rest = text.substr(colon + 1);
    for (;;) {
        auto comma = rest.find(',');
        auto num = rest.substr(0, comma);
        std::int32_t p = -1;
        auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), p);
        if (num.empty() || ec != std::errc{} || end != num.data() + num.size() || p < 0) {
            return bad();
        }
        if (std::find(out.partitions->begin(), out.partitions->end(), p) == out.partitions->end()) {
            out.partitions->push_back(p);
        }
        if (comma == std::string_view::npos) {
            return out;
        }
        rest = rest.substr(comma + 1);
    }
}

}  // namespace gregor::admin

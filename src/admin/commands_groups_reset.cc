// `gregor groups reset-offsets`: plans each group's new offsets (group_reset.h), prints
// them, and with --execute commits them with OffsetCommit as an admin (generation -1, no
// member id), which the coordinator accepts only while the group has no members.
#include "admin/commands_common.h"
#include "admin/group_report.h"
#include "admin/group_reset.h"

#include <fmt/format.h>

#include <chrono>
#include <set>

namespace gregor::admin {
namespace {

using detail::print;
using detail::report_error;

constexpr std::string_view what = "groups reset-offsets";

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The checks that need no cluster: a group, a scope, one mode, well-formed arguments.
result<reset_spec> check_reset_options(const groups_reset_options& o) {
    GREGOR_TRY_VOID(detail::check_selection(o.select));
    if (o.topics.empty() && !o.all_topics) {
        return error(errc::bad_usage,
                     "give the partitions to reset: --topic T[:P,...] or "
                     "--all-topics");
    }
    for (const auto& t : o.topics) {
        GREGOR_TRY_VOID(parse_topic_selection(t));
    }
    return reset_spec_of(o, now_ms());
}

// The partitions the options select for `group`: --all-topics means those with a
// committed offset; a whole --topic means all of its partitions.
result<std::vector<topic_partition>> selected_partitions(group_client& c,
                                                         const groups_reset_options& o,
                                                         const offset_map& committed) {
    std::set<topic_partition> out;
    if (o.all_topics) {
        for (const auto& [p, offset] : committed) {
            out.insert(p);
        }
    }
    for (const auto& text : o.topics) {
        GREGOR_TRY(auto sel, parse_topic_selection(text));
        GREGOR_TRY(auto existing, c.partitions_of({sel.topic}));
        if (!sel.partitions) {
            out.insert(existing.begin(), existing.end());
            continue;
        }
        for (auto p : *sel.partitions) {
            topic_partition tp{sel.topic, p};
            if (std::find(existing.begin(), existing.end(), tp) == existing.end()) {
                return error(errc::bad_usage,
                             fmt::format("partition {} does not exist", tp.to_string()));
            }
            out.insert(tp);
        }
    }
    return std::vector<topic_partition>(out.begin(), out.end());
}

// Earliest, latest and (for a time) the offset at the spec's timestamp of each partition.
result<std::vector<partition_offsets>> offsets_of(group_client& c,
                                                  const std::vector<topic_partition>& parts,
                                                  const offset_map& committed,
                                                  const reset_spec& spec) {
    GREGOR_TRY(auto earliest, c.list_offsets(parts, earliest_timestamp));
    GREGOR_TRY(auto latest, c.list_offsets(parts, latest_timestamp));
    std::map<topic_partition, std::optional<std::int64_t>> at_time;
    if (spec.mode == reset_mode::timestamp) {
        GREGOR_TRY(at_time, c.list_offsets(parts, spec.value));
    }
    std::vector<partition_offsets> out;
    for (const auto& p : parts) {
        auto e = earliest.find(p);
        auto l = latest.find(p);
        if (e == earliest.end() || l == latest.end() || !e->second || !l->second) {
            return error(errc::request_failed,
                         fmt::format("ListOffsets did not answer for {}", p.to_string()));
        }
        partition_offsets po{p, std::nullopt, *e->second, *l->second, std::nullopt};
        if (auto it = committed.find(p); it != committed.end()) {
            po.committed = it->second;
        }
        if (auto it = at_time.find(p); it != at_time.end()) {
            po.at_time = it->second;
        }
        out.push_back(std::move(po));
    }
    return out;
}

result<void> commit_plan(group_client& c, const group_plan& plan) {
    GREGOR_TRY(auto errors, c.commit_offsets(plan.group, plan.offsets));
    std::string failed;
    for (const auto& [p, code] : errors) {
        if (code != 0) {
            failed += fmt::format("{}{}: {}", failed.empty() ? "" : "; ", p.to_string(),
                                  detail::describe_kafka_error(code, std::nullopt));
        }
    }
    if (!failed.empty()) {
        return error(errc::request_failed,
                     fmt::format("group '{}': OffsetCommit failed for {}", plan.group, failed));
    }
    return ok();
}

// One group's plan; committed when `o.execute`. Kafka resets only an inactive group
// (Empty, or Dead: no group yet), also in a dry run.
result<group_plan> reset_group(group_client& c, const groups_reset_options& o,
                               const reset_spec& spec, const std::string& group) {
    GREGOR_TRY(auto desc, c.describe_group(group));
    if (desc.error_code != 0) {
        return error(errc::request_failed,
                     fmt::format("group '{}': {}", group,
                                 detail::describe_kafka_error(desc.error_code, std::nullopt)));
    }
    if (desc.state != "Empty" && desc.state != "Dead") {
        return error(errc::request_failed,
                     fmt::format("Assignments can only be reset if the group '{}' is inactive, "
                                 "but the current state is {}.",
                                 group, desc.state));
    }
    GREGOR_TRY(auto committed, c.fetch_offsets(group));
    GREGOR_TRY(auto parts, selected_partitions(c, o, committed));
    GREGOR_TRY(auto offsets, offsets_of(c, parts, committed, spec));
    GREGOR_TRY(auto planned, plan_reset(spec, offsets));
    group_plan plan{group, std::move(planned)};
    if (o.execute && !plan.offsets.empty()) {
        GREGOR_TRY_VOID(commit_plan(c, plan));
    }
    return plan;
}

}  // namespace

int run_groups_reset_offsets(const groups_reset_options& o) {
    auto spec = check_reset_options(o);
    if (!spec) {
        return report_error(what, spec.err());
    }
    if (!o.dry_run && !o.execute) {
        std::fputs(
            "WARN: No action will be performed as the --execute option is missing. "
            "Add --dry-run to keep this behaviour without the warning, or --execute to "
            "commit the new offsets.\n",
            stderr);
    }
    auto s = detail::connect_groups(o.base);
    if (!s) {
        return report_error(what, s.err());
    }
    auto names = detail::selected_groups(*s->groups, o.select);
    if (!names) {
        return report_error(what, names.err());
    }
    int rc = exit_ok;
    std::vector<group_plan> plans;
    for (const auto& g : *names) {
        auto plan = reset_group(*s->groups, o, *spec, g);
        if (!plan) {
            rc = report_error(what, plan.err());
            continue;
        }
        plans.push_back(std::move(*plan));
    }
    if (!plans.empty()) {
        print(render_reset_plan(plans, o.base.common.output()));
    }
    return rc;
}

}  // namespace gregor::admin

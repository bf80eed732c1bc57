// `gregor groups list|describe|delete` (the reset is in commands_groups_reset.cc).
#include "admin/commands_common.h"
#include "admin/group_report.h"

#include <fmt/format.h>

#include <set>

namespace gregor::admin {
namespace detail {

result<group_session> connect_groups(const group_common_options& o) {
    GREGOR_TRY(auto admin, connect(o.common));
    group_session s;
    s.groups =
        std::make_unique<group_client>(*admin, std::chrono::seconds(o.common.request_timeout_s),
                                       std::chrono::seconds(o.timeout_s));
    s.admin = std::move(admin);
    return s;
}

result<void> check_selection(const group_selection& s) {
    if (s.groups.empty() && !s.all_groups) {
        return error(errc::bad_usage, "give --group G (repeatable) or --all-groups");
    }
    return ok();
}

result<std::vector<std::string>> selected_groups(group_client& c, const group_selection& s) {
    GREGOR_TRY_VOID(check_selection(s));
    if (!s.all_groups) {
        std::vector<std::string> out;
        for (const auto& g : s.groups) {
            if (std::find(out.begin(), out.end(), g) == out.end()) {
                out.push_back(g);
            }
        }
        return out;
    }
    GREGOR_TRY(auto listed, c.list_groups({}));
    std::set<std::string> names;
    for (const auto& g : listed) {
        names.insert(g.group);
    }
    return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace detail

namespace {

using detail::print;
using detail::report_error;

void print_rendered(const rendered& r) {
    if (!r.err.empty()) {
        std::fputs(r.err.c_str(), stderr);
        std::fflush(stderr);
    }
    print(r.out);
}

// Everything `groups describe` shows of `group`. The log end offsets are best effort:
// when ListOffsets fails the table shows "-" and a note says why.
result<group_report> gather(group_client& c, const std::string& group, bool with_offsets) {
    group_report r;
    GREGOR_TRY(r.description, c.describe_group(group));
    if (!with_offsets || !group_found(r)) {
        return r;
    }
    GREGOR_TRY(r.committed, c.fetch_offsets(group));
    std::set<topic_partition> partitions;
    for (const auto& m : r.description.members) {
        partitions.insert(m.assignment.begin(), m.assignment.end());
    }
    for (const auto& [p, offset] : r.committed) {
        partitions.insert(p);
    }
    if (partitions.empty()) {
        return r;
    }
    auto ends = c.list_offsets({partitions.begin(), partitions.end()}, latest_timestamp);
    if (!ends) {
        std::fprintf(stderr, "gregor: groups describe: group '%s': log end offsets unknown: %s\n",
                     group.c_str(), ends.err().detail.c_str());
        return r;
    }
    for (const auto& [p, offset] : *ends) {
        if (offset) {
            r.log_end[p] = *offset;
        }
    }
    return r;
}

void warn_malformed_assignments(const group_report& r) {
    for (const auto& m : r.description.members) {
        if (!m.assignment_error.empty()) {
            std::fprintf(stderr,
                         "gregor: groups describe: group '%s' member '%s': the assignment does "
                         "not decode (%s); shown without partitions\n",
                         r.description.group.c_str(), m.consumer_id.c_str(),
                         m.assignment_error.c_str());
        }
    }
}

}  // namespace

int run_groups_list(const groups_list_options& o) {
    std::vector<std::string> states;
    if (o.state && !o.state->empty()) {
        auto parsed = parse_group_states(*o.state);
        if (!parsed) {
            return report_error("groups list", parsed.err());
        }
        states = std::move(*parsed);
    }
    auto s = detail::connect_groups(o.base);
    if (!s) {
        return report_error("groups list", s.err());
    }
    auto groups = s->groups->list_groups(states);
    if (!groups) {
        return report_error("groups list", groups.err());
    }
    print(render_group_list(std::move(*groups), o.state.has_value(), o.base.common.output()));
    return exit_ok;
}

int run_groups_describe(const groups_describe_options& o) {
    if (auto checked = detail::check_selection(o.select); !checked) {
        return report_error("groups describe", checked.err());
    }
    auto s = detail::connect_groups(o.base);
    if (!s) {
        return report_error("groups describe", s.err());
    }
    auto names = detail::selected_groups(*s->groups, o.select);
    if (!names) {
        return report_error("groups describe", names.err());
    }
    bool json = o.base.common.output() == output_format::json;
    bool with_offsets = json || (!o.members && !o.state);
    int rc = exit_ok;
    std::vector<group_report> reports;
    for (const auto& g : *names) {
        auto r = gather(*s->groups, g, with_offsets);
        if (!r) {
            rc = report_error("groups describe", r.err());
            continue;
        }
        warn_malformed_assignments(*r);
        rc = group_found(*r) ? rc : exit_failed;
        if (!json) {
            print_rendered(o.members
                               ? render_group_members(*r, o.verbose)
                               : (o.state ? render_group_state(*r) : render_group_offsets(*r)));
        }
        reports.push_back(std::move(*r));
    }
    if (json) {
        print(render_group_describe_json(reports));
    }
    return rc;
}

int run_groups_delete(const groups_delete_options& o) {
    if (auto checked = detail::check_selection(o.select); !checked) {
        return report_error("groups delete", checked.err());
    }
    auto s = detail::connect_groups(o.base);
    if (!s) {
        return report_error("groups delete", s.err());
    }
    auto names = detail::selected_groups(*s->groups, o.select);
    if (!names) {
        return report_error("groups delete", names.err());
    }
    int rc = exit_ok;
    std::vector<delete_outcome> outcomes;
    for (const auto& g : *names) {
        auto code = s->groups->delete_group(g);
        if (!code) {
            rc = report_error("groups delete", code.err());
            continue;
        }
        rc = *code == 0 ? rc : exit_failed;
        outcomes.push_back({g, *code});
    }
    if (!outcomes.empty() || names->empty()) {
        print_rendered(render_delete_groups(outcomes, o.base.common.output()));
    }
    return rc;
}

}  // namespace gregor::admin

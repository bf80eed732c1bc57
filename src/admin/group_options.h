// Options of `gregor groups list|describe|reset-offsets|delete|delete-offsets` and their
// CLI11 wiring. The flags keep kafka-consumer-groups.sh's spelling (--group, --all-groups,
// --topic, --all-topics, --to-earliest, ..., --dry-run, --execute) so that an operator's
// habits and scripts carry over; the action is a subcommand instead of --list/--describe.
// Main thread only.
#pragma once

#include "admin/options.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gregor::admin {

// What every group command shares: the connection options and how long the coordinator
// lookups and their retries (COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS,
// NOT_COORDINATOR) may take in all.
struct group_common_options {
    common_options common;
    std::int32_t timeout_s = 30;
};

// --group G (repeatable) or --all-groups.
struct group_selection {
    std::vector<std::string> groups;
    bool all_groups = false;
};

struct groups_list_options {
    group_common_options base;
    // --state: absent (nullopt), given alone ("": show the STATE column), or a
    // comma-separated filter ("Stable,Empty", any case).
    std::optional<std::string> state;
};

struct groups_describe_options {
    group_common_options base;
    group_selection select;
    bool members = false;
    bool verbose = false;  // with --members: each member's assignment
    bool offsets = false;  // the default view, also when nothing else is asked
    bool state = false;
};

struct groups_reset_options {
    group_common_options base;
    group_selection select;
    std::vector<std::string> topics;  // T or T:P,P,...
    bool all_topics = false;
    bool to_earliest = false;
    bool to_latest = false;
    bool to_current = false;
    std::optional<std::int64_t> to_offset;
    std::optional<std::int64_t> shift_by;
    std::optional<std::string> to_datetime;  // YYYY-MM-DDTHH:mm:SS.sss[Z|+hh:mm]
    std::optional<std::string> by_duration;  // PnDTnHnMnS
    bool dry_run = false;
    bool execute = false;
};

struct groups_delete_options {
    group_common_options base;
    group_selection select;
};

struct groups_delete_offsets_options {
    group_common_options base;
    std::string group;
    std::vector<std::string> topics;  // T or T:P,P,...
};

void add_groups_list_options(CLI::App& cmd, groups_list_options& o);
void add_groups_describe_options(CLI::App& cmd, groups_describe_options& o);
void add_groups_reset_options(CLI::App& cmd, groups_reset_options& o);
void add_groups_delete_options(CLI::App& cmd, groups_delete_options& o);
void add_groups_delete_offsets_options(CLI::App& cmd, groups_delete_offsets_options& o);

// The canonical names of --state values ("stable" -> "Stable"); errc::bad_usage naming
// the first value that is not a group state. An empty text is an empty list.
result<std::vector<std::string>> parse_group_states(std::string_view text);

// A --topic argument: "T" (every partition: nullopt) or "T:0,2,5".
struct topic_selection {
    std::string topic;
    std::optional<std::vector<std::int32_t>> partitions;
};
result<topic_selection> parse_topic_selection(std::string_view text);

}  // namespace gregor::admin

// The admin commands: each runs to the end, prints its result on stdout (errors on
// stderr) and returns the exit code (options.h). Main thread only.
#pragma once

#include "admin/group_options.h"
#include "admin/options.h"
#include "base/result.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gregor::admin {

int run_describe_cluster(const describe_cluster_options& o);
int run_health(const health_options& o);
int run_cluster_journal(const journal_options& o);
int run_cluster_can_stop(const can_stop_options& o);
// Before `gregor cluster kill|pause|restart N --dir D` stops broker N: asks the active
// controller (/api/can-stop) and, if stopping N would leave a partition under
// min.insync.replicas or without a leader, prints the partitions and returns
// exit_cannot_stop. nullopt: go ahead (also, with a warning, when no controller answers).
std::optional<int> refuse_unsafe_stop(const std::string& dir, std::int32_t broker,
                                      std::string_view action);
int run_topics_list(const topics_list_options& o);
int run_topics_describe(const topics_describe_options& o);
int run_topics_create(const topics_create_options& o);
int run_topics_delete(const topics_delete_options& o);
int run_topics_alter(const topics_alter_options& o);
int run_topics_reassignments(const topics_reassignments_options& o);
int run_leaders_elect(const leaders_elect_options& o);
int run_groups_list(const groups_list_options& o);
int run_groups_describe(const groups_describe_options& o);
int run_groups_reset_offsets(const groups_reset_options& o);
int run_groups_delete(const groups_delete_options& o);

// Helpers shared by the commands (pure; unit-tested).

// The bootstrap list: --bootstrap-server (or --bootstrap), else the state file in --dir, else 127.0.0.1:9092.
result<std::string> resolve_bootstrap(const common_options& o);
// "key=value" -> (key, value); errc::bad_usage naming the argument otherwise.
result<std::pair<std::string, std::string>> parse_config_entry(std::string_view text);
// "topic" -> (topic, nullopt); "topic:3" -> (topic, 3). A topic may itself contain no ':'.
result<std::pair<std::string, std::optional<std::int32_t>>> parse_topic_partition(
    std::string_view text);

}  // namespace gregor::admin

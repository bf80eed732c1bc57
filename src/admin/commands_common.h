// Internal helpers of the admin command implementations (commands_*.cc).
#pragma once

#include "admin/admin_client.h"
#include "admin/commands.h"
#include "admin/group_client.h"

#include <cstdio>
#include <memory>
#include <string>

namespace gregor::admin::detail {

// Prints "gregor: <what>: <detail>" on stderr; returns the exit code for `e`.
int report_error(std::string_view what, const error& e);
// Connects to the cluster the options name.
result<std::unique_ptr<admin_client>> connect(const common_options& o);
// The timeout_ms of a request whose answer the controller delays until its effect shows
// (CreateTopics, DeleteTopics, CreatePartitions, ElectLeaders): a fifth less than the
// client's own --request-timeout, so the answer arrives before the client gives up. A client
// that gave up would retry, and a retried CreateTopics finds its own topic and reports that
// it exists.
std::int32_t broker_wait_ms(const common_options& o);
// A connection to the cluster for the group commands (commands_groups*.cc).
struct group_session {
    std::unique_ptr<admin_client> admin;
    std::unique_ptr<group_client> groups;
};
result<group_session> connect_groups(const group_common_options& o);
// The groups --group names, or every consumer group with --all-groups;
// errc::bad_usage when neither is given.
result<std::vector<std::string>> selected_groups(group_client& c, const group_selection& s);
// errc::bad_usage unless --group or --all-groups is given (checked before connecting).
result<void> check_selection(const group_selection& s);
// Kafka's name for a wire error code ("TOPIC_ALREADY_EXISTS").
std::string error_name(std::int16_t code);
// "NAME: message" or "NAME" when the message is empty.
std::string describe_kafka_error(std::int16_t code, const std::optional<std::string>& message);
void print(const std::string& text);
// `topics alter --replication-factor`: plans, sends AlterPartitionReassignments, prints the
// outcome and (--wait) polls ListPartitionReassignments until done. Returns the exit code.
int alter_replication_factor(admin_client& c, const topics_alter_options& o);

}  // namespace gregor::admin::detail

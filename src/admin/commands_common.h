// Internal helpers of the admin command implementations (commands_*.cc).
#pragma once

#include "admin/admin_client.h"
#include "admin/commands.h"

#include <cstdio>
#include <memory>
#include <string>

namespace gregor::admin::detail {

// Prints "gregor: <what>: <detail>" on stderr; returns the exit code for `e`.
int report_error(std::string_view what, const error& e);
// Connects to the cluster the options name.
result<std::unique_ptr<admin_client>> connect(const common_options& o);
// Kafka's name for a wire error code ("TOPIC_ALREADY_EXISTS").
std::string error_name(std::int16_t code);
// "NAME: message" or "NAME" when the message is empty.
std::string describe_kafka_error(std::int16_t code, const std::optional<std::string>& message);
void print(const std::string& text);
// `topics alter --replication-factor`: plans, sends AlterPartitionReassignments, prints the
// outcome and (--wait) polls ListPartitionReassignments until done. Returns the exit code.
int alter_replication_factor(admin_client& c, const topics_alter_options& o);

}  // namespace gregor::admin::detail

// Kafka's rules for changing a topic's config overrides, as pure functions.
//
// IncrementalAlterConfigs edits the overrides key by key (SET, DELETE, APPEND and SUBTRACT on
// list-typed keys); AlterConfigs replaces the whole set. Both end with the same validation
// as CreateTopics (topic_rules.h). The checks run in Kafka's order and answer with Kafka's
// error codes and wording: malformed requests (duplicate keys, unknown operations, null
// values, list operations on non-list keys) are INVALID_REQUEST; unknown names and bad
// values are INVALID_CONFIG. Pure functions; any thread.
#pragma once

#include "controller/assignment.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gregor::controller {

using config_overrides = std::map<std::string, std::string>;

// IncrementalAlterConfigs' operation codes (Kafka's AlterConfigOp.OpType).
enum class config_operation : std::int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

struct config_edit {
    std::string name;
    std::int8_t operation = 0;  // a config_operation, untrusted
    std::optional<std::string> value;
};

// Applies `edits` to `current` as Kafka's IncrementalAlterConfigs does and validates the
// result. APPEND adds the items not yet in the list (starting from Kafka's default when the
// key is not overridden); SUBTRACT removes every given item. Returns the new overrides, or
// the first error.
admin_result<config_overrides> apply_config_edits(const config_overrides& current,
                                                  const std::vector<config_edit>& edits);

// AlterConfigs: the new overrides are exactly `entries` (null values are refused), validated.
admin_result<config_overrides> replace_configs(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& entries);

// The keys whose values differ between `before` and `after` ("k" set or changed, "-k"
// removed), sorted: what the decision journal records.
std::vector<std::string> changed_config_keys(const config_overrides& before,
                                             const config_overrides& after);

// "k1=v1,k2=v2" (sorted by key): overrides in log lines.
std::string format_overrides(const config_overrides& c);

}  // namespace gregor::controller

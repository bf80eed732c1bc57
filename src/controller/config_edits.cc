#include "controller/config_edits.h"

#include "base/strings.h"
#include "controller/topic_rules.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace gregor::controller {
namespace {

using model::kafka_error;

admin_error invalid_request(std::string message) {
    return admin_error{kafka_error::invalid_request, std::move(message)};
}

// Comma-separated items, trimmed; empty items are dropped (an empty list is "").
std::vector<std::string> items_of(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = std::min(text.find(',', start), text.size());
        auto item = trim(text.substr(start, comma - start));
        if (!item.empty()) {
            out.emplace_back(item);
        }
        start = comma + 1;
    }
    return out;
}

// The request-level checks Kafka makes before touching any config: one edit per key, known
// operations, values where the operation needs one.
std::optional<admin_error> malformed(const std::vector<config_edit>& edits) {
    std::set<std::string> seen;
    for (const auto& e : edits) {
        if (!seen.insert(e.name).second) {
            return invalid_request("Error due to duplicate config keys");
        }
    }
    for (const auto& e : edits) {
        if (e.operation < 0 || e.operation > static_cast<std::int8_t>(config_operation::subtract)) {
            return invalid_request(fmt::format("Unknown operation type {} for config key: {}",
                                               e.operation, e.name));
        }
        auto op = static_cast<config_operation>(e.operation);
        if (op != config_operation::remove && !e.value) {
            return invalid_request("Null value not supported for : " + e.name);
        }
    }
    return std::nullopt;
}

// APPEND or SUBTRACT of `e` on `out`.
std::optional<admin_error> edit_list(config_overrides& out, const config_edit& e) {
    bool append = static_cast<config_operation>(e.operation) == config_operation::append;
    const topic_config_def* def = find_topic_config(e.name);
    if (def == nullptr) {
        return admin_error{kafka_error::invalid_config, "Unknown topic config name: " + e.name};
    }
    if (def->type != config_type::list) {
        return invalid_request(fmt::format("Config value {} is not allowed for config key: {}",
                                           append ? "append" : "subtract", e.name));
    }
    auto it = out.find(e.name);
    std::vector<std::string> items =
        items_of(it != out.end() ? std::string_view(it->second) : def->default_value);
    for (const std::string& item : items_of(*e.value)) {
        auto found = std::find(items.begin(), items.end(), item);
        if (append && found == items.end()) {
            items.push_back(item);
        } else if (!append) {
            items.erase(std::remove(items.begin(), items.end(), item), items.end());
        }
    }
    out[e.name] = fmt::format("{}", fmt::join(items, ","));
    return std::nullopt;
}

admin_result<config_overrides> validated(config_overrides configs) {
    if (auto bad = invalid_topic_configs(configs)) {
        return admin_error{kafka_error::invalid_config, *bad};
    }
    return configs;
}

}  // namespace

admin_result<config_overrides> apply_config_edits(const config_overrides& current,
                                                  const std::vector<config_edit>& edits) {
    if (auto bad = malformed(edits)) {
        return *bad;
    }
    config_overrides out = current;
    for (const auto& e : edits) {
        switch (static_cast<config_operation>(e.operation)) {
            case config_operation::set:
                out[e.name] = *e.value;
                break;
            case config_operation::remove:
                out.erase(e.name);
                break;
            case config_operation::append:
            case config_operation::subtract:
                if (auto bad = edit_list(out, e)) {
                    return *bad;
                }
                break;
        }
    }
    return validated(std::move(out));
}

admin_result<config_overrides> replace_configs(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& entries) {
    config_overrides out;
    for (const auto& [name, value] : entries) {
        if (!value) {
            return invalid_request("Null value not supported for : " + name);
        }
        if (!out.emplace(name, *value).second) {
            return invalid_request("Error due to duplicate config keys");
        }
    }
    return validated(std::move(out));
}

std::vector<std::string> changed_config_keys(const config_overrides& before,
                                             const config_overrides& after) {
    std::vector<std::string> out;
    for (const auto& [k, v] : after) {
        auto it = before.find(k);
        if (it == before.end() || it->second != v) {
            out.push_back(k);
        }
    }
    for (const auto& [k, v] : before) {
        if (!after.contains(k)) {
            out.push_back("-" + k);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string format_overrides(const config_overrides& c) {
    std::string out;
    for (const auto& [k, v] : c) {
        if (!out.empty()) {
            out += ',';
        }
        out += k + "=" + v;
    }
    return out;
}

}  // namespace gregor::controller

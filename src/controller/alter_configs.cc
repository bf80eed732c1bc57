// IncrementalAlterConfigs and AlterConfigs (kafka-configs.sh --alter, `gregor topics alter
// --config/--delete-config`): topic config overrides validated with Kafka's rules, written
// to /config/topics/<t> together with a /config/changes notification in one fenced multi, so
// every broker re-reads them and a deposed controller writes nothing.
#include "controller/config_edits.h"
#include "controller/impl.h"
#include "controller/logger.h"
#include "controller/topic_rules.h"

#include "coord/errc.h"

#include <fmt/ranges.h>

namespace gregor::controller {
namespace {

using model::kafka_error;
using incremental_request = protocol::incremental_alter_configs_request;
using incremental_response = protocol::incremental_alter_configs_response;
using alter_request = protocol::alter_configs_request;
using alter_response = protocol::alter_configs_response;

constexpr std::int8_t topic_resource = 2;
constexpr std::int8_t broker_resource = 4;
constexpr std::int8_t broker_logger_resource = 8;
// A concurrent writer of /config/topics/<t> (kafka-configs.sh --zookeeper) makes the
// conditional write fail; the edit is recomputed on the fresh value this many times.
constexpr int config_write_attempts = 3;

const admin_error succeeded{kafka_error::none, {}};

// What a resource of either request may not be, before its configs are looked at.
std::optional<admin_error> unsupported(std::int8_t type, const std::string& name,
                                       const controller_context& ctx) {
    if (type == broker_resource || type == broker_logger_resource) {
        return admin_fail(kafka_error::invalid_request,
                          "dynamic broker configs are not supported: set them in server.properties "
                          "and restart the broker");
    }
    if (type != topic_resource) {
        return admin_fail(kafka_error::invalid_request,
                          fmt::format("AlterConfigs is only supported for topics and brokers, but "
                                      "resource type is {}",
                                      type));
    }
    if (auto bad = invalid_topic_name(name)) {
        return admin_fail(kafka_error::invalid_topic_exception, *bad);
    }
    auto it = ctx.topics.find(name);
    if (it == ctx.topics.end() || it->second.deleting) {
        return admin_fail(kafka_error::unknown_topic_or_partition,
                          "The topic '" + name + "' does not exist.");
    }
    return std::nullopt;
}

}  // namespace

asio::awaitable<std::vector<admin_error>> controller::impl::do_alter_configs(
    const std::vector<config_alteration>& alterations, bool validate_only,
    const std::string& client) {
    std::vector<admin_error> out;
    std::map<std::pair<std::int8_t, std::string>, int> seen;
    for (const auto& a : alterations) {
        ++seen[{a.resource_type, a.name}];
    }
    for (const auto& a : alterations) {
        if (!is_active) {
            out.push_back(admin_fail(kafka_error::not_controller, ""));
            continue;
        }
        if (seen[{a.resource_type, a.name}] > 1) {
            out.push_back(
                admin_fail(kafka_error::invalid_request, "Duplicate resource: " + a.name));
            continue;
        }
        if (auto bad = unsupported(a.resource_type, a.name, ctx)) {
            out.push_back(*bad);
            continue;
        }
        admin_error e = co_await alter_topic_config(a, validate_only, client);
        out.push_back(std::move(e));
    }
    if (is_active && !validate_only) {
        co_await purge_config_changes();
    }
    co_return out;
}

// Reads the topic's overrides (with the znode version), computes the new ones and writes
// them, retrying on a concurrent write. kafka_error::none iff done (or only validated).
asio::awaitable<admin_error> controller::impl::alter_topic_config(const config_alteration& a,
                                                                  bool validate_only,
                                                                  const std::string& client) {
    const std::string path = coord::paths::topic_config(a.name);
    const coord::watch_fn no_watch;
    for (int attempt = 0; attempt < config_write_attempts; ++attempt) {
        auto node = co_await zk::get(zk, path, no_watch);
        if (!node && node.code() != coord::errc::no_node) {
            co_return admin_fail(kafka_error::unknown_server_error,
                                 "cannot read " + path + ": " + node.err().to_string());
        }
        config_overrides before;
        if (node) {
            auto decoded = coord::decode_entity_config(node->data);
            if (decoded) {
                before = std::move(*decoded);
            }  // unreadable: replaced by the new overrides, as a fresh write would
        }
        auto after = a.incremental ? apply_config_edits(before, a.edits)
                                   : replace_configs(a.replacement);
        if (!after) {
            co_return after.err();
        }
        if (validate_only) {
            co_return succeeded;
        }
        model::zk_version version = node ? node->stat.version : model::zk_version(-1);
        auto written = co_await write_topic_config(a.name, after.value(), version);
        if (written == config_write::written) {
            on_topic_config_written(a.name, before, after.value(), client);
            co_return succeeded;
        }
        if (written == config_write::not_controller) {
            co_return admin_fail(kafka_error::not_controller, "");
        }
        if (written == config_write::failed) {
            co_return admin_fail(kafka_error::unknown_server_error,
                                 "writing /config/topics/" + a.name + " failed");
        }
    }
    co_return admin_fail(kafka_error::unknown_server_error,
                         "/config/topics/" + a.name + " kept changing; try again");
}

// One fenced multi: the overrides (conditional on `version`, created when -1) and the change
// notification. `raced` means the znode changed since it was read.
asio::awaitable<config_write> controller::impl::write_topic_config(const std::string& name,
                                                                  const config_overrides& config,
                                                                  model::zk_version version) {
    const std::string path = coord::paths::topic_config(name);
    std::vector<coord::op> ops;
    if (version() < 0) {
        ops.push_back(coord::create_op{path, coord::encode_entity_config(config), {}});
    } else {
        ops.push_back(coord::set_op{path, coord::encode_entity_config(config), version});
    }
    ops.push_back(coord::create_op{coord::paths::config_change_sequential(),
                                   coord::encode_config_change("topics/" + name),
                                   coord::create_mode::persistent_sequential});
    auto r = co_await fenced(ops);
    if (!is_active) {
        co_return config_write::not_controller;
    }
    if (!r.error) {
        co_return config_write::written;
    }
    std::size_t failed = r.failed_index();
    if (failed == 1 && (r.results[1].error == coord::errc::bad_version ||
                        r.results[1].error == coord::errc::node_exists ||
                        r.results[1].error == coord::errc::no_node)) {
        co_return config_write::raced;
    }
    GREGOR_LOG(controller_log, warn, "topic {}: writing its configs failed: {}", name,
               r.error.message());
    co_return config_write::failed;
}

void controller::impl::on_topic_config_written(const std::string& name,
                                               const config_overrides& before,
                                               const config_overrides& after,
                                               const std::string& client) {
    auto it = ctx.topics.find(name);
    if (it != ctx.topics.end()) {
        it->second.config = after;
    }
    GREGOR_LOG(journal_log, info,
               "decision topic={} configs={{{}}}->{{{}}} changed=[{}] reason=\"alter configs from "
               "client {}\"",
               name, format_overrides(before), format_overrides(after),
               fmt::join(changed_config_keys(before, after), ","), client);
    if (!unclean_allowed(name)) {
        return;
    }
    // Kafka elects offline partitions at once when unclean election becomes allowed.
    std::vector<model::topic_partition> parts;
    if (it != ctx.topics.end()) {
        for (const auto& [p, r] : it->second.partitions) {
            if (r.state.leader() < 0 || !ctx.live(r.state.leader)) {
                parts.push_back({name, p});
            }
        }
    }
    if (!parts.empty()) {
        auto self = shared_from_this();
        enqueue("unclean_after_config", [self, parts]() -> asio::awaitable<void> {
            request_batch batch;
            const std::string why = "unclean.leader.election.enable set on the topic";
            co_await self->reconcile(parts, why, batch);
            co_await self->send(batch);
        });
    }
}


// Kafka's purge of /config/changes: notifications older than config_change_ttl go, so the
// node does not grow forever. ZooKeeper's stat here carries no creation time, so a
// notification's age counts from when this controller first listed it (a new controller
// starts the clock for the ones it inherits). Bounded: config_change_purge_max per call.
asio::awaitable<void> controller::impl::purge_config_changes() {
    const std::string parent(coord::paths::config_changes);
    const coord::watch_fn no_watch;
    auto listed = co_await zk::get_children(zk, parent, no_watch);
    if (!listed) {
        co_return;
    }
    model::timestamp_ms now = cfg.now();
    std::map<std::string, model::timestamp_ms> seen;
    std::vector<std::string> expired;
    for (const auto& child : listed->names) {
        auto first = config_changes_seen.find(child);
        model::timestamp_ms at = first == config_changes_seen.end() ? now : first->second;
        if (now() - at() >= config_change_ttl.count() &&
            expired.size() < config_change_purge_max) {
            expired.push_back(child);
        } else {
            seen.emplace(child, at);
        }
    }
    config_changes_seen = std::move(seen);
    for (const auto& child : expired) {
        const std::string path = parent + "/" + child;
        auto removed = co_await zk::remove(zk, path, coord::any_version);
        if (!removed && removed.code() != coord::errc::no_node) {
            config_changes_seen.emplace(child, now);  // tried again next time
        }
    }
    if (!expired.empty()) {
        GREGOR_LOG(controller_log, info, "purged {} config change notifications", expired.size());
    }
}

namespace {

// One answer per resource of `req`, in order, with the error decided for it.
template <class Response, class Request>
Response answers(const Request& req, const std::vector<admin_error>& errors) {
    Response out;
    for (std::size_t i = 0; i < req.resources.size(); ++i) {
        const admin_error& e = errors[i];
        out.responses.push_back({error_code(e.code),
                                 e.message.empty() ? std::nullopt : std::optional(e.message),
                                 req.resources[i].resource_type,
                                 req.resources[i].resource_name,
                                 {}});
    }
    return out;
}

}  // namespace

asio::awaitable<incremental_response> controller::incremental_alter_configs(
    const incremental_request& req, const std::string& client) {
    auto self = impl_;
    std::vector<impl::config_alteration> alterations;
    for (const auto& r : req.resources) {
        impl::config_alteration a{r.resource_type, r.resource_name, true, {}, {}};
        for (const auto& c : r.configs) {
            a.edits.push_back({c.name, c.config_operation, c.value});
        }
        alterations.push_back(std::move(a));
    }
    auto errors = co_await self->alter_configs_event(alterations, req.validate_only, client);
    co_return answers<incremental_response>(req, errors);
}

asio::awaitable<alter_response> controller::alter_configs(const alter_request& req,
                                                          const std::string& client) {
    auto self = impl_;
    std::vector<impl::config_alteration> alterations;
    for (const auto& r : req.resources) {
        impl::config_alteration a{r.resource_type, r.resource_name, false, {}, {}};
        for (const auto& c : r.configs) {
            a.replacement.emplace_back(c.name, c.value);
        }
        alterations.push_back(std::move(a));
    }
    auto errors = co_await self->alter_configs_event(alterations, req.validate_only, client);
    co_return answers<alter_response>(req, errors);
}

asio::awaitable<std::vector<admin_error>> controller::impl::alter_configs_event(
    const std::vector<config_alteration>& alterations, bool validate_only,
    const std::string& client) {
    using answer = std::vector<admin_error>;
    auto self = shared_from_this();
    std::function<asio::awaitable<answer>()> work = [self, alterations, validate_only,
                                                     client]() {
        return self->do_alter_configs(alterations, validate_only, client);
    };
    std::function<answer()> refuse = [n = alterations.size()] {
        return answer(n, admin_error{kafka_error::not_controller, ""});
    };
    auto out = co_await submit<answer>("alter_configs", work, refuse);
    co_return out;
}

}  // namespace gregor::controller

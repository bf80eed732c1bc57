#include "broker/handlers/config_apis.h"

#include "broker/broker_call.h"
#include "broker/config_entries.h"
#include "broker/handlers/controller_apis.h"
#include "broker/logger.h"
#include "broker/topic_configs.h"
#include "controller/controller.h"
#include "controller/topic_rules.h"
#include "controller/zk_await.h"
#include "coord/errc.h"
#include "coord/znode_json.h"
#include "coord/znode_paths.h"
#include "model/kafka_error.h"

#include <charconv>

namespace gregor::broker {
namespace {

using model::kafka_error;
using describe_response = protocol::describe_configs_response;
using describe_result = describe_response::describe_configs_result;
using resource_result = describe_result::describe_configs_resource_result;

constexpr std::int8_t topic_resource = 2;
constexpr std::int8_t broker_resource = 4;
// The client id of a forwarded request starts with this (then the forwarding broker's id and
// the client's own id): a broker never forwards a forwarded request again, so brokers with
// stale views of the controller cannot bounce a request between them.
constexpr std::string_view forwarded_prefix = "gregor-forwarded-by-";

property_map broker_properties(const broker_config& c) {
    property_map out;
    for (const property& p : c.explicit_settings) {
        out[p.key] = p.value;
    }
    return out;
}

// One entry in the shape of `version`: v0 has is_default instead of a source and no
// synonyms; v3 adds the type and documentation (always null: gregor carries no docs).
resource_result to_wire(const config_entry& e, std::int16_t version, bool synonyms) {
    resource_result r;
    r.name = e.name;
    r.value = e.value;
    r.read_only = false;
    r.is_default = e.source == config_source::default_config;
    r.config_source = static_cast<std::int8_t>(e.source);
    r.is_sensitive = e.sensitive;
    r.config_type = e.type;
    r.documentation = std::nullopt;
    if (synonyms && version >= 1) {
        for (const auto& s : e.synonyms) {
            r.synonyms.push_back({s.name, s.value, static_cast<std::int8_t>(s.source), {}});
        }
    }
    return r;
}

void fail(describe_result& r, kafka_error e, std::string message) {
    r.error_code = model::to_wire(e);
    r.error_message = std::move(message);
}

// The topic's overrides: from ZooKeeper when the broker has a session, else this broker's
// copy. An error message iff they cannot be read.
asio::awaitable<std::optional<std::string>> read_overrides(services& s, const std::string& topic,
                                                           property_map& out) {
    if (s.zk == nullptr) {
        if (s.topics != nullptr) {
            out = s.topics->overrides(topic);
        }
        co_return std::nullopt;
    }
    const std::string path = coord::paths::topic_config(topic);
    const coord::watch_fn no_watch;
    auto node = co_await controller::zk::get(*s.zk, path, no_watch);
    if (!node) {
        if (node.code() == coord::errc::no_node) {
            co_return std::nullopt;  // a topic without overrides (written by another tool)
        }
        co_return "cannot read " + path + ": " + node.err().to_string();
    }
    auto decoded = coord::decode_entity_config(node->data);
    if (!decoded) {
        co_return "unreadable " + path + ": " + decoded.err().to_string();
    }
    out = std::move(*decoded);
    co_return std::nullopt;
}

asio::awaitable<void> describe_topic(services& s, const protocol::describe_configs_request& req,
                                     std::size_t index, describe_result& r, std::int16_t version) {
    const auto& res = req.resources[index];
    if (auto bad = controller::invalid_topic_name(res.resource_name)) {
        fail(r, kafka_error::invalid_topic_exception, *bad);
        co_return;
    }
    if (s.cache.topic(res.resource_name) == nullptr) {
        fail(r, kafka_error::unknown_topic_or_partition,
             "The topic '" + res.resource_name + "' does not exist.");
        co_return;
    }
    property_map overrides;
    const std::string& name = res.resource_name;
    auto unreadable = co_await read_overrides(s, name, overrides);
    if (unreadable) {
        fail(r, kafka_error::unknown_server_error, *unreadable);
        co_return;
    }
    auto entries =
        topic_config_entries(overrides, broker_properties(s.config), res.configuration_keys);
    for (const auto& e : entries) {
        r.configs.push_back(to_wire(e, version, req.include_synonyms));
    }
}

void describe_broker(const services& s, const protocol::describe_configs_request& req,
                     std::size_t index, describe_result& r, std::int16_t version) {
    const std::string& name = req.resources[index].resource_name;
    if (name.empty()) {
        return;  // the cluster-wide dynamic defaults: gregor has none
    }
    std::int32_t id = -1;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec != std::errc{} || end != name.data() + name.size()) {
        fail(r, kafka_error::invalid_request, "Broker id must be an integer, but it is: " + name);
        return;
    }
    if (id != s.config.broker_id()) {
        fail(r, kafka_error::invalid_request,
             fmt::format("Unexpected broker id, expected {} or empty string, but received {}",
                         s.config.broker_id(), name));
        return;
    }
    auto entries =
        broker_config_entries(broker_properties(s.config), req.resources[index].configuration_keys);
    for (const auto& e : entries) {
        r.configs.push_back(to_wire(e, version, req.include_synonyms));
    }
}

std::string client_of(const request_context& ctx) {
    return ctx.header.client_id.value_or("");
}

}  // namespace

handler_result<describe_response> handle(services& s, request_context& ctx,
                                         protocol::describe_configs_request req) {
    describe_response out;
    std::int16_t version = ctx.version();
    for (std::size_t i = 0; i < req.resources.size(); ++i) {
        describe_result r;
        r.resource_type = req.resources[i].resource_type;
        r.resource_name = req.resources[i].resource_name;
        r.error_message = std::nullopt;
        if (r.resource_type == topic_resource) {
            co_await describe_topic(s, req, i, r, version);
        } else if (r.resource_type == broker_resource) {
            describe_broker(s, req, i, r, version);
        } else {
            fail(r, kafka_error::invalid_request,
                 fmt::format("Unsupported resource type: {}", r.resource_type));
        }
        out.results.push_back(std::move(r));
    }
    co_return out;
}

namespace {

// Every resource answered with `e` (a controller that cannot be asked).
template <class Response, class Request>
Response refused(const Request& req, kafka_error e, const std::string& message) {
    Response out;
    for (const auto& r : req.resources) {
        auto& a = out.responses.emplace_back();
        a.error_code = model::to_wire(e);
        a.error_message = message;
        a.resource_type = r.resource_type;
        a.resource_name = r.resource_name;
    }
    return out;
}

// Sends the request on to the controller the metadata cache names, as the client's `version`
// and with its client id (the controller's journal names the client).
template <class Api>
asio::awaitable<typename Api::response_type> forward(services& s, request_context& ctx,
                                                     const typename Api::request_type& req) {
    using response = typename Api::response_type;
    const std::string original = client_of(ctx);
    if (s.cache.controller() == s.config.broker_id || s.cache.controller() < model::node_id(0) ||
        original.starts_with(forwarded_prefix)) {
        co_return refused<response>(req, kafka_error::not_controller,
                                    "this broker is not the controller");
    }
    const std::string client =
        fmt::format("{}{}:{}", forwarded_prefix, s.config.broker_id(), original);
    std::int16_t version = ctx.version();
    auto answer = co_await call_controller<Api>(s.ioc, s.cache, s.config.inter_broker_listener_name,
                                                s.config.request_timeout, client, version, req);
    if (!answer) {
        GREGOR_LOG(broker_log, debug, "forwarding {} to controller {}: {}", Api::name,
                   s.cache.controller()(), answer.err().to_string());
        co_return refused<response>(req, kafka_error::not_controller,
                                    "the controller could not be reached");
    }
    co_return std::move(*answer);
}

}  // namespace

handler_result<protocol::incremental_alter_configs_response> handle(
    services& s, request_context& ctx, protocol::incremental_alter_configs_request req) {
    if (!is_controller(s)) {
        auto out = co_await forward<protocol::incremental_alter_configs_api>(s, ctx, req);
        co_return out;
    }
    const std::string client = client_of(ctx);
    auto out = co_await s.controller->incremental_alter_configs(req, client);
    co_return out;
}

handler_result<protocol::alter_configs_response> handle(services& s, request_context& ctx,
                                                        protocol::alter_configs_request req) {
    if (!is_controller(s)) {
        auto out = co_await forward<protocol::alter_configs_api>(s, ctx, req);
        co_return out;
    }
    const std::string client = client_of(ctx);
    auto out = co_await s.controller->alter_configs(req, client);
    co_return out;
}

}  // namespace gregor::broker

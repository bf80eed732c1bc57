#include "admin/admin_client.h"

#include "model/kafka_error.h"

#include <thread>

namespace gregor::admin {
namespace {

constexpr std::int16_t not_controller =
    static_cast<std::int16_t>(model::kafka_error::not_controller);

template <class Items, class Code>
bool any_not_controller(const Items& items, Code code) {
    for (const auto& i : items) {
        if (code(i) == not_controller) {
            return true;
        }
    }
    return false;
}

}  // namespace

admin_client::admin_client(std::unique_ptr<connection> bootstrap, std::chrono::milliseconds timeout)
    : bootstrap_(std::move(bootstrap)), timeout_(timeout) {}

result<std::unique_ptr<admin_client>> admin_client::connect(std::vector<endpoint> bootstrap,
                                                            std::chrono::milliseconds timeout) {
    std::string failures;
    for (const auto& e : bootstrap) {
        auto c = connection::open(e, timeout);
        if (c) {
            return std::unique_ptr<admin_client>(new admin_client(std::move(*c), timeout));
        }
        failures += fmt::format("{}{}", failures.empty() ? "" : "; ", c.err().detail);
    }
    return error(errc::connect_failed, fmt::format("no bootstrap server answered ({})", failures));
}

result<protocol::metadata_response> admin_client::metadata(
    const std::optional<std::vector<std::string>>& topics) {
    protocol::metadata_request req;
    req.allow_auto_topic_creation = false;
    if (topics) {
        req.topics.emplace();
        for (const auto& t : *topics) {
            protocol::metadata_request::metadata_request_topic rt;
            rt.name = t;
            req.topics->push_back(std::move(rt));
        }
    } else {
        req.topics.reset();
    }
    // v1 is the first version that names the controller and accepts a null topic list.
    return bootstrap_->call<protocol::metadata_api>(req, 1);
}

result<protocol::describe_cluster_response> admin_client::describe_cluster() {
    return bootstrap_->call<protocol::describe_cluster_api>({});
}

result<protocol::describe_configs_response> admin_client::describe_topic_configs(
    const std::vector<std::string>& topics, const std::optional<std::vector<std::string>>& keys) {
    protocol::describe_configs_request req;
    for (const auto& t : topics) {
        protocol::describe_configs_request::describe_configs_resource r;
        r.resource_type = 2;  // TOPIC
        r.resource_name = t;
        r.configuration_keys = keys;
        req.resources.push_back(std::move(r));
    }
    return bootstrap_->call<protocol::describe_configs_api>(req);
}

result<connection*> admin_client::controller() {
    if (controller_) {
        return controller_.get();
    }
    GREGOR_TRY(auto md, metadata(std::vector<std::string>{}));
    if (md.controller_id.value() < 0) {
        return error(errc::no_controller, "the cluster reports no controller (none elected?)");
    }
    for (const auto& b : md.brokers) {
        if (b.node_id == md.controller_id) {
            GREGOR_TRY(auto c, connection::open(
                                   endpoint{b.host, static_cast<std::uint16_t>(b.port)}, timeout_));
            controller_ = std::move(c);
            return controller_.get();
        }
    }
    return error(errc::no_controller,
                 fmt::format("controller {} is not among the brokers Metadata lists",
                             md.controller_id.value()));
}

template <class Api>
result<typename Api::response_type> admin_client::to_controller(
    const typename Api::request_type& req, std::int16_t min_version,
    const std::function<bool(const typename Api::response_type&)>& moved, bool idempotent) {
    error last(errc::no_controller, "no controller answered");
    for (int attempt = 0; attempt < controller_attempts_max; ++attempt) {
        if (attempt > 0) {
            std::this_thread::sleep_for(controller_retry_backoff);
        }
        auto c = controller();
        if (!c) {
            last = c.err();
            continue;
        }
        auto resp = (*c)->template call<Api>(req, min_version);
        if (resp && !moved(*resp)) {
            return resp;
        }
        if (!resp && resp.code() == errc::unsupported) {
            return resp;
        }
        if (!resp && resp.code() == errc::io_failed && !idempotent) {
            return error(errc::io_failed,
                         fmt::format("{}; not sent again, as the controller may have acted on it",
                                     resp.err().to_string()));
        }
        last = resp ? error(errc::no_controller,
                            "the controller moved (NOT_CONTROLLER) on "
                            "every attempt")
                    : resp.err();
        controller_.reset();
    }
    return last;
}

result<protocol::create_topics_response> admin_client::create_topics(
    protocol::create_topics_request req) {
    using resp_t = protocol::create_topics_response;
    return to_controller<protocol::create_topics_api>(
        req, 2,
        [](const resp_t& r) {
            return any_not_controller(r.topics, [](const auto& t) { return t.error_code; });
        },
        /*idempotent=*/false);
}

result<protocol::delete_topics_response> admin_client::delete_topics(
    const std::vector<std::string>& names, std::chrono::milliseconds timeout) {
    protocol::delete_topics_request req;
    req.timeout_ms = static_cast<std::int32_t>(timeout.count());
    for (const auto& n : names) {
        req.topic_names.push_back(n);
        protocol::delete_topics_request::delete_topic_state s;
        s.name = n;
        req.topics.push_back(std::move(s));
    }
    using resp_t = protocol::delete_topics_response;
    return to_controller<protocol::delete_topics_api>(
        req, 1,
        [](const resp_t& r) {
            return any_not_controller(r.responses, [](const auto& t) { return t.error_code; });
        },
        /*idempotent=*/false);
}

result<protocol::create_partitions_response> admin_client::create_partitions(
    protocol::create_partitions_request req) {
    using resp_t = protocol::create_partitions_response;
    return to_controller<protocol::create_partitions_api>(
        req, 0,
        [](const resp_t& r) {
            return any_not_controller(r.results, [](const auto& t) { return t.error_code; });
        },
        /*idempotent=*/false);
}

result<protocol::incremental_alter_configs_response> admin_client::alter_configs(
    protocol::incremental_alter_configs_request req) {
    using resp_t = protocol::incremental_alter_configs_response;
    return to_controller<protocol::incremental_alter_configs_api>(req, 0, [](const resp_t& r) {
        return any_not_controller(r.responses, [](const auto& t) { return t.error_code; });
    });
}

result<protocol::elect_leaders_response> admin_client::elect_leaders(
    protocol::elect_leaders_request req) {
    using resp_t = protocol::elect_leaders_response;
    return to_controller<protocol::elect_leaders_api>(
        req, 1, [](const resp_t& r) { return r.error_code == not_controller; });
}

result<protocol::alter_partition_reassignments_response> admin_client::alter_reassignments(
    protocol::alter_partition_reassignments_request req) {
    using resp_t = protocol::alter_partition_reassignments_response;
    return to_controller<protocol::alter_partition_reassignments_api>(
        req, 0, [](const resp_t& r) { return r.error_code == not_controller; });
}

result<protocol::list_partition_reassignments_response> admin_client::list_reassignments(
    protocol::list_partition_reassignments_request req) {
    using resp_t = protocol::list_partition_reassignments_response;
    return to_controller<protocol::list_partition_reassignments_api>(
        req, 0, [](const resp_t& r) { return r.error_code == not_controller; });
}

}  // namespace gregor::admin

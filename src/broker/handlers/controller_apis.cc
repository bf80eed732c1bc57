#include "broker/handlers/controller_apis.h"

#include "controller/controller.h"
#include "model/kafka_error.h"

#include <algorithm>
#include <chrono>

namespace gregor::broker {
namespace {

using model::kafka_error;
using namespace std::chrono_literals;

// The time by which a request with `timeout_ms` is answered, counted from its arrival: the
// controller's own work (ZooKeeper writes for every new partition) is part of it.
std::chrono::steady_clock::time_point deadline_of(std::int32_t timeout_ms) {
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
}

// Polls the metadata cache until `done()` or the deadline (Kafka's delayed operations wait on
// the metadata cache too). Bounded: at most one check per 20 ms until the deadline.
asio::awaitable<void> wait_for_metadata(services& s, std::chrono::steady_clock::time_point deadline,
                                        const std::function<bool()>& done) {
    asio::steady_timer timer(s.ioc);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(20ms);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

bool all_led(const metadata_cache& cache, const std::string& topic) {
    const auto* parts = cache.topic(topic);
    if (parts == nullptr || parts->empty()) {
        return false;
    }
    return std::all_of(parts->begin(), parts->end(),
                       [&](const auto& p) { return cache.alive(p.second.leader); });
}

}  // namespace

void time_out_unled_topics(const metadata_cache& cache, protocol::create_topics_response& out) {
    for (auto& t : out.topics) {
        if (t.error_code == 0 && !all_led(cache, t.name)) {
            t.error_code = model::to_wire(kafka_error::request_timed_out);
            t.error_message = std::nullopt;
        }
    }
}

void time_out_undeleted_topics(const metadata_cache& cache, protocol::delete_topics_response& out) {
    for (auto& r : out.responses) {
        if (r.error_code == 0 && r.name && cache.topic(*r.name) != nullptr) {
            r.error_code = model::to_wire(kafka_error::request_timed_out);
            r.error_message = std::nullopt;
        }
    }
}

handler_result<protocol::create_topics_response> handle(services& s, request_context& ctx,
                                                        protocol::create_topics_request req) {
    if (!is_controller(s)) {
        protocol::create_topics_response out;
        for (const auto& t : req.topics) {
            auto& r = out.topics.emplace_back();
            r.name = t.name;
            r.error_code = model::to_wire(kafka_error::not_controller);
            r.error_message = std::nullopt;
            r.configs = std::nullopt;
        }
        co_return out;
    }
    const auto deadline = deadline_of(req.timeout_ms);
    std::int16_t version = ctx.version();
    auto out = co_await s.controller->create_topics(req, version);
    // As Kafka: a timeout of 0 answers at once; otherwise a topic not led everywhere by the
    // deadline is answered REQUEST_TIMED_OUT (it exists, and its partitions get leaders later).
    if (!req.validate_only && req.timeout_ms > 0) {
        const std::function<bool()> done = [&] {
            return std::all_of(out.topics.begin(), out.topics.end(), [&](const auto& t) {
                return t.error_code != 0 || all_led(s.cache, t.name);
            });
        };
        co_await wait_for_metadata(s, deadline, done);
        time_out_unled_topics(s.cache, out);
    }
    co_return out;
}

handler_result<protocol::delete_topics_response> handle(services& s, request_context& ctx,
                                                        protocol::delete_topics_request req) {
    if (!is_controller(s)) {
        protocol::delete_topics_response out;
        for (const auto& n : req.topic_names) {
            out.responses.push_back({n, {}, model::to_wire(kafka_error::not_controller), {}, {}});
        }
        for (const auto& t : req.topics) {
            out.responses.push_back(
                {t.name, t.topic_id, model::to_wire(kafka_error::not_controller), {}, {}});
        }
        co_return out;
    }
    const auto deadline = deadline_of(req.timeout_ms);
    std::int16_t version = ctx.version();
    auto out = co_await s.controller->delete_topics(req, version);
    const std::function<bool()> done = [&] {
        return std::all_of(out.responses.begin(), out.responses.end(), [&](const auto& r) {
            return r.error_code != 0 || !r.name || s.cache.topic(*r.name) == nullptr;
        });
    };
    co_await wait_for_metadata(s, deadline, done);
    if (req.timeout_ms > 0) {
        time_out_undeleted_topics(s.cache, out);
    }
    co_return out;
}

handler_result<protocol::controlled_shutdown_response> handle(
    services& s, request_context& /*ctx*/, protocol::controlled_shutdown_request req) {
    if (!is_controller(s)) {
        protocol::controlled_shutdown_response out;
        out.error_code = model::to_wire(kafka_error::stale_controller_epoch);
        co_return out;
    }
    auto out = co_await s.controller->controlled_shutdown(req);
    co_return out;
}

handler_result<protocol::alter_partition_response> handle(services& s, request_context& ctx,
                                                          protocol::alter_partition_request req) {
    if (!is_controller(s)) {
        protocol::alter_partition_response out;
        out.error_code = model::to_wire(kafka_error::not_controller);
        co_return out;
    }
    std::int16_t version = ctx.version();
    auto out = co_await s.controller->alter_partition(req, version);
    co_return out;
}

handler_result<protocol::elect_leaders_response> handle(services& s, request_context& ctx,
                                                        protocol::elect_leaders_request req) {
    if (!is_controller(s)) {
        protocol::elect_leaders_response out;
        out.error_code = model::to_wire(kafka_error::not_controller);
        co_return out;
    }
    std::int16_t version = ctx.version();
    auto out = co_await s.controller->elect_leaders(req, version);
    co_return out;
}

handler_result<protocol::create_partitions_response> handle(
    services& s, request_context& /*ctx*/, protocol::create_partitions_request req) {
    if (!is_controller(s)) {
        protocol::create_partitions_response out;
        for (const auto& t : req.topics) {
            out.results.push_back(
                {t.name, model::to_wire(kafka_error::not_controller), std::nullopt, {}});
        }
        co_return out;
    }
    auto out = co_await s.controller->create_partitions(req);
    co_return out;
}

handler_result<protocol::alter_partition_reassignments_response> handle(
    services& s, request_context& /*ctx*/, protocol::alter_partition_reassignments_request req) {
    if (!is_controller(s)) {
        protocol::alter_partition_reassignments_response out;
        out.error_code = model::to_wire(kafka_error::not_controller);
        out.error_message = std::nullopt;
        co_return out;
    }
    auto out = co_await s.controller->alter_partition_reassignments(req);
    co_return out;
}

handler_result<protocol::list_partition_reassignments_response> handle(
    services& s, request_context& /*ctx*/, protocol::list_partition_reassignments_request req) {
    if (!is_controller(s)) {
        protocol::list_partition_reassignments_response out;
        out.error_code = model::to_wire(kafka_error::not_controller);
        out.error_message = std::nullopt;
        co_return out;
    }
    auto out = co_await s.controller->list_partition_reassignments(req);
    co_return out;
}

bool is_controller(const services& s) {
    return s.controller != nullptr && s.controller->active();
}

}  // namespace gregor::broker

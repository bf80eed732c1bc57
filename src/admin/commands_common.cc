#include "admin/commands_common.h"

#include "cluster/state.h"
#include "model/kafka_error.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

namespace gregor::admin {

result<std::string> resolve_bootstrap(const common_options& o) {
    if (!o.bootstrap.empty()) {
        return o.bootstrap;
    }
    if (!o.dir.empty()) {
        auto s = cluster::read_state(o.dir);
        if (!s) {
            return error(errc::bad_usage, fmt::format("--dir {}: {}", o.dir,
                                                      s.err().detail.empty() ? s.err().to_string()
                                                                             : s.err().detail));
        }
        return s->bootstrap_servers();
    }
    return std::string("127.0.0.1:9092");
}

result<std::pair<std::string, std::string>> parse_config_entry(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return error(errc::bad_usage, fmt::format("'{}': expected key=value", text));
    }
    return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

result<std::pair<std::string, std::optional<std::int32_t>>> parse_topic_partition(
    std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        if (text.empty()) {
            return error(errc::bad_usage, "empty topic name");
        }
        return std::pair{std::string(text), std::optional<std::int32_t>()};
    }
    auto num = text.substr(colon + 1);
    std::int32_t p = -1;
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), p);
    if (colon == 0 || ec != std::errc{} || end != num.data() + num.size() || p < 0) {
        return error(errc::bad_usage, fmt::format("'{}': expected topic or topic:partition", text));
    }
    return std::pair{std::string(text.substr(0, colon)), std::optional<std::int32_t>(p)};
}

namespace detail {

int report_error(std::string_view what, const error& e) {
    std::fprintf(stderr, "gregor: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
                 e.detail.empty() ? e.to_string().c_str() : e.detail.c_str());
    return e.code == errc::bad_usage ? exit_usage : exit_failed;
}

std::int32_t broker_wait_ms(const common_options& o) {
    auto ms = std::int64_t{std::max(o.request_timeout_s, 0)} * 800;
    return static_cast<std::int32_t>(
        std::min<std::int64_t>(ms, std::numeric_limits<std::int32_t>::max()));
}

result<std::unique_ptr<admin_client>> connect(const common_options& o) {
    GREGOR_TRY(auto text, resolve_bootstrap(o));
    GREGOR_TRY(auto endpoints, parse_endpoints(text));
    return admin_client::connect(std::move(endpoints), std::chrono::seconds(o.request_timeout_s));
}

std::string error_name(std::int16_t code) {
    auto info = model::kafka_error_lookup(code);
    return info ? std::string(info->name) : fmt::format("UNKNOWN_ERROR({})", code);
}

std::string describe_kafka_error(std::int16_t code, const std::optional<std::string>& message) {
    if (message && !message->empty()) {
        return fmt::format("{}: {}", error_name(code), *message);
    }
    auto info = model::kafka_error_lookup(code);
    return info && !info->message.empty() ? fmt::format("{}: {}", info->name, info->message)
                                          : error_name(code);
}

void print(const std::string& text) {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
}

}  // namespace detail
}  // namespace gregor::admin

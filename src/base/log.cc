#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <vector>

namespace gregor {
namespace {

struct registry {
    std::mutex mu;
    std::vector<std::weak_ptr<spdlog::logger>> loggers;
    spdlog::level::level_enum level = spdlog::level::info;
    std::string pattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v";
    std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink =
        std::make_shared<spdlog::sinks::stderr_sink_mt>();
};

registry& reg() {
    static registry r;  // function-local: safe to use from static initialisers
    return r;
}

}  // namespace

logger::logger(std::string name) {
    auto& r = reg();
    std::lock_guard lock(r.mu);
    impl_ = std::make_shared<spdlog::logger>(std::move(name), r.sink);
    impl_->set_level(r.level);
    impl_->set_pattern(r.pattern);
    r.loggers.push_back(impl_);
}

bool log_set_level(std::string_view level) {
    auto lvl = spdlog::level::from_str(std::string(level));
    if (lvl == spdlog::level::off && level != "off") {
        return false;
    }
    auto& r = reg();
    std::lock_guard lock(r.mu);
    r.level = lvl;
    for (auto& w : r.loggers) {
        if (auto l = w.lock()) {
            l->set_level(lvl);
        }
    }
    return true;
}

void log_set_context(std::string_view context) {
    auto& r = reg();
    std::lock_guard lock(r.mu);
    r.pattern = fmt::format("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [{}] [%n] %v", context);
    for (auto& w : r.loggers) {
        if (auto l = w.lock()) {
            l->set_pattern(r.pattern);
        }
    }
}

namespace detail {

bool rate_limit_allows(std::atomic<std::int64_t>& last_ns, std::chrono::milliseconds interval) {
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    auto prev = last_ns.load(std::memory_order_relaxed);
    auto gap = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
    if (prev != 0 && now_ns - prev < gap) {
        return false;
    }
    return last_ns.compare_exchange_strong(prev, now_ns, std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace gregor

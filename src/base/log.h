// Per-module named loggers on top of spdlog.
//
// Each module declares one logger in its <module>/logger.h, e.g.
//   inline gregor::logger storage_log{"storage"};
// and logs with GREGOR_LOG(storage_log, info, "rolled segment base={}", base), which
// records file:line. All loggers write to one shared stderr sink whose level and pattern
// are set once at start-up by log_init(). GREGOR_LOG_RATE_LIMITED drops repeats of the
// same call site inside an interval (hot paths, error storms). Thread-safe: spdlog
// loggers may be used from any thread.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace gregor {

class logger {
public:
    explicit logger(std::string name);
    spdlog::logger& get() const { return *impl_; }
    bool should_log(spdlog::level::level_enum lvl) const { return impl_->should_log(lvl); }

private:
    std::shared_ptr<spdlog::logger> impl_;
};

// Sets the level of every logger ("trace", "debug", "info", "warn", "error", "off").
// Returns false iff the name is not a level.
bool log_set_level(std::string_view level);
// Sets a fixed context shown on every line (for example "n1" for broker 1).
void log_set_context(std::string_view context);

namespace detail {
// Returns true iff a message from this call site may be logged now (at most once per
// interval). `last_ns` is the call site's own static.
bool rate_limit_allows(std::atomic<std::int64_t>& last_ns, std::chrono::milliseconds interval);
}  // namespace detail

}  // namespace gregor

#define GREGOR_LOG(lg, lvl, ...)                                                            \
    do {                                                                                    \
        if ((lg).should_log(spdlog::level::lvl)) {                                          \
            (lg).get().log(                                                                 \
                spdlog::source_loc{__FILE__, __LINE__, static_cast<const char*>(__func__)}, \
                spdlog::level::lvl, __VA_ARGS__);                                           \
        }                                                                                   \
    } while (0)

#define GREGOR_LOG_RATE_LIMITED(lg, lvl, interval, ...)                                     \
    do {                                                                                    \
        static std::atomic<std::int64_t> gregor_rl_last_ns{0};                              \
        if ((lg).should_log(spdlog::level::lvl) &&                                          \
            ::gregor::detail::rate_limit_allows(gregor_rl_last_ns, interval)) {             \
            (lg).get().log(                                                                 \
                spdlog::source_loc{__FILE__, __LINE__, static_cast<const char*>(__func__)}, \
                spdlog::level::lvl, __VA_ARGS__);                                           \
        }                                                                                   \
    } while (0)

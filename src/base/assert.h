// Always-on assertions for programmer errors.
//
// GREGOR_ASSERT stays enabled in release builds: a broken invariant in storage or
// replication must stop the process before it corrupts data, never limp on. On
// failure it logs file:line, the expression, a formatted message and a backtrace,
// then aborts. Untrusted bytes (network, disk) are never asserted on; they are
// validated and rejected through result<T>. Any thread may call these.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace gregor::detail {

[[noreturn]] void assert_failed(std::string_view file, int line, std::string_view expr,
                                std::string_view message) noexcept;

}  // namespace gregor::detail

#define GREGOR_ASSERT(cond, ...)                                         \
    do {                                                                 \
        if (!(cond)) [[unlikely]] {                                      \
            ::gregor::detail::assert_failed(__FILE__, __LINE__, #cond,   \
                                            ::fmt::format(__VA_ARGS__)); \
        }                                                                \
    } while (0)

#define GREGOR_UNREACHABLE(...) \
    ::gregor::detail::assert_failed(__FILE__, __LINE__, "unreachable", ::fmt::format(__VA_ARGS__))

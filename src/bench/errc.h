// Error codes of the bench module. bad_argument maps to exit code 2, the rest to 1.
#pragma once

#include <system_error>

namespace gregor::bench {

enum class errc {
    bad_argument = 1,   // an option is missing, malformed or does not fit the workload
    unreachable,        // no broker answered at the bootstrap servers
    topic_unavailable,  // the topic does not exist, cannot be created or has no leader
    client_error,       // librdkafka refused a configuration or call
    io_error,           // a file or socket of the limits pass failed
    incomplete,         // the run ended before every record was acknowledged or read
};

const std::error_category& bench_category();
inline std::error_code make_error_code(errc e) {
    return {static_cast<int>(e), bench_category()};
}

}  // namespace gregor::bench

template <>
struct std::is_error_code_enum<gregor::bench::errc> : std::true_type {};

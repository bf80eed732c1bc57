// A one-shot HTTP/1.1 GET for the admin commands that read a broker's operator listener
// (gregor.http.listener), e.g. `gregor cluster journal`. Bounded: a timeout for the whole
// exchange and a cap on the body. Blocking; main thread.
#pragma once

#include "base/result.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace gregor::admin {

struct http_reply {
    int status = 0;
    std::string body;
};

// GETs http://<host:port><target>. Errors: a bad address, no connection, a timeout, a
// malformed or oversized (> 64 MiB) response.
result<http_reply> http_get(const std::string& host_port, const std::string& target,
                            std::chrono::milliseconds timeout);

}  // namespace gregor::admin

// group_service's parked requests (service.cc, service_offsets.cc). Loop thread only.
#pragma once

#include "group/service.h"

namespace gregor::group {

// A parked JoinGroup, SyncGroup or OffsetCommit: its handler sleeps on `signal` until the
// answer is set (the timer is cancelled then, which wakes it).
struct group_service::parked {
    explicit parked(asio::io_context& ioc) : signal(ioc, asio::steady_timer::time_point::max()) {}

    asio::steady_timer signal;
    bool answered = false;
    std::optional<join_response> join;
    std::optional<sync_response> sync;
    std::vector<partition_error> commit;

    void answer() {
        answered = true;
        signal.cancel();
    }
    asio::awaitable<void> wait() {
        while (!answered) {
            net::error_code ec;  // cancelled: answered, or the service stops
            co_await signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }
};

}  // namespace gregor::group

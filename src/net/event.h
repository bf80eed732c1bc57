// event: a wake-up signal for coroutines on one event loop (Asio 1.18 has no channels).
//
// A waiter suspends in wait() until notify_all() runs; waiters must re-check their condition
// after waking, because a notify wakes everyone and a notify with no waiter is not remembered.
// Built on a steady_timer that never expires: cancel() is the notification. Owned by one
// object on the loop; the owner must outlive every pending wait (coroutines hold it through
// a shared_ptr). Loop thread only.
#pragma once

#include "net/asio.h"

#include <chrono>

namespace gregor::net {

class event {
public:
    explicit event(const asio::any_io_executor& ex) : timer_(ex) {
        timer_.expires_at(asio::steady_timer::time_point::max());
    }

    // Completes at the next notify_all() (or when the event is destroyed).
    asio::awaitable<void> wait() {
        error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    void notify_all() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

}  // namespace gregor::net

// memory_budget: a byte semaphore bounding the request bytes a server holds at once.
//
// Each request frame takes a lease for its size before its body is read and gives it back
// when the request (and whatever the handler kept of it) is destroyed. When the budget is
// exhausted readers wait, which stops reading from their sockets: back-pressure instead of
// 1000 clients x 100 MiB frames. Waiters are woken together on every release and retry
// (the overload path, so simplicity beats strict FIFO fairness). Leases hold the budget's
// state through a shared_ptr, so a handler may keep a request past the server. Loop thread
// only.
#pragma once

#include "net/asio.h"
#include "net/event.h"

#include <cstddef>
#include <memory>
#include <optional>

namespace gregor::net {

class memory_budget {
    struct state;

public:
    // Returns its bytes to the budget on destruction. Move only.
    class lease {
    public:
        lease() = default;
        lease(lease&& other) noexcept;
        lease& operator=(lease&& other) noexcept;
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease();

        std::size_t bytes() const { return bytes_; }

    private:
        friend class memory_budget;
        lease(std::shared_ptr<state> s, std::size_t n) : state_(std::move(s)), bytes_(n) {}
        void release();

        std::shared_ptr<state> state_;
        std::size_t bytes_ = 0;
    };

    // REQUIRES: capacity_bytes > 0.
    memory_budget(const asio::any_io_executor& ex, std::size_t capacity_bytes);

    // Returns a lease of `n` bytes iff they are available now. REQUIRES: n <= capacity.
    std::optional<lease> try_acquire(std::size_t n);
    // Completes after the next release (or wake_all); the caller retries try_acquire.
    asio::awaitable<void> wait_for_release();
    // Wakes every waiter without releasing anything (shutdown, closing connections).
    void wake_all();

    std::size_t capacity_bytes() const;
    std::size_t available_bytes() const;

private:
    std::shared_ptr<state> state_;
};

}  // namespace gregor::net

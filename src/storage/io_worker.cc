#include "storage/io_worker.h"

#include "storage/errc.h"

namespace gregor::storage {
namespace {

// Runs queued work until the queue is empty, taking the lock only to pop, so work may
// queue more work. Returns how many items ran.
std::size_t drain(std::mutex& mu, std::deque<std::function<void()>>& queue) {
    std::size_t n = 0;
    for (;;) {
        std::function<void()> fn;
        {
            std::lock_guard lock(mu);
            if (queue.empty()) {
                return n;
            }
            fn = std::move(queue.front());
            queue.pop_front();
        }
        fn();
        ++n;
    }
}

}  // namespace

executor manual_executor::get() {
    return [this](std::function<void()> fn) {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(fn));
    };
}

std::size_t manual_executor::run_pending() {
    return drain(mu_, queue_);
}

std::size_t manual_executor::pending() {
    std::lock_guard lock(mu_);
    return queue_.size();
}

io_worker::io_worker(mode m, std::size_t queue_max) : mode_(m), queue_max_(queue_max) {
    GREGOR_ASSERT(queue_max_ > 0, "io_worker needs a queue");
    if (mode_ == mode::thread) {
        thread_ = std::thread([this] { run(); });
    }
}

io_worker::~io_worker() {
    stop();
}

result<void> io_worker::submit(std::function<void()> work) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            return errc::closed;
        }
        if (queue_.size() >= queue_max_) {
            return errc::queue_full;
        }
        queue_.push_back(std::move(work));
    }
    cv_.notify_one();
    return ok();
}

std::size_t io_worker::run_pending() {
    GREGOR_ASSERT(mode_ == mode::manual, "run_pending on a threaded io_worker");
    return drain(mu_, queue_);
}

void io_worker::run() {
    for (;;) {
        std::function<void()> fn;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;
            }
            fn = std::move(queue_.front());
            queue_.pop_front();
        }
        fn();
    }
}

void io_worker::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    if (mode_ == mode::manual) {
        // A manual worker models a process: what was never run is lost, as at a crash.
        std::lock_guard lock(mu_);
        queue_.clear();
    }
}

std::size_t io_worker::queued() {
    std::lock_guard lock(mu_);
    return queue_.size();
}

}  // namespace gregor::storage

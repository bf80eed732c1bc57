// The storage I/O worker: one std::thread that runs blocking disk work (fsync for group
// commit, checkpoint writes, removal of deleted segments) off the event loop, fed by a
// bounded FIFO queue. Work runs in submission order, so a checkpoint written after an
// fsync was submitted never lands before it. Completions go back to the owner through the
// executor the owner supplies (post to its loop); the worker never touches log state.
//
// Tests construct it in manual mode: nothing runs until the test calls run_pending() on its
// own thread, which makes group commit and crash points deterministic.
// submit() may be called from any thread; run_pending() only in manual mode.
#pragma once

#include "base/limits.h"
#include "base/result.h"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace gregor::storage {

// Posts a completion to the owner's loop (e.g. asio::post(ioc, fn)).
using executor = std::function<void(std::function<void()>)>;

// An executor that queues completions until run_pending() (tests, single-threaded tools).
class manual_executor {
public:
    executor get();
    std::size_t run_pending();
    std::size_t pending();

private:
    std::mutex mu_;
    std::deque<std::function<void()>> queue_;
};

class io_worker {
public:
    enum class mode { thread, manual };
    explicit io_worker(mode m = mode::thread, std::size_t queue_max = limits::storage_io_queue_max);
    ~io_worker();
    io_worker(const io_worker&) = delete;
    io_worker& operator=(const io_worker&) = delete;

    // Queues `work`. Returns errc::queue_full when the queue is at its bound, errc::closed
    // after stop().
    result<void> submit(std::function<void()> work);
    // Manual mode: runs every queued task (including ones queued meanwhile) on the caller.
    std::size_t run_pending();
    // Thread mode: runs what is queued, then stops the thread. Manual mode: drops what is
    // queued (tests model a process that dies). Idempotent.
    void stop();
    std::size_t queued();

private:
    void run();

    mode mode_;
    std::size_t queue_max_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace gregor::storage

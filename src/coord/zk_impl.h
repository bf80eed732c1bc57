// zk_client::impl: the state behind zk_client (internal to coord; see zk_client.h).
//
// Split over zk_client.cc (session lifecycle and the interest/process loop) and zk_ops.cc
// (operations and their C completions). Every member is touched only on the loop thread;
// the C callbacks run inside zookeeper_process()/zookeeper_close() on that thread too.
#pragma once

#include "coord/zk_client.h"
#include "coord/zk_multi_read.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <zookeeper/zookeeper.h>

#include <chrono>
#include <deque>
#include <map>

namespace gregor::coord {

struct zk_raw;  // a C completion's results, copied (zk_ops.cc)

// One operation: how to send it, and how to fail it. Owned by the queue, then by the C
// library between submission and completion (its address is the completion's context).
struct zk_task {
    std::weak_ptr<zk_client::impl> owner;
    std::uint64_t generation = 0;  // the handle it was sent on
    std::uint64_t watch_id = 0;    // its watch registration, if any
    std::chrono::steady_clock::time_point sent;  // handed to the library (request latency)
    std::function<int(zhandle_t*, zk_task*)> submit;
    std::function<void(std::error_code)> fail;
    std::function<void(const zk_raw&)> on_result;
    // multi only: buffers the library fills in before completing.
    std::vector<op> ops;
    std::vector<zoo_op_t> zops;
    std::vector<zoo_op_result_t> zresults;
    std::vector<std::string> path_buffers;
    std::vector<struct Stat> stats;
};

struct zk_client::impl : std::enable_shared_from_this<zk_client::impl> {
    impl(boost::asio::io_context& ioc, zk_config cfg);

    // Lifecycle (zk_client.cc).
    void open_handle();
    void close_handle();
    void rearm();
    void schedule_rearm();
    void on_ready(std::uint64_t wait_generation, int events);
    void on_session_event(int state);
    void on_connected();
    void on_expired();
    void deliver_session_event(session_state state, session_id s);
    void fail_queued(std::error_code e);

    // Operations (zk_ops.cc).
    // `request_bytes`: request_bytes() of a write; refused over limits::request_bytes_max.
    void enqueue(std::unique_ptr<zk_task> t, const std::string& path,
                 std::size_t request_bytes = 0);
    void pump();
    void finish(zk_task& t, std::function<void()> deliver);
    void post_failure(std::function<void(std::error_code)> fail, std::error_code e);
    std::uint64_t register_watch(watch_fn fn);
    void drop_watch(std::uint64_t id);
    void on_watch(std::uint64_t id, int type, const char* path);
    // Batched reads (zk_ops.cc): each runs on a session of its own (zk_multi_read.h).
    void cancel_multi_reads();

    boost::asio::io_context& ioc_;
    zk_config cfg_;
    std::string chroot_;
    zhandle_t* zh_ = nullptr;
    boost::asio::posix::stream_descriptor socket_;
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer connect_timer_;
    std::uint64_t wait_generation_ = 0;
    bool rearm_scheduled_ = false;

    // Incremented per handle: results of an older handle are stale.
    std::uint64_t generation_ = 0;
    session_id session_;
    bool connected_ = false;            // library state, updated inside the watcher
    bool delivered_connected_ = false;  // what listeners were last told
    bool ever_connected_ = false;
    bool closed_ = false;
    callback<void> start_done_;

    std::size_t in_flight_ = 0;
    std::deque<std::unique_ptr<zk_task>> queued_;
    std::uint64_t next_watch_ = 1;
    std::map<std::uint64_t, watch_fn> watches_;
    listener_id next_listener_ = 1;
    std::map<listener_id, session_fn> listeners_;
    std::uint64_t next_multi_read_ = 1;
    std::map<std::uint64_t, std::shared_ptr<detail::multi_read_handle>> multi_reads_;
};

}  // namespace gregor::coord

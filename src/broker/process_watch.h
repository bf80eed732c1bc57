// process_watch: proof that another broker's process is gone, for the controller's fast crash
// detection (src/controller/README.md, "A crashed broker without the session wait").
//
// For each broker watched it holds one idle TCP connection to the broker's listener. A Kafka
// broker never writes on a connection unasked, so the read pending on it completes only
// when the connection ends. Then it connects again at once: if the broker's host refuses
// (ECONNREFUSED, the kernel's answer when nothing listens on the port), the process that
// listened there is gone, and `gone` is called for the broker (again after retry_after while
// the listener keeps refusing and the watch is not removed). A connection that is
// accepted means the listener lives (a restarted process, or an idle connection the broker
// closed): the watch goes on over it. A connect that times out or finds no route proves
// nothing (a paused or partitioned broker, a host that is down): the watch tries again
// later and never reports. A broker whose listener was never reached is never reported
// (one still starting refuses too).
//
// Loop thread only. The watches end with unwatch() or the object.
#pragma once

#include "model/fundamental.h"
#include "net/asio.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace gregor::broker {

class process_watch {
public:
    using gone_fn = std::function<void(model::node_id)>;

    process_watch(boost::asio::io_context& ioc, gone_fn gone) : ioc_(ioc), gone_(std::move(gone)) {}
    ~process_watch();
    process_watch(const process_watch&) = delete;
    process_watch& operator=(const process_watch&) = delete;

    // Starts (or restarts, toward a new address) watching broker `id`.
    void watch(model::node_id id, const std::string& host, std::uint16_t port);
    void unwatch(model::node_id id);

    // How long a connect may take before it counts as "no answer" (proves nothing), and the
    // rest between attempts after one.
    static constexpr std::chrono::milliseconds connect_timeout{2000};
    static constexpr std::chrono::milliseconds retry_after{1000};

private:
    struct target;
    static boost::asio::awaitable<void> run(process_watch* self, std::shared_ptr<target> t);

    boost::asio::io_context& ioc_;
    gone_fn gone_;
    std::map<model::node_id, std::shared_ptr<target>> targets_;
};

}  // namespace gregor::broker

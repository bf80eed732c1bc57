// zk_client: session lifecycle and the zookeeper_interest/zookeeper_process loop.
#include "coord/zk_client.h"

#include "coord/logger.h"
#include "coord/zk_convert.h"
#include "coord/zk_impl.h"

#include <boost/asio/post.hpp>

#include <mutex>

namespace gregor::coord {
namespace {

void log_line(const char* message) {
    std::string_view m(message);
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) {
        m.remove_suffix(1);
    }
    GREGOR_LOG_RATE_LIMITED(coord_log, warn, std::chrono::seconds(1), "zookeeper client: {}", m);
}

void global_watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
    (void)zh;
    (void)path;
    if (type == ZOO_SESSION_EVENT) {
        static_cast<zk_client::impl*>(ctx)->on_session_event(state);
    }
}

}  // namespace

zk_client::impl::impl(boost::asio::io_context& ioc, zk_config cfg)
    : ioc_(ioc), cfg_(std::move(cfg)), socket_(ioc), timer_(ioc), connect_timer_(ioc) {
    auto slash = cfg_.connect.find('/');
    if (slash != std::string::npos && cfg_.connect.size() > slash + 1) {
        chroot_ = cfg_.connect.substr(slash);
    }
}

void zk_client::impl::open_handle() {
    static std::once_flag quiet;
    std::call_once(quiet, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
    ++generation_;
    in_flight_ = 0;
    zh_ =
        zookeeper_init2(cfg_.connect.c_str(), global_watcher,
                        static_cast<int>(cfg_.session_timeout.count()), nullptr, this, 0, log_line);
    if (zh_ == nullptr) {
        GREGOR_LOG(coord_log, err, "cannot create a ZooKeeper handle for '{}'", cfg_.connect);
        return;
    }
    // By default the library resolves the connect string again on every zookeeper_interest(),
    // i.e. once per socket event: a getaddrinfo() (netlink dumps of the interfaces) per
    // response was half of a 100k-partition failover's client CPU. Resolve only when
    // (re)connecting, as Kafka's client does.
    zoo_set_servers_resolution_delay(zh_, -1);
    rearm();
}

void zk_client::impl::close_handle() {
    if (zh_ == nullptr) {
        return;
    }
    ++wait_generation_;
    if (socket_.is_open()) {
        socket_.release();  // the library owns and closes the socket
    }
    timer_.cancel();
    zhandle_t* zh = zh_;
    zh_ = nullptr;
    ++generation_;
    in_flight_ = 0;
    connected_ = false;
    // Completes every outstanding operation with ZCLOSING (their deliveries are stale now).
    zookeeper_close(zh);
}

void zk_client::impl::schedule_rearm() {
    if (rearm_scheduled_) {
        return;
    }
    rearm_scheduled_ = true;
    boost::asio::post(ioc_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->rearm();
        }
    });
}

void zk_client::impl::rearm() {
    rearm_scheduled_ = false;
    if (zh_ == nullptr) {
        return;
    }
    std::uint64_t gen = ++wait_generation_;
    if (socket_.is_open()) {
        socket_.release();
    }
    timer_.cancel();
    int fd = -1;
    int interest = 0;
    timeval tv{};
    int rc = zookeeper_interest(zh_, &fd, &interest, &tv);
    if (rc != ZOK) {
        GREGOR_LOG(coord_log, debug, "zookeeper_interest: {}", zerror(rc));
    }
    auto weak = weak_from_this();
    if (fd >= 0 && interest != 0) {
        boost::system::error_code ec;
        socket_.assign(fd, ec);
        for (int want : {ZOOKEEPER_READ, ZOOKEEPER_WRITE}) {
            if ((interest & want) == 0 || ec) {
                continue;
            }
            auto kind = want == ZOOKEEPER_READ ? boost::asio::posix::descriptor_base::wait_read
                                               : boost::asio::posix::descriptor_base::wait_write;
            socket_.async_wait(kind, [weak, gen, want](const boost::system::error_code& e) {
                if (auto self = weak.lock(); self && !e) {
                    self->on_ready(gen, want);
                }
            });
        }
    }
    auto delay = std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
    // Without a socket the library is between connection attempts: never spin.
    if (fd < 0 && delay < std::chrono::milliseconds(10)) {
        delay = std::chrono::milliseconds(10);
    }
    timer_.expires_after(delay);
    timer_.async_wait([weak, gen](const boost::system::error_code& e) {
        if (auto self = weak.lock(); self && !e) {
            self->on_ready(gen, 0);
        }
    });
}

void zk_client::impl::on_ready(std::uint64_t wait_generation, int events) {
    if (wait_generation != wait_generation_ || zh_ == nullptr) {
        return;
    }
    int rc = zookeeper_process(zh_, events);
    if (rc != ZOK && rc != ZNOTHING) {
        GREGOR_LOG(coord_log, debug, "zookeeper_process: {}", zerror(rc));
    }
    rearm();
}

void zk_client::impl::on_session_event(int state) {
    auto s = detail::session_state_from_zk(state);
    if (!s) {
        GREGOR_LOG(coord_log, err, "ZooKeeper session state {} (authentication failed?)", state);
        return;
    }
    switch (*s) {
        case session_state::connected:
            on_connected();
            break;
        case session_state::expired:
            on_expired();
            break;
        case session_state::disconnected:
            if (connected_) {
                connected_ = false;
                GREGOR_LOG(coord_log, warn, "disconnected from ZooKeeper (session {:#x})",
                           session_());
                fail_queued(make_error_code(errc::connection_loss));
                deliver_session_event(session_state::disconnected, session_);
            }
            break;
    }
}

void zk_client::impl::on_connected() {
    const clientid_t* id = zoo_client_id(zh_);
    session_id s{id->client_id};
    connected_ = true;
    GREGOR_LOG(coord_log, info, "connected to ZooKeeper '{}' session {:#x}{}", cfg_.connect, s(),
               s == session_ ? " (resumed)" : "");
    session_ = s;
    ever_connected_ = true;
    connect_timer_.cancel();
    deliver_session_event(session_state::connected, s);
    if (start_done_) {
        boost::asio::post(ioc_, [weak = weak_from_this(), done = std::move(start_done_)] {
            if (weak.lock()) {
                done(ok());
            }
        });
        start_done_ = nullptr;
    }
    pump();
}

void zk_client::impl::on_expired() {
    session_id old = session_;
    GREGOR_LOG(coord_log, warn, "ZooKeeper session {:#x} expired; opening a new one", old());
    connected_ = false;
    fail_queued(make_error_code(errc::session_expired));
    watches_.clear();
    deliver_session_event(session_state::expired, old);
    // Not from inside zookeeper_process(): the handle is closed and replaced on the loop.
    boost::asio::post(ioc_, [weak = weak_from_this()] {
        if (auto self = weak.lock(); self && !self->closed_) {
            self->close_handle();
            self->open_handle();
        }
    });
}

void zk_client::impl::deliver_session_event(session_state state, session_id s) {
    boost::asio::post(ioc_, [weak = weak_from_this(), state, s] {
        auto self = weak.lock();
        if (!self || self->closed_) {
            return;
        }
        self->delivered_connected_ = state == session_state::connected;
        auto snapshot = self->listeners_;
        for (auto& [id, fn] : snapshot) {
            if (self->listeners_.contains(id)) {
                fn(session_event{state, s});
            }
        }
    });
}

zk_client::zk_client(boost::asio::io_context& ioc, zk_config config)
    : impl_(std::make_shared<impl>(ioc, std::move(config))) {}

zk_client::~zk_client() {
    impl_->closed_ = true;
    impl_->cancel_multi_reads();
    impl_->close_handle();
}

void zk_client::start(callback<void> done) {
    GREGOR_ASSERT(impl_->zh_ == nullptr && !impl_->ever_connected_ && !impl_->closed_,
                  "zk_client::start called twice");
    impl_->start_done_ = std::move(done);
    impl_->open_handle();
    if (impl_->zh_ == nullptr) {
        impl_->closed_ = true;
        impl_->post_failure(
            [done = std::move(impl_->start_done_)](std::error_code e) {
                done(error(e, "invalid ZooKeeper connect string"));
            },
            make_error_code(errc::bad_arguments));
        return;
    }
    impl_->connect_timer_.expires_after(impl_->cfg_.connection_timeout);
    impl_->connect_timer_.async_wait([weak = std::weak_ptr(impl_)](
                                         const boost::system::error_code& e) {
        auto self = weak.lock();
        if (!self || e || self->connected_ || !self->start_done_) {
            return;
        }
        GREGOR_LOG(coord_log, err, "no ZooKeeper session at '{}' within {} ms", self->cfg_.connect,
                   self->cfg_.connection_timeout.count());
        self->closed_ = true;
        self->close_handle();
        auto start_done = std::move(self->start_done_);
        self->start_done_ = nullptr;
        start_done(error(errc::connect_timeout,
                         fmt::format("no ZooKeeper session at '{}' within {} ms",
                                     self->cfg_.connect, self->cfg_.connection_timeout.count())));
    });
}

listener_id zk_client::add_session_listener(session_fn fn) {
    listener_id id = impl_->next_listener_++;
    impl_->listeners_.emplace(id, std::move(fn));
    return id;
}

void zk_client::remove_session_listener(listener_id id) {
    impl_->listeners_.erase(id);
}

session_id zk_client::session() const {
    return impl_->session_;
}

bool zk_client::is_connected() const {
    return impl_->delivered_connected_ && !impl_->closed_;
}

void zk_client::close() {
    if (impl_->closed_) {
        return;
    }
    impl_->closed_ = true;
    impl_->fail_queued(make_error_code(errc::closed));
    impl_->cancel_multi_reads();
    impl_->watches_.clear();
    impl_->close_handle();
    impl_->delivered_connected_ = false;
}

std::optional<zk_session_credentials> zk_client::credentials() const {
    if (impl_->zh_ == nullptr || !impl_->connected_) {
        return std::nullopt;
    }
    const clientid_t* id = zoo_client_id(impl_->zh_);
    zk_session_credentials c;
    c.id = session_id{id->client_id};
    std::copy(std::begin(id->passwd), std::end(id->passwd), c.password.begin());
    return c;
}

}  // namespace gregor::coord

#include "support/session_killer.h"

#include <zookeeper/zookeeper.h>

#include <cstring>
#include <poll.h>

namespace gregor::test {
namespace {

void ignore_events(zhandle_t*, int, int, const char*, void*) {}

}  // namespace

bool expire_session(const std::string& connect, std::int64_t session_id,
                    const std::array<char, 16>& password, std::chrono::milliseconds timeout) {
    clientid_t id{};
    id.client_id = session_id;
    std::memcpy(id.passwd, password.data(), password.size());
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t* zh = zookeeper_init(connect.c_str(), ignore_events, 30000, &id, nullptr, 0);
    if (zh == nullptr) {
        return false;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool ok = false;
    while (std::chrono::steady_clock::now() < deadline) {
        if (zoo_state(zh) == ZOO_CONNECTED_STATE) {
            ok = zoo_client_id(zh)->client_id == session_id;
            break;
        }
        int fd = -1;
        int interest = 0;
        timeval tv{};
        zookeeper_interest(zh, &fd, &interest, &tv);
        pollfd p{fd, 0, 0};
        if ((interest & ZOOKEEPER_READ) != 0) {
            p.events |= POLLIN;
        }
        if ((interest & ZOOKEEPER_WRITE) != 0) {
            p.events |= POLLOUT;
        }
        int wait_ms = static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
        ::poll(&p, fd >= 0 ? 1 : 0, wait_ms > 0 && wait_ms < 100 ? wait_ms : 100);
        int events = 0;
        events |= (p.revents & POLLIN) != 0 ? ZOOKEEPER_READ : 0;
        events |= (p.revents & POLLOUT) != 0 ? ZOOKEEPER_WRITE : 0;
        zookeeper_process(zh, events);
    }
    zookeeper_close(zh);  // ends the shared session on the server
    return ok;
}

}  // namespace gregor::test

#include "coord/errc.h"

#include <string>

namespace gregor::coord {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "coord"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::no_node:
                return "znode does not exist";
            case errc::node_exists:
                return "znode already exists";
            case errc::bad_version:
                return "znode version does not match";
            case errc::not_empty:
                return "znode has children";
            case errc::no_children_for_ephemerals:
                return "ephemeral znodes cannot have children";
            case errc::connection_loss:
                return "connection to ZooKeeper lost";
            case errc::session_expired:
                return "ZooKeeper session expired";
            case errc::operation_timeout:
                return "ZooKeeper operation timed out";
            case errc::runtime_inconsistency:
                return "multi op not attempted";
            case errc::bad_arguments:
                return "invalid path or argument";
            case errc::closed:
                return "coordination client closed";
            case errc::queue_full:
                return "too many coordination operations queued";
            case errc::connect_timeout:
                return "could not connect to ZooKeeper in time";
            case errc::malformed_data:
                return "malformed znode data";
            case errc::fatal_registration:
                return "broker registration owned by another session";
            case errc::system_error:
                return "ZooKeeper client error";
            case errc::request_too_large:
                return "request larger than ZooKeeper accepts (jute.maxbuffer, 1 MiB)";
            case errc::unsupported:
                return "operation not supported by the ZooKeeper server";
        }
        return "unknown coord error";
    }
};

}  // namespace

const std::error_category& coord_category() {
    static const category c;
    return c;
}

bool is_transient(std::error_code e) {
    return e == errc::connection_loss || e == errc::session_expired || e == errc::operation_timeout;
}

}  // namespace gregor::coord

#include "cluster/errc.h"

#include <string>

namespace gregor::cluster {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "cluster"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::bad_state_file:
                return "bad cluster state file";
            case errc::io_error:
                return "file system error";
            case errc::port_in_use:
                return "port in use";
            case errc::zookeeper_missing:
                return "ZooKeeper is not installed";
            case errc::start_failed:
                return "a process failed to start";
            case errc::timed_out:
                return "timed out";
            case errc::busy:
                return "directory held by a running cluster";
            case errc::not_running:
                return "no running cluster";
            case errc::bad_request:
                return "bad request";
            case errc::interrupted:
                return "interrupted by a signal";
        }
        return "unknown cluster error";
    }
};

}  // namespace

const std::error_category& cluster_category() {
    static const category c;
    return c;
}

}  // namespace gregor::cluster

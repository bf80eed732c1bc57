#include "net/errc.h"

#include <string>

namespace gregor::net {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "net"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::frame_size_invalid:
                return "frame size invalid";
            case errc::frame_too_large:
                return "frame too large";
            case errc::frame_truncated:
                return "frame truncated";
            case errc::connection_closed:
                return "connection closed";
            case errc::socket_error:
                return "socket error";
            case errc::file_truncated:
                return "file slice truncated";
            case errc::connect_failed:
                return "connect failed";
            case errc::request_timed_out:
                return "request timed out";
            case errc::queue_full:
                return "request queue full";
            case errc::client_closed:
                return "client closed";
            case errc::disconnected:
                return "disconnected";
            case errc::bad_response:
                return "bad response";
            case errc::invalid_config:
                return "invalid config";
        }
        return "unknown net error";
    }
};

}  // namespace

const std::error_category& net_category() {
    static const category instance;
    return instance;
}

}  // namespace gregor::net

#include "admin/errc.h"

#include <string>

namespace gregor::admin {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "admin"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::bad_address:
                return "bad address";
            case errc::connect_failed:
                return "cannot connect";
            case errc::io_failed:
                return "connection failed";
            case errc::bad_response:
                return "malformed response";
            case errc::unsupported:
                return "unsupported by the broker";
            case errc::no_controller:
                return "no controller";
            case errc::request_failed:
                return "request failed";
            case errc::bad_usage:
                return "bad usage";
            case errc::no_coordinator:
                return "no group coordinator";
        }
        return "unknown admin error";
    }
};

}  // namespace

const std::error_category& admin_category() {
    static const category c;
    return c;
}

}  // namespace gregor::admin

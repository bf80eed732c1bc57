#include "bench/errc.h"

#include <string>

namespace gregor::bench {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "bench"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::bad_argument:
                return "bad argument";
            case errc::unreachable:
                return "broker unreachable";
            case errc::topic_unavailable:
                return "topic unavailable";
            case errc::client_error:
                return "kafka client error";
            case errc::io_error:
                return "I/O error";
            case errc::incomplete:
                return "run incomplete";
        }
        return "unknown bench error";
    }
};

}  // namespace

const std::error_category& bench_category() {
    static const category c;
    return c;
}

}  // namespace gregor::bench

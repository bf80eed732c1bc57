#include "producer/errc.h"

#include <string>

namespace gregor::producer {
namespace {

class producer_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "producer"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::ids_exhausted:
                return "every producer id has been allocated";
            case errc::claim_contended:
                return "other brokers won every attempt to claim a producer id block";
            case errc::block_behind:
                return "the claimed producer id block overlaps ids already handed out";
        }
        return "unknown producer error";
    }
};

}  // namespace

const std::error_category& producer_category() {
    static const producer_error_category c;
    return c;
}

}  // namespace gregor::producer

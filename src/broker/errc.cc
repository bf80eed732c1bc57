#include "broker/errc.h"

#include <string>

namespace gregor::broker {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "broker"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::config_syntax:
                return "config syntax error";
            case errc::config_unknown_key:
                return "unknown config key";
            case errc::config_bad_value:
                return "invalid config value";
            case errc::config_missing_key:
                return "missing required config key";
            case errc::config_unsupported:
                return "config not supported by gregor";
            case errc::config_io:
                return "cannot read config file";
            case errc::identity_mismatch:
                return "log dirs belong to another broker or cluster";
            case errc::identity_io:
                return "cannot read or write meta.properties";
        }
        return "unknown broker error";
    }
};

}  // namespace

const std::error_category& broker_category() {
    static const category c;
    return c;
}

}  // namespace gregor::broker

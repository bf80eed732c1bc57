#include "protocol/errc.h"

#include <string>

namespace gregor::protocol {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "protocol"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::truncated: return "truncated";
            case errc::bad_length: return "bad length";
            case errc::bad_varint: return "bad varint";
            case errc::invalid_utf8: return "invalid utf-8";
            case errc::unexpected_null: return "unexpected null";
            case errc::unsupported_version: return "unsupported version";
            case errc::unknown_api: return "unknown api key";
            case errc::bad_tagged_fields: return "bad tagged fields";
            case errc::trailing_bytes: return "trailing bytes";
            case errc::value_too_large: return "value too large for its wire type";
        }
        return "unknown protocol error";
    }
};

}  // namespace

const std::error_category& protocol_category() {
    static const category instance;
    return instance;
}

}  // namespace gregor::protocol

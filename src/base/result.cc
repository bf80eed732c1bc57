#include "base/result.h"

namespace gregor {

std::string error::to_string() const {
    std::string out = fmt::format("{}: {}", code.category().name(), code.message());
    if (!detail.empty()) {
        out += fmt::format(" ({})", detail);
    }
    return out;
}

}  // namespace gregor

#include "coord/client.h"

namespace gregor::coord {

namespace {

// Per op: its header in a multi (type, done, error), the path's and the data's lengths, the
// open ACL ("world", "anyone", perms), flags or version; per request: length, xid, type and
// the multi's closing header. Rounded up: this bounds the wire size, it need not equal it.
constexpr std::size_t op_fixed_bytes = 64;
constexpr std::size_t request_fixed_bytes = 32;

}  // namespace

std::size_t request_bytes(const std::vector<op>& ops) {
    std::size_t n = request_fixed_bytes;
    for (const auto& o : ops) {
        n += std::visit(
            [](const auto& x) {
                std::size_t data = 0;
                if constexpr (requires { x.data; }) {
                    data = x.data.size();
                }
                return op_fixed_bytes + x.path.size() + data;
            },
            o);
    }
    return n;
}

std::size_t request_bytes(std::string_view path, std::string_view data) {
    return request_fixed_bytes + op_fixed_bytes + path.size() + data.size();
}

std::size_t multi_response::failed_index() const {
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].error && results[i].error != errc::runtime_inconsistency) {
            return i;
        }
    }
    return results.size();
}

}  // namespace gregor::coord

#include "coord/path.h"

#include "base/assert.h"

#include <fmt/format.h>

namespace gregor::coord {

result<void> validate_path(std::string_view path) {
    if (path.empty() || path.front() != '/') {
        return error(errc::bad_arguments, fmt::format("path '{}' must start with '/'", path));
    }
    if (path == "/") {
        return ok();
    }
    if (path.back() == '/') {
        return error(errc::bad_arguments, fmt::format("path '{}' ends with '/'", path));
    }
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        std::string_view segment = path.substr(start, end - start);
        if (segment.empty() || segment == "." || segment == ".." ||
            segment.find('\0') != std::string_view::npos) {
            return error(errc::bad_arguments,
                         fmt::format("path '{}' has an invalid segment", path));
        }
        start = end + 1;
    }
    return ok();
}

std::string_view parent_path(std::string_view path) {
    GREGOR_ASSERT(path.size() > 1 && path.front() == '/', "no parent of '{}'", path);
    std::size_t slash = path.rfind('/');
    return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

std::string_view base_name(std::string_view path) {
    GREGOR_ASSERT(path.size() > 1 && path.front() == '/', "no base name of '{}'", path);
    return path.substr(path.rfind('/') + 1);
}

std::string join_path(std::string_view parent, std::string_view name) {
    if (parent == "/") {
        return fmt::format("/{}", name);
    }
    return fmt::format("{}/{}", parent, name);
}

std::string sequence_suffix(std::int32_t counter) {
    return fmt::format("{:010d}", counter);
}

}  // namespace gregor::coord

#include "dashboard/assets.h"

namespace gregor::dashboard {
namespace {

std::string_view content_type_of(std::string_view name) {
    if (name.ends_with(".html")) {
        return "text/html; charset=utf-8";
    }
    if (name.ends_with(".js")) {
        return "text/javascript; charset=utf-8";
    }
    if (name.ends_with(".css")) {
        return "text/css; charset=utf-8";
    }
    return "application/octet-stream";
}

}  // namespace

std::optional<asset> find(std::string_view path) {
    if (path == "/") {
        path = "/index.html";
    }
    if (!path.starts_with('/')) {
        return std::nullopt;
    }
    path.remove_prefix(1);
    for (std::size_t i = 0; i < embedded_file_count; ++i) {
        const embedded_file& f = embedded_files[i];
        if (path == f.name) {
            return asset{content_type_of(f.name),
                         std::string_view(reinterpret_cast<const char*>(f.data), f.size)};
        }
    }
    return std::nullopt;
}

std::vector<std::string> paths() {
    std::vector<std::string> out{"/"};
    for (std::size_t i = 0; i < embedded_file_count; ++i) {
        out.push_back(std::string("/") + embedded_files[i].name);
    }
    return out;
}

}  // namespace gregor::dashboard

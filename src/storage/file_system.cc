#include "storage/file_system.h"

#include "storage/errc.h"

#include <fmt/format.h>

namespace gregor::storage {

std::string path_join(const std::string& dir, const std::string& name) {
    if (dir.empty()) {
        return name;
    }
    if (dir.back() == '/') {
        return dir + name;
    }
    return dir + "/" + name;
}

std::string path_parent(const std::string& path) {
    auto pos = path.find_last_of('/');
    if (pos == std::string::npos) {
        return ".";
    }
    if (pos == 0) {
        return "/";
    }
    return path.substr(0, pos);
}

result<bytes> read_small_file(file_system& fs, const std::string& path, std::size_t max_bytes) {
    GREGOR_TRY(auto f, fs.open(path, open_mode::read_write));
    GREGOR_TRY(auto size, f->size());
    if (size > max_bytes) {
        return error(errc::io_error, fmt::format("{}: {} bytes exceeds {}", path, size, max_bytes));
    }
    bytes out(static_cast<std::size_t>(size));
    GREGOR_TRY(auto n, f->read_at(0, out));
    out.resize(n);
    return out;
}

result<void> write_file_atomic(file_system& fs, const std::string& path, bytes_view content) {
    std::string tmp = path + ".tmp";
    {
        GREGOR_TRY(auto f, fs.open(tmp, open_mode::create));
        GREGOR_TRY_VOID(f->truncate(0));
        GREGOR_TRY_VOID(f->write_at(0, content));
        GREGOR_TRY_VOID(f->sync());
    }
    GREGOR_TRY_VOID(fs.rename(tmp, path));
    return fs.sync_dir(path_parent(path));
}

}  // namespace gregor::storage

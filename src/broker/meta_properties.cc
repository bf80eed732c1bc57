#include "broker/meta_properties.h"

#include "broker/errc.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace gregor::broker {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t file_bytes_max = 64 * 1024;

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t\r");
    auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

result<meta_properties> parse(const std::string& path, const std::string& text) {
    std::map<std::string, std::string> kv;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == '!') {
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            return error(errc::identity_io, path + ": line without '=': " + line);
        }
        kv[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    if (kv.count("version") == 0 || kv["version"] != "0") {
        return error(errc::identity_io, path + ": version must be 0");
    }
    const std::string& id = kv["broker.id"];
    std::int32_t value = -1;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    if (ec != std::errc() || end != id.data() + id.size() || value < 0) {
        return error(errc::identity_io, path + ": broker.id is not a broker id: '" + id + "'");
    }
    return meta_properties{model::node_id(value), kv["cluster.id"]};
}

}  // namespace

result<std::optional<meta_properties>> read_meta_properties(const std::string& dir) {
    fs::path path = fs::path(dir) / "meta.properties";
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return std::optional<meta_properties>();
    }
    if (fs::file_size(path, ec) > file_bytes_max || ec) {
        return error(errc::identity_io, path.string() + ": unreadable or too large");
    }
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in.good() && !in.eof()) {
        return error(errc::identity_io, path.string() + ": cannot be read");
    }
    GREGOR_TRY(meta_properties m, parse(path.string(), ss.str()));
    return std::optional<meta_properties>(std::move(m));
}

result<void> write_meta_properties(const std::string& dir, const meta_properties& m) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    fs::path tmp = fs::path(dir) / "meta.properties.tmp";
    fs::path path = fs::path(dir) / "meta.properties";
    std::string text = "#\n# written by gregor\nversion=0\nbroker.id=" +
                       std::to_string(m.broker_id()) + "\n" +
                       (m.cluster_id.empty() ? "" : "cluster.id=" + m.cluster_id + "\n");
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return error(errc::identity_io, tmp.string() + ": cannot be created");
    }
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
        return error(errc::identity_io, path.string() + ": cannot be written");
    }
    return ok();
}

result<std::optional<model::node_id>> stored_broker_id(const std::vector<std::string>& dirs,
                                                       model::node_id configured) {
    std::optional<model::node_id> stored;
    for (const auto& dir : dirs) {
        GREGOR_TRY(auto m, read_meta_properties(dir));
        if (!m) {
            continue;
        }
        if (stored && *stored != m->broker_id) {
            return error(errc::identity_mismatch,
                         "log.dirs hold meta.properties of different broker ids (" +
                             std::to_string((*stored)()) + " and " +
                             std::to_string(m->broker_id()) + ")");
        }
        stored = m->broker_id;
    }
    if (stored && configured() >= 0 && *stored != configured) {
        return error(errc::identity_mismatch,
                     "configured broker.id " + std::to_string(configured()) +
                         " doesn't match stored broker.id " + std::to_string((*stored)()) +
                         " in meta.properties; the log dirs belong to another broker");
    }
    return stored;
}

result<void> record_identity(const std::vector<std::string>& dirs, model::node_id id,
                             const std::string& cluster) {
    for (const auto& dir : dirs) {
        GREGOR_TRY(auto m, read_meta_properties(dir));
        if (m && !m->cluster_id.empty() && m->cluster_id != cluster) {
            return error(errc::identity_mismatch,
                         "the cluster id " + cluster + " doesn't match stored cluster id " +
                             m->cluster_id + " in " + dir +
                             "/meta.properties; the broker is trying to join the wrong cluster");
        }
        if (!m || m->cluster_id != cluster || m->broker_id != id) {
            GREGOR_TRY_VOID(write_meta_properties(dir, {id, cluster}));
        }
    }
    return ok();
}

}  // namespace gregor::broker

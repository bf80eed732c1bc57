#include "cluster/state.h"

#include "cluster/errc.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>

namespace gregor::cluster {
namespace {

using json = nlohmann::json;

// The state file is small; anything larger is not ours.
constexpr std::size_t state_bytes_max = 1 << 20;
// More brokers than any local cluster runs; bounds what a corrupt file can make us do.
constexpr std::size_t listed_brokers_max = 64;

error bad_field(std::string_view field) {
    return error(errc::bad_state_file, fmt::format("cluster.json: bad or missing '{}'", field));
}

template <class Int>
result<Int> get_int(const json& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || !it->is_number_integer()) {
        return bad_field(field);
    }
    auto v = it->get<std::int64_t>();
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
        return bad_field(field);
    }
    return static_cast<Int>(v);
}

result<std::string> get_string(const json& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || !it->is_string()) {
        return bad_field(field);
    }
    return it->get<std::string>();
}

result<bool> get_bool(const json& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || !it->is_boolean()) {
        return bad_field(field);
    }
    return it->get<bool>();
}

result<broker_entry> decode_broker(const json& b) {
    if (!b.is_object()) {
        return bad_field("brokers");
    }
    broker_entry e;
    GREGOR_TRY(e.id, get_int<std::int32_t>(b, "id"));
    GREGOR_TRY(e.port, get_int<std::uint16_t>(b, "port"));
    GREGOR_TRY(e.pid, get_int<pid_t>(b, "pid"));
    GREGOR_TRY(e.stopped_by_user, get_bool(b, "stopped_by_user"));
    if (b.contains("http_port")) {  // absent in clusters created before metrics existed
        GREGOR_TRY(e.http_port, get_int<std::uint16_t>(b, "http_port"));
    }
    if (e.id < 0 || e.port == 0 || e.pid < 0) {
        return bad_field("brokers");
    }
    return e;
}

result<zookeeper_entry> decode_zookeeper_server(const json& z) {
    if (!z.is_object()) {
        return bad_field("zookeeper");
    }
    zookeeper_entry e;
    GREGOR_TRY(e.id, get_int<std::int32_t>(z, "id"));
    GREGOR_TRY(e.port, get_int<std::uint16_t>(z, "port"));
    GREGOR_TRY(e.quorum_port, get_int<std::uint16_t>(z, "quorum_port"));
    GREGOR_TRY(e.election_port, get_int<std::uint16_t>(z, "election_port"));
    GREGOR_TRY(e.pid, get_int<pid_t>(z, "pid"));
    if (e.id < 0 || e.id > zookeepers_max || e.pid < 0) {
        return bad_field("zookeeper");
    }
    return e;
}

result<void> decode_zookeeper(const json& z, cluster_state& s) {
    if (!z.is_object()) {
        return bad_field("zookeeper");
    }
    GREGOR_TRY(s.zookeeper_connect, get_string(z, "connect"));
    GREGOR_TRY(s.zookeeper_managed, get_bool(z, "managed"));
    if (s.zookeeper_connect.empty()) {
        return bad_field("zookeeper");
    }
    if (auto servers = z.find("servers"); servers != z.end()) {
        if (!servers->is_array() || servers->size() > static_cast<std::size_t>(zookeepers_max)) {
            return bad_field("zookeeper");
        }
        for (const auto& e : *servers) {
            GREGOR_TRY(auto entry, decode_zookeeper_server(e));
            s.zookeepers.push_back(entry);
        }
    } else if (s.zookeeper_managed) {
        // A cluster from before ensembles: one standalone server as "port" and "pid".
        zookeeper_entry e;
        GREGOR_TRY(e.port, get_int<std::uint16_t>(z, "port"));
        GREGOR_TRY(e.pid, get_int<pid_t>(z, "pid"));
        if (e.pid < 0) {
            return bad_field("zookeeper");
        }
        s.zookeepers.push_back(e);
    }
    return ok();
}

}  // namespace

std::string cluster_state::bootstrap_servers() const {
    std::string out;
    for (const auto& b : brokers) {
        out += fmt::format("{}127.0.0.1:{}", out.empty() ? "" : ",", b.port);
    }
    return out;
}

broker_entry* cluster_state::find_broker(std::int32_t id) {
    for (auto& b : brokers) {
        if (b.id == id) {
            return &b;
        }
    }
    return nullptr;
}

std::string encode_state(const cluster_state& s) {
    nlohmann::ordered_json brokers = nlohmann::ordered_json::array();
    for (const auto& b : s.brokers) {
        brokers.push_back({{"id", b.id},
                           {"port", b.port},
                           {"pid", b.pid},
                           {"stopped_by_user", b.stopped_by_user},
                           {"http_port", b.http_port}});
    }
    nlohmann::ordered_json zks = nlohmann::ordered_json::array();
    for (const auto& z : s.zookeepers) {
        zks.push_back({{"id", z.id},
                       {"port", z.port},
                       {"quorum_port", z.quorum_port},
                       {"election_port", z.election_port},
                       {"pid", z.pid}});
    }
    nlohmann::ordered_json j = {
        {"version", 1},
        {"dir", s.dir},
        {"supervisor_pid", s.supervisor_pid},
        {"session_timeout_ms", s.session_timeout_ms},
        {"zookeeper",
         {{"connect", s.zookeeper_connect}, {"managed", s.zookeeper_managed}, {"servers", zks}}},
        {"brokers", brokers},
    };
    return j.dump(2) + "\n";
}

result<cluster_state> decode_state(std::string_view text) {
    if (text.size() > state_bytes_max) {
        return error(errc::bad_state_file, "cluster.json: too large");
    }
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return error(errc::bad_state_file, "cluster.json: not a JSON object");
    }
    GREGOR_TRY(auto version, get_int<int>(j, "version"));
    if (version != 1) {
        return bad_field("version");
    }
    cluster_state s;
    GREGOR_TRY(s.dir, get_string(j, "dir"));
    GREGOR_TRY(s.supervisor_pid, get_int<pid_t>(j, "supervisor_pid"));
    GREGOR_TRY(s.session_timeout_ms, get_int<std::int32_t>(j, "session_timeout_ms"));
    auto z = j.find("zookeeper");
    if (z == j.end()) {
        return bad_field("zookeeper");
    }
    GREGOR_TRY_VOID(decode_zookeeper(*z, s));
    auto bs = j.find("brokers");
    if (bs == j.end() || !bs->is_array() || bs->empty() || bs->size() > listed_brokers_max) {
        return bad_field("brokers");
    }
    for (const auto& b : *bs) {
        GREGOR_TRY(auto e, decode_broker(b));
        if (s.find_broker(e.id) != nullptr) {
            return bad_field("brokers");
        }
        s.brokers.push_back(e);
    }
    return s;
}

std::filesystem::path state_path(const std::filesystem::path& dir) {
    return dir / state_file_name;
}

result<cluster_state> read_state(const std::filesystem::path& dir) {
    std::ifstream in(state_path(dir));
    if (!in) {
        return error(errc::not_running, fmt::format("no {} in {}", state_file_name, dir.string()));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return decode_state(ss.str());
}

result<void> write_state(const std::filesystem::path& dir, const cluster_state& s) {
    auto target = state_path(dir);
    auto tmp = target;
    tmp += fmt::format(".tmp{}", ::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << encode_state(s);
        out.flush();
        if (!out) {
            return error(errc::io_error, fmt::format("cannot write {}", tmp.string()));
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, target, ec);
    if (ec) {
        return error(errc::io_error,
                     fmt::format("cannot rename {}: {}", tmp.string(), ec.message()));
    }
    return ok();
}

}  // namespace gregor::cluster

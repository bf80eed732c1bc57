#include "integration/group/group_members.h"

#include "protocol/messages/describe_groups.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/offset_fetch.h"
#include "support/process.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gregor::test {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* python = "/usr/bin/python3";
constexpr std::int16_t find_coordinator_version = 1;
constexpr std::int16_t describe_groups_version = 4;  // the first with group_instance_id
constexpr std::int16_t offset_fetch_version = 5;

std::vector<std::string> lines_of(const fs::path& file) {
    std::vector<std::string> out;
    std::istringstream in(slurp(file));
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

std::vector<std::string> words_of(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string w; in >> w;) {
        out.push_back(w);
    }
    return out;
}

std::string lowercase(std::string s) {
    std::ranges::transform(s, s.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return s;
}

}  // namespace

scratch_dir::scratch_dir() {
    std::string tmpl = (fs::temp_directory_path() / "gregor-group-faults-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path = tmpl;
}

scratch_dir::~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
}

std::vector<std::string> group_client(const std::string& args) {
    auto r = run_command(fmt::format("{} {} {} 2>/dev/null", python, GREGOR_GROUP_CLIENTS, args));
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("RESULT ")) {
            out.push_back(line.substr(7));
        }
    }
    return out;
}

std::string group_client_line(const std::string& args) {
    auto lines = group_client(args);
    return lines.empty() ? "(no answer)" : lines.back();
}

std::string create_topic(const replication_cluster& c, const std::string& topic, int partitions,
                         const std::map<std::string, std::string>& configs) {
    std::string cmd = fmt::format("{} topics create {} -p {} -r 3 -b {}", GREGOR_BINARY, topic,
                                  partitions, c.bootstrap());
    for (const auto& [k, v] : configs) {
        cmd += fmt::format(" -c {}={}", k, v);
    }
    auto r = run_command(cmd + " 2>&1");
    return r.status == 0 ? "" : r.out;
}

member_process::member_process(const fs::path& dir, const std::string& name, member_options options)
    : out_(dir / (name + ".records")), stop_(dir / (name + ".stop")) {
    pid_ = spawn_child(
        {python, GREGOR_GROUP_CLIENTS, "member", options.bootstrap, options.topic, options.group,
         out_.string(), stop_.string(), "600", std::to_string(options.session_timeout_ms),
         std::to_string(options.commit_every),
         options.instance_id.empty() ? "-" : options.instance_id},
        dir / (name + ".log"), false);
}

member_process::~member_process() {
    if (pid_ > 0) {
        kill_now();
    }
}

std::vector<consumed> member_process::records() const {
    std::vector<consumed> out;
    for (const std::string& line : lines_of(out_)) {
        consumed c;
        char r = 0;
        std::istringstream fields(line);
        if (fields >> c.partition >> c.offset >> r >> c.value && r == 'r') {
            out.push_back(c);
        }
    }
    return out;
}

std::vector<std::string> member_process::events() const {
    return lines_of(out_.string() + ".events");
}

std::vector<std::string> member_process::rebalance_events() const {
    std::vector<std::string> out;
    for (const std::string& e : events()) {
        if (e.starts_with("assign") || e.starts_with("revoke")) {
            out.push_back(e);
        }
    }
    return out;
}

std::set<int> member_process::assignment() const {
    std::set<int> out;
    for (const std::string& e : rebalance_events()) {
        auto words = words_of(e);
        out.clear();
        if (words.front() == "assign") {
            for (std::size_t i = 1; i < words.size(); ++i) {
                out.insert(std::stoi(words[i]));
            }
        }
    }
    return out;
}

std::map<int, std::int64_t> member_process::acknowledged_commits() const {
    std::map<int, std::int64_t> out;
    for (const std::string& e : events()) {
        auto words = words_of(e);
        if (words.size() == 3 && words[0] == "commit") {
            int p = std::stoi(words[1]);
            std::int64_t offset = std::stoll(words[2]);
            out[p] = std::max(out.contains(p) ? out[p] : offset, offset);
        }
    }
    return out;
}

std::size_t member_process::commit_count() const {
    return static_cast<std::size_t>(std::ranges::count_if(
        events(), [](const std::string& e) { return e.starts_with("commit "); }));
}

bool member_process::fatal_error_contains(const std::string& needle) const {
    return std::ranges::any_of(events(), [&](const std::string& e) {
        return e.starts_with("fatal ") && lowercase(e).find(lowercase(needle)) != std::string::npos;
    });
}

void member_process::kill_now() {
    ::kill(pid_, SIGKILL);
    (void)wait_child(pid_, 30s);
    pid_ = -1;
}

bool member_process::stop() {
    std::ofstream(stop_) << "stop\n";
    auto code = wait_child(pid_, 60s);
    if (!code) {
        kill_now();
        return false;
    }
    pid_ = -1;
    return *code == 0;
}

bool member_process::exited() {
    if (pid_ > 0 && wait_child(pid_, 0ms)) {
        pid_ = -1;
    }
    return pid_ <= 0;
}

bool read_all(const std::vector<const member_process*>& members, const std::set<int>& values) {
    std::set<int> seen;
    for (const member_process* m : members) {
        for (const consumed& r : m->records()) {
            seen.insert(r.value);
        }
    }
    return std::ranges::includes(seen, values);
}

int find_coordinator(replication_cluster& c, const std::string& group, const std::set<int>& live) {
    for (int id : live) {
        try {
            protocol::find_coordinator_request req;
            req.key = group;
            kafka_socket s(c.broker(id).port(), 10s);
            bytes raw = s.call(protocol::find_coordinator_api::key, find_coordinator_version, req);
            protocol::reader r(raw);
            auto resp = protocol::find_coordinator_response::decode(r, find_coordinator_version);
            if (resp && resp->error_code == 0) {
                return resp->node_id();
            }
        } catch (const std::exception&) {
            continue;  // that broker is down or restarting: ask the next one
        }
    }
    return -1;
}

std::map<std::string, std::string> group_description::member_ids_by_instance() const {
    std::map<std::string, std::string> out;
    for (const auto& m : members) {
        out[m.instance_id] = m.member_id;
    }
    return out;
}

std::optional<group_description> describe_group(std::uint16_t port, const std::string& group) {
    try {
        protocol::describe_groups_request req;
        req.groups.push_back(group);
        kafka_socket s(port, 10s);
        bytes raw = s.call(protocol::describe_groups_api::key, describe_groups_version, req);
        protocol::reader r(raw);
        auto resp = protocol::describe_groups_response::decode(r, describe_groups_version);
        if (!resp || resp->groups.size() != 1) {
            return std::nullopt;
        }
        const auto& g = resp->groups.front();
        group_description out{g.error_code, g.group_state, {}};
        for (const auto& m : g.members) {
            out.members.push_back({m.member_id, m.group_instance_id.value_or("")});
        }
        return out;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<std::map<int, std::int64_t>> fetch_offsets(std::uint16_t port,
                                                         const std::string& group,
                                                         const std::string& topic, int partitions) {
    try {
        protocol::offset_fetch_request req;
        req.group_id = group;
        protocol::offset_fetch_request::offset_fetch_request_topic t;
        t.name = topic;
        for (int p = 0; p < partitions; ++p) {
            t.partition_indexes.emplace_back(p);
        }
        req.topics->push_back(t);
        kafka_socket s(port, 10s);
        bytes raw = s.call(protocol::offset_fetch_api::key, offset_fetch_version, req);
        protocol::reader r(raw);
        auto resp = protocol::offset_fetch_response::decode(r, offset_fetch_version);
        if (!resp || resp->error_code != 0 || resp->topics.size() != 1) {
            return std::nullopt;
        }
        std::map<int, std::int64_t> out;
        for (const auto& p : resp->topics.front().partitions) {
            if (p.error_code != 0) {
                return std::nullopt;
            }
            out[p.partition_index()] = p.committed_offset();
        }
        return out;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace gregor::test

#include "cluster/control.h"

#include "cluster/errc.h"
#include "cluster/process.h"

#include <fmt/format.h>

#include <charconv>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace gregor::cluster {
namespace {

std::filesystem::path request_path(const cluster_layout& l, pid_t client) {
    return l.control_dir() / fmt::format("{}.request", client);
}
std::filesystem::path reply_path(const cluster_layout& l, pid_t client) {
    return l.control_dir() / fmt::format("{}.reply", client);
}

result<void> write_atomically(const std::filesystem::path& target, const std::string& text) {
    auto tmp = target;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        if (!out) {
            return error(errc::io_error, "cannot write " + tmp.string());
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, target, ec);
    if (ec) {
        return error(errc::io_error, "cannot rename " + tmp.string());
    }
    return ok();
}

// Reads a small file whole; nullopt if it is missing or too large.
std::optional<std::string> read_small(const std::filesystem::path& p) {
    std::error_code ec;
    auto size = std::filesystem::file_size(p, ec);
    if (ec || size > control_message_bytes_max) {
        return std::nullopt;
    }
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

std::string_view action_name(control_action a) {
    switch (a) {
        case control_action::kill:
            return "kill";
        case control_action::pause:
            return "pause";
        case control_action::resume:
            return "resume";
        case control_action::restart:
            return "restart";
    }
    return "?";
}

result<control_action> parse_action(std::string_view name) {
    for (auto a : {control_action::kill, control_action::pause, control_action::resume,
                   control_action::restart}) {
        if (action_name(a) == name) {
            return a;
        }
    }
    return error(errc::bad_request, fmt::format("unknown action '{}'", name));
}

std::string encode_request(const control_request& r) {
    return fmt::format("{} {}\n", action_name(r.action), r.broker);
}

result<control_request> parse_request(std::string_view text) {
    text = trim(text);
    auto space = text.find(' ');
    if (space == std::string_view::npos) {
        return error(errc::bad_request, "expected '<action> <broker-id>'");
    }
    GREGOR_TRY(auto action, parse_action(text.substr(0, space)));
    auto id_text = text.substr(space + 1);
    std::int32_t id = -1;
    auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc{} || p != id_text.data() + id_text.size() || id < 0) {
        return error(errc::bad_request, fmt::format("bad broker id '{}'", id_text));
    }
    return control_request{action, id};
}

std::string encode_reply(const control_reply& r) {
    return fmt::format("{} {}\n", r.ok ? "ok" : "error", r.message);
}

result<control_reply> parse_reply(std::string_view text) {
    text = trim(text);
    auto space = text.find(' ');
    auto head = text.substr(0, space);
    auto message = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (head != "ok" && head != "error") {
        return error(errc::bad_request, "malformed reply from the supervisor");
    }
    return control_reply{head == "ok", std::string(message)};
}

std::vector<pending_request> take_requests(const cluster_layout& layout) {
    std::vector<pending_request> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(layout.control_dir(), ec)) {
        if (out.size() >= control_requests_per_scan) {
            break;
        }
        const auto& p = e.path();
        if (p.extension() != ".request") {
            continue;
        }
        auto stem = p.stem().string();
        pid_t client = 0;
        auto [end, err] = std::from_chars(stem.data(), stem.data() + stem.size(), client);
        auto text = read_small(p);
        std::filesystem::remove(p, ec);
        if (err != std::errc{} || end != stem.data() + stem.size() || client <= 0) {
            continue;  // not a name a client writes
        }
        out.push_back({client, text ? parse_request(*text)
                                    : result<control_request>(
                                          error(errc::bad_request, "request file too large"))});
    }
    return out;
}

void send_reply(const cluster_layout& layout, pid_t client, const control_reply& reply) {
    ignore_error(write_atomically(reply_path(layout, client), encode_reply(reply)),
                 "the client times out and says so if the reply cannot be written");
}

result<control_reply> call_supervisor(const cluster_layout& layout, pid_t supervisor,
                                      const control_request& request,
                                      std::chrono::milliseconds limit) {
    pid_t self = ::getpid();
    auto reply_file = reply_path(layout, self);
    std::error_code ec;
    std::filesystem::create_directories(layout.control_dir(), ec);
    std::filesystem::remove(reply_file, ec);
    GREGOR_TRY_VOID(write_atomically(request_path(layout, self), encode_request(request)));
    ::kill(supervisor, SIGUSR1);
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (auto text = read_small(reply_file)) {
            std::filesystem::remove(reply_file, ec);
            return parse_reply(*text);
        }
        if (!process_alive(supervisor)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::filesystem::remove(request_path(layout, self), ec);
    return error(errc::timed_out,
                 fmt::format("the cluster supervisor (pid {}) did not answer", supervisor));
}

}  // namespace gregor::cluster

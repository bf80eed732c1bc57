// The commands that ask the active controller over the brokers' HTTP listener
// (gregor.http.listener): `gregor cluster journal` (/api/journal) and `gregor cluster
// can-stop N` (/api/can-stop), as tables or as the JSON the broker serves.
#include "admin/commands.h"
#include "admin/commands_common.h"
#include "admin/errc.h"
#include "admin/http_get.h"
#include "cluster/state.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace gregor::admin {
namespace {

using detail::print;
using detail::report_error;

// The operator listeners to ask: --http, else every broker of --dir's cluster.
result<std::vector<std::string>> listeners_of(const common_options& common,
                                              const std::string& http) {
    std::vector<std::string> out;
    if (!http.empty()) {
        std::string_view rest = http;
        while (!rest.empty()) {
            auto comma = rest.find(',');
            out.emplace_back(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
        return out;
    }
    if (common.dir.empty()) {
        return error(errc::bad_usage,
                     "give --http host:port (a broker's gregor.http.listener) or --dir");
    }
    GREGOR_TRY(auto s, cluster::read_state(common.dir));
    for (const auto& b : s.brokers) {
        if (b.http_port != 0) {
            out.push_back(fmt::format("127.0.0.1:{}", b.http_port));
        }
    }
    if (out.empty()) {
        return error(errc::bad_usage, fmt::format("--dir {}: no broker serves HTTP", common.dir));
    }
    return out;
}

std::string query_of(const journal_options& o) {
    std::string q = fmt::format("/api/journal?limit={}", o.limit);
    if (!o.topic.empty()) {
        q += "&topic=" + o.topic;  // topic names are [a-zA-Z0-9._-]: nothing to escape
    }
    if (o.partition >= 0) {
        q += fmt::format("&partition={}", o.partition);
    }
    if (o.since_minutes > 0) {
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        q += fmt::format("&since={}", now - std::int64_t{o.since_minutes} * 60'000);
    }
    return q;
}

std::string clock_text(std::int64_t ms) {
    std::time_t secs = ms / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string ids(const nlohmann::json& a) {
    std::string out = "[";
    for (const auto& v : a) {
        out += (out.size() > 1 ? "," : "") + std::to_string(v.get<int>());
    }
    return out + "]";
}

std::string render_text(const nlohmann::json& doc) {
    std::string out = fmt::format("{:<6} {:<24} {:<24} {:<9} {:<20} {:<8} {}\n", "SEQ", "TIME",
                                  "PARTITION", "LEADER", "ISR", "EPOCHS", "REASON");
    for (const auto& d : doc.at("decisions")) {
        out += fmt::format(
            "{:<6} {:<24} {:<24} {:<9} {:<20} {:<8} {}{}\n", d.at("seq").get<std::uint64_t>(),
            clock_text(d.at("time_ms").get<std::int64_t>()),
            fmt::format("{}-{}", d.at("topic").get<std::string>(), d.at("partition").get<int>()),
            fmt::format("{}->{}", d.at("old_leader").get<int>(), d.at("new_leader").get<int>()),
            fmt::format("{}->{}", ids(d.at("old_isr")), ids(d.at("new_isr"))),
            fmt::format("{}/{}", d.at("leader_epoch").get<int>(),
                        d.at("controller_epoch").get<int>()),
            d.at("unclean").get<bool>() ? "UNCLEAN: " : "", d.at("reason").get<std::string>());
    }
    out += fmt::format("{} shown; the controller keeps the newest {} of {} decisions\n",
                       doc.at("decisions").size(), doc.at("kept").get<std::uint64_t>(),
                       doc.at("total").get<std::uint64_t>());
    return out;
}

// GETs `target` from the active controller: the first listener that answers 200 (the
// others answer 503); the body, parsed, must hold `field`.
result<std::pair<std::string, nlohmann::json>> ask_controller(const common_options& common,
                                                              const std::string& http,
                                                              const std::string& target,
                                                              const char* field) {
    GREGOR_TRY(auto where, listeners_of(common, http));
    std::string last = "no broker answered";
    for (const auto& hp : where) {
        auto r = http_get(hp, target, std::chrono::seconds(common.request_timeout_s));
        if (!r) {
            last = r.err().detail;
            continue;
        }
        if (r->status == 503) {
            last = fmt::format("{}: not the active controller", hp);
            continue;  // another broker is the controller
        }
        if (r->status != 200) {
            return error(errc::request_failed,
                         fmt::format("{} answered {}: {}", hp, r->status, r->body));
        }
        auto doc = nlohmann::json::parse(r->body, nullptr, false);
        if (doc.is_discarded() || !doc.contains(field)) {
            return error(errc::request_failed,
                         fmt::format("{}: unexpected answer {}", hp, r->body));
        }
        return std::pair{r->body, std::move(doc)};
    }
    return error(errc::connect_failed,
                 fmt::format("no active controller among {}: {}", fmt::join(where, ", "), last));
}

std::string render_can_stop(const nlohmann::json& doc) {
    const int broker = doc.at("broker").get<int>();
    const auto checked = doc.at("partitions_checked").get<std::uint64_t>();
    if (!doc.value("running", true)) {
        return fmt::format("broker {} is not running: stopping it changes nothing\n", broker);
    }
    if (doc.at("can_stop").get<bool>()) {
        return fmt::format(
            "broker {} can stop: each of its {} partitions keeps enough in-sync "
            "replicas\n",
            broker, checked);
    }
    std::string out = fmt::format(
        "broker {} cannot stop now: {} of its {} partitions would be "
        "hurt\n",
        broker, doc.at("blockers").size(), checked);
    for (const auto& b : doc.at("blockers")) {
        out += fmt::format("  {}-{}: {}\n", b.at("topic").get<std::string>(),
                           b.at("partition").get<int>(), b.at("reason").get<std::string>());
    }
    return out;
}

}  // namespace

int run_cluster_journal(const journal_options& o) {
    auto r = ask_controller(o.common, o.http, query_of(o), "decisions");
    if (!r) {
        return report_error("cluster journal", r.err());
    }
    try {
        print(o.common.output() == output_format::json ? r->first : render_text(r->second));
    } catch (const nlohmann::json::exception& e) {
        return report_error("cluster journal", error(errc::request_failed, e.what()));
    }
    return exit_ok;
}

int run_cluster_can_stop(const can_stop_options& o) {
    auto r = ask_controller(o.common, o.http, fmt::format("/api/can-stop?broker={}", o.broker),
                            "can_stop");
    if (!r) {
        return report_error("cluster can-stop", r.err());
    }
    try {
        print(o.common.output() == output_format::json ? r->first : render_can_stop(r->second));
        return r->second.at("can_stop").get<bool>() ? exit_ok : exit_cannot_stop;
    } catch (const nlohmann::json::exception& e) {
        return report_error("cluster can-stop", error(errc::request_failed, e.what()));
    }
}

std::optional<int> refuse_unsafe_stop(const std::string& dir, std::int32_t broker,
                                      std::string_view action) {
    const auto warn = [](const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); };
    common_options common;
    common.dir = dir;
    common.request_timeout_s = 10;
    auto r = ask_controller(common, "", fmt::format("/api/can-stop?broker={}", broker), "can_stop");
    if (!r) {
        // No answer is no evidence of danger (no HTTP listener, no controller yet): say so.
        warn(fmt::format(
            "gregor cluster {}: could not ask the controller whether broker {} can stop ({}); "
            "going ahead",
            action, broker, r.err().to_string()));
        return std::nullopt;
    }
    try {
        if (r->second.at("can_stop").get<bool>()) {
            return std::nullopt;
        }
        warn(fmt::format("gregor cluster {}: refused, {}Add --force to {} it anyway.", action,
                         render_can_stop(r->second), action));
        return exit_cannot_stop;
    } catch (const nlohmann::json::exception& e) {
        warn(fmt::format("gregor cluster {}: unexpected can-stop answer ({}); going ahead", action,
                         e.what()));
        return std::nullopt;
    }
}

}  // namespace gregor::admin

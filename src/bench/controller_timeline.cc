#include "bench/controller_timeline.h"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

namespace gregor::bench {
namespace {

constexpr std::string_view marker = "timeline ";
constexpr std::string_view mark_suffix = "_ms";

bool parse_int(std::string_view text, std::int64_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// One "timeline ..." message (the text after the marker); false if malformed.
bool parse_line(std::string_view text, controller_timeline& out) {
    std::istringstream words{std::string(text)};
    if (!(words >> out.kind) || out.kind.find('=') != std::string::npos) {
        return false;
    }
    std::string word;
    while (words >> word) {
        auto eq = word.find('=');
        if (eq == std::string::npos || eq == 0) {
            return false;
        }
        std::string key = word.substr(0, eq);
        std::string value = word.substr(eq + 1);
        if (ends_with(key, mark_suffix)) {
            std::int64_t ms = 0;
            if (!parse_int(value, ms)) {
                return false;
            }
            out.marks.emplace_back(key.substr(0, key.size() - mark_suffix.size()), ms);
        } else {
            out.labels[key] = value;
        }
    }
    return !out.marks.empty();
}

std::string label(const controller_timeline& t, const std::string& key) {
    auto it = t.labels.find(key);
    return it == t.labels.end() ? "?" : it->second;
}

std::string describe(const controller_timeline& t, const std::string& mark) {
    if (mark == "controller_gone_seen") {
        return "/controller deletion seen by the next controller";
    }
    if (mark == "elected") {
        return fmt::format("elected, epoch {}", label(t, "epoch"));
    }
    if (mark == "loaded") {
        return "state loaded from ZooKeeper";
    }
    if (mark == "noticed") {
        return t.kind == "controlled_shutdown"
                   ? fmt::format("controlled shutdown of broker {} requested", label(t, "broker"))
                   : fmt::format("death of broker {} seen", label(t, "brokers"));
    }
    if (mark == "written") {
        return "new leaders and ISRs written to ZooKeeper";
    }
    if (mark == "sent") {
        return "LeaderAndIsr and UpdateMetadata sent";
    }
    if (mark == "answered") {
        return "every broker answered them";
    }
    return mark;
}

}  // namespace

std::vector<controller_timeline> read_timelines(std::istream& log, std::int64_t not_before_ms) {
    std::vector<controller_timeline> out;
    std::string line;
    while (std::getline(log, line)) {
        auto at = line.find(marker);
        if (at == std::string::npos) {
            continue;
        }
        controller_timeline t;
        std::string_view rest(line);
        rest.remove_prefix(at + marker.size());
        if (parse_line(rest, t) && t.marks.front().second >= not_before_ms) {
            out.push_back(std::move(t));
        }
    }
    return out;
}

std::vector<phase> timeline_phases(const controller_timeline& t, std::int64_t killed_ms) {
    std::vector<phase> out;
    for (const auto& [mark, ms] : t.marks) {
        out.push_back({"controller: " + describe(t, mark), static_cast<double>(ms - killed_ms)});
    }
    return out;
}

}  // namespace gregor::bench

#include "bench/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::bench {
namespace {

constexpr double ns_per_ms = 1e6;

double ms(std::uint64_t ns) {
    return static_cast<double>(ns) / ns_per_ms;
}

// Integers print without a fraction, rates and times with up to three decimals.
std::string number(double v) {
    if (v == static_cast<double>(static_cast<std::int64_t>(v)) && v < 1e15 && v > -1e15) {
        return fmt::format("{}", static_cast<std::int64_t>(v));
    }
    return fmt::format("{:.3f}", v);
}

nlohmann::ordered_json json_number(double v) {
    if (v == static_cast<double>(static_cast<std::int64_t>(v)) && v < 1e15 && v > -1e15) {
        return static_cast<std::int64_t>(v);
    }
    return v;
}

nlohmann::ordered_json figures_json(const std::vector<figure>& fs) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& f : fs) {
        j[f.key] = json_number(f.value);
    }
    return j;
}

void figures_text(std::string& out, const std::vector<figure>& fs) {
    for (const auto& f : fs) {
        out += fmt::format("  {:<34} {:>16} {}\n", f.key, number(f.value), f.unit);
    }
}

void latency_text(std::string& out, const latency_summary& l) {
    out += fmt::format("{} ({} samples)\n", l.key, l.count);
    out +=
        fmt::format("  {:>10} {:>10} {:>10} {:>10} {:>10}\n", "p50", "p99", "p99.9", "max", "mean");
    out += fmt::format("  {:>10.3f} {:>10.3f} {:>10.3f} {:>10.3f} {:>10.3f}\n", l.p50_ms, l.p99_ms,
                       l.p999_ms, l.max_ms, l.mean_ms);
}

}  // namespace

std::vector<figure> rate_figures(std::int64_t records, std::int64_t bytes, double seconds) {
    double s = std::max(seconds, 1e-9);
    return {{"records", static_cast<double>(records), "records"},
            {"elapsed_s", seconds, "s"},
            {"records_per_s", static_cast<double>(records) / s, "records/s"},
            {"mb_per_s", static_cast<double>(bytes) / 1e6 / s, "MB/s"}};
}

latency_summary summarize(std::string key, const histogram& h) {
    latency_summary s;
    s.key = std::move(key);
    s.count = h.count();
    if (h.count() > 0) {
        s.p50_ms = ms(h.percentile(50));
        s.p99_ms = ms(h.percentile(99));
        s.p999_ms = ms(h.percentile(99.9));
        s.max_ms = ms(h.max());
        s.mean_ms = h.mean() / ns_per_ms;
    }
    return s;
}

nlohmann::ordered_json to_json(const report& r) {
    nlohmann::ordered_json j;
    j["workload"] = r.workload;
    j["ok"] = r.failure.empty();
    if (!r.failure.empty()) {
        j["failure"] = r.failure;
    }
    j["parameters"] = r.parameters;
    j["results"] = figures_json(r.results);
    if (r.latency) {
        const auto& l = *r.latency;
        j["latency"] = {{"name", l.key},   {"unit", "ms"},     {"count", l.count},
                        {"p50", l.p50_ms}, {"p99", l.p99_ms},  {"p99_9", l.p999_ms},
                        {"max", l.max_ms}, {"mean", l.mean_ms}};
    }
    if (r.limits) {
        j["limits"] = limits_to_json(*r.limits);
    }
    j["ratios"] = figures_json(r.ratios);
    j["phases"] = nlohmann::ordered_json::array();
    for (const auto& p : r.phases) {
        j["phases"].push_back({{"name", p.name}, {"at_ms", p.at_ms}});
    }
    j["notes"] = r.notes;
    return j;
}

std::string to_text(const report& r) {
    std::string out = fmt::format("gregor bench {}\n", r.workload);
    for (const auto& [k, v] : r.parameters.items()) {
        out += fmt::format("  {:<34} {}\n", k, v.is_string() ? v.get<std::string>() : v.dump());
    }
    if (!r.results.empty()) {
        out += "results\n";
        figures_text(out, r.results);
    }
    if (r.latency) {
        latency_text(out, *r.latency);
    }
    if (!r.phases.empty()) {
        out += "phases (ms after the kill command started)\n";
        for (const auto& p : r.phases) {
            out += fmt::format("  {:<44} {:>10.1f}\n", p.name, p.at_ms);
        }
    }
    if (r.limits) {
        out += "machine limits\n";
        figures_text(out, limit_figures(*r.limits));
    }
    if (!r.ratios.empty()) {
        out += "ratio to the machine's limits\n";
        figures_text(out, r.ratios);
    }
    for (const auto& n : r.notes) {
        out += fmt::format("note: {}\n", n);
    }
    return out;
}

}  // namespace gregor::bench

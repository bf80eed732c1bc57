// report: what one bench run measured, printed as a table or as one JSON object.
//
// Every workload returns a report: its parameters, its figures (records/s, MB/s, ...), an
// optional latency summary from a histogram, the machine's limits and the ratios of the
// figures to them, and for failover the phases with their times. MB means 10^6 bytes.
// Plain value type.
#pragma once

#include "bench/figure.h"
#include "bench/histogram.h"
#include "bench/limits.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace gregor::bench {

struct latency_summary {
    std::string key;  // "ack_latency_ms" or "e2e_latency_ms"
    std::uint64_t count = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double p999_ms = 0;
    double max_ms = 0;
    double mean_ms = 0;
};

// Summarises a histogram of nanoseconds in milliseconds.
latency_summary summarize(std::string key, const histogram& h);

struct phase {
    std::string name;
    double at_ms = 0;  // since the kill command started
};

struct report {
    std::string workload;
    nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
    std::vector<figure> results;
    std::optional<latency_summary> latency;
    std::optional<machine_limits> limits;
    std::vector<figure> ratios;
    std::vector<phase> phases;
    std::vector<std::string> notes;
    std::string failure;  // non-empty: the run completed badly (printed, exit code 1)
};

// records, elapsed_s, records_per_s and mb_per_s (of record values) for `records` records
// holding `bytes` bytes of values, in `seconds`.
std::vector<figure> rate_figures(std::int64_t records, std::int64_t bytes, double seconds);

// {"workload", "parameters", "results", "latency"?, "limits"?, "ratios", "phases", "notes"}
nlohmann::ordered_json to_json(const report& r);
// A human-readable summary table, one figure per line.
std::string to_text(const report& r);

}  // namespace gregor::bench

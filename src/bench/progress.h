// progress: the one-line "rate, elapsed, ETA" display while a workload runs.
//
// Shown only when stdout is a terminal; each update rewrites the line with \r, and
// finish() clears it so the summary starts on a clean line. Called from the workload's
// main thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace gregor::bench {

class progress {
public:
    // `unit` names what is counted ("records"); `total` (if known) gives the ETA.
    progress(std::string unit, std::optional<std::int64_t> total, std::optional<double> duration_s);
    ~progress();
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    // Redraws the line if at least the refresh interval passed since the last time.
    void update(std::int64_t done);
    void finish();

    // The text of one line (exposed for tests).
    static std::string line(const std::string& unit, std::int64_t done, double elapsed_s,
                            double rate, std::optional<double> eta_s);

private:
    std::string unit_;
    std::optional<std::int64_t> total_;
    std::optional<double> duration_s_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
    std::int64_t last_done_ = 0;
};

}  // namespace gregor::bench

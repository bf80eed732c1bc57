#include "bench/progress.h"

#include <fmt/format.h>

#include <cstdio>
#include <unistd.h>

namespace gregor::bench {
namespace {
constexpr auto refresh_interval = std::chrono::milliseconds(250);
}  // namespace

progress::progress(std::string unit, std::optional<std::int64_t> total,
                   std::optional<double> duration_s)
    : unit_(std::move(unit)),
      total_(total),
      duration_s_(duration_s),
      enabled_(::isatty(STDOUT_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

progress::~progress() {
    finish();
}

std::string progress::line(const std::string& unit, std::int64_t done, double elapsed_s,
                           double rate, std::optional<double> eta_s) {
    std::string eta = eta_s ? fmt::format("{:.0f} s", *eta_s) : std::string("?");
    return fmt::format("{} {}  {:.0f} {}/s  elapsed {:.1f} s  ETA {}", done, unit, rate, unit,
                       elapsed_s, eta);
}

void progress::update(std::int64_t done) {
    if (!enabled_) {
        return;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < refresh_interval) {
        return;
    }
    double interval_s = std::chrono::duration<double>(now - last_draw_).count();
    double elapsed_s = std::chrono::duration<double>(now - start_).count();
    double rate = static_cast<double>(done - last_done_) / interval_s;
    std::optional<double> eta;
    if (total_ && rate > 0) {
        eta = static_cast<double>(*total_ - done) / rate;
    } else if (duration_s_) {
        eta = std::max(0.0, *duration_s_ - elapsed_s);
    }
    std::fprintf(stdout, "\r\033[K%s", line(unit_, done, elapsed_s, rate, eta).c_str());
    std::fflush(stdout);
    drawn_ = true;
    last_draw_ = now;
    last_done_ = done;
}

void progress::finish() {
    if (drawn_) {
        std::fprintf(stdout, "\r\033[K");
        std::fflush(stdout);
        drawn_ = false;
    }
}

}  // namespace gregor::bench

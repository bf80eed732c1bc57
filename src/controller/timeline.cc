#include "controller/timeline.h"

#include <fmt/format.h>

namespace gregor::controller {

timeline::timeline(std::string kind, std::string labels)
    : kind_(std::move(kind)), labels_(std::move(labels)) {}

void timeline::mark_at(std::string_view name, time_point at) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
    marks_.emplace_back(std::string(name), static_cast<std::int64_t>(ms.count()));
}

void timeline::count(std::string_view name, std::size_t n) {
    counts_.emplace_back(std::string(name), n);
}

std::string timeline::line() const {
    std::string out = fmt::format("timeline {}", kind_);
    if (!labels_.empty()) {
        out += ' ';
        out += labels_;
    }
    for (const auto& [name, ms] : marks_) {
        out += fmt::format(" {}_ms={}", name, ms);
    }
    for (const auto& [name, n] : counts_) {
        out += fmt::format(" {}={}", name, n);
    }
    return out;
}

void answer_tracker::answered(bool ok) {
    if (pending_ == 0) {
        return;
    }
    --pending_;
    if (!ok) {
        ++failed_;
    }
    maybe_done();
}

void answer_tracker::close() {
    closed_ = true;
    maybe_done();
}

void answer_tracker::maybe_done() {
    if (closed_ && pending_ == 0 && !fired_) {
        fired_ = true;
        if (done_) {
            done_(requests_, failed_);
        }
    }
}

}  // namespace gregor::controller

#include "metrics/quantiles.h"

#include <algorithm>
#include <cmath>

namespace gregor::metrics {
namespace {
constexpr double lowest_ms = 0.001;  // bucket 0 holds everything up to 1 us
constexpr double ratio = 1.05;
const double log_ratio = std::log(ratio);
}  // namespace

std::size_t windowed_quantiles::bucket_of(double ms) {
    if (!(ms > lowest_ms)) {  // also NaN
        return 0;
    }
    auto b = static_cast<std::size_t>(std::log(ms / lowest_ms) / log_ratio) + 1;
    return std::min(b, buckets - 1);
}

double windowed_quantiles::value_of(std::size_t bucket) {
    if (bucket == 0) {
        return lowest_ms;
    }
    // Bucket b holds (lowest * ratio^(b-1), lowest * ratio^b].
    return lowest_ms * std::pow(ratio, static_cast<double>(bucket) - 0.5);
}

std::int64_t windowed_quantiles::minute_of(clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() /
           slot_length.count();
}

void windowed_quantiles::record(double ms, clock::time_point now) {
    const std::int64_t minute = minute_of(now);
    slot& s = slots_[static_cast<std::size_t>(minute) % slots];
    if (s.minute != minute) {
        s.minute = minute;
        s.total = 0;
        s.counts.fill(0);
    }
    ++s.counts[bucket_of(ms)];
    ++s.total;
    ++count_;
}

std::vector<double> windowed_quantiles::quantiles(std::span<const double> qs,
                                                  clock::time_point now) const {
    const std::int64_t minute = minute_of(now);
    std::array<std::uint64_t, buckets> merged{};
    std::uint64_t total = 0;
    for (const slot& s : slots_) {
        if (s.minute >= 0 && s.minute > minute - static_cast<std::int64_t>(slots) &&
            s.minute <= minute) {
            for (std::size_t b = 0; b < buckets; ++b) {
                merged[b] += s.counts[b];
            }
            total += s.total;
        }
    }
    std::vector<double> out(qs.size(), 0.0);
    if (total == 0) {
        return out;
    }
    for (std::size_t i = 0; i < qs.size(); ++i) {
        // The smallest value with at least q of the values at or below it.
        const double q = std::clamp(qs[i], 0.0, 1.0);
        const auto rank = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))));
        std::uint64_t seen = 0;
        for (std::size_t b = 0; b < buckets; ++b) {
            seen += merged[b];
            if (seen >= rank) {
                out[i] = value_of(b);
                break;
            }
        }
    }
    return out;
}

}  // namespace gregor::metrics

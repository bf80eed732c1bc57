// timeline: the wall-clock marks of one controller round (a failover, a broker failure, a
// controlled shutdown), logged as one structured line when the round's requests have all been
// answered, so that `gregor bench failover --cluster-dir` can place the controller's internal
// phases beside what clients saw:
//
//   timeline failover epoch=7 controller_gone_seen_ms=1763737200123 elected_ms=...
//            loaded_ms=... written_ms=... sent_ms=... answered_ms=... requests=9 failed=0
//
// Marks (the `_ms` keys) are Unix milliseconds (system_clock) so that another process on the same machine can
// compare them with its own clock. Loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gregor::controller {

class timeline {
public:
    using time_point = std::chrono::system_clock::time_point;

    // `kind` is the first word ("failover"); `labels` follow it verbatim ("epoch=7").
    timeline(std::string kind, std::string labels);

    void mark(std::string_view name) { mark_at(name, std::chrono::system_clock::now()); }
    void mark_at(std::string_view name, time_point at);
    void count(std::string_view name, std::size_t n);
    // "timeline <kind> <labels> name_ms=ms ... name=n ..." (marks in the order made).
    std::string line() const;
    const std::string& kind() const { return kind_; }
    // (name, Unix ms) in the order made.
    const std::vector<std::pair<std::string, std::int64_t>>& marks() const { return marks_; }

private:
    std::string kind_;
    std::string labels_;
    std::vector<std::pair<std::string, std::int64_t>> marks_;
    std::vector<std::pair<std::string, std::size_t>> counts_;
};

// Counts the answers to the requests of one round: `expect()` once per request handed to a
// channel, `answered(ok)` once per completion, `close()` after the last send. `done` runs
// once, when the round is closed and every request has completed (ok or not).
class answer_tracker {
public:
    using done_fn = std::function<void(std::size_t requests, std::size_t failed)>;
    explicit answer_tracker(done_fn done) : done_(std::move(done)) {}

    void expect() { ++pending_, ++requests_; }
    void answered(bool ok);
    void close();

private:
    void maybe_done();

    done_fn done_;
    std::size_t pending_ = 0;
    std::size_t requests_ = 0;
    std::size_t failed_ = 0;
    bool closed_ = false;
    bool fired_ = false;
};

}  // namespace gregor::controller

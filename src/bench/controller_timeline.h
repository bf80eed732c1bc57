// controller_timeline: the controller's own view of a failover, read from its log.
//
// After a failover, a broker failure or a controlled shutdown the controller logs one line
//   timeline <kind> <label>=<v> ... <mark>_ms=<unix ms> ... <count>=<n> ...
// once every broker has answered the round's requests (src/controller/timeline.h). With
// --cluster-dir (a `gregor cluster up` directory), `gregor bench failover` reads these lines
// from <dir>/broker-<controller>/broker.log and reports each mark as a phase beside the ones
// it saw from outside, counted from the kill on the same clock. Plain functions.
#pragma once

#include "bench/report.h"

#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gregor::bench {

struct controller_timeline {
    std::string kind;                                     // failover, broker_failure, ...
    std::map<std::string, std::string> labels;            // epoch=7, brokers=2, ...
    std::vector<std::pair<std::string, std::int64_t>> marks;  // name (without _ms), unix ms
};

// Every well-formed timeline line in `log` whose first mark is at or after `not_before_ms`.
std::vector<controller_timeline> read_timelines(std::istream& log, std::int64_t not_before_ms);

// The marks of `t` as phases named "controller: <what>", at_ms counted from `killed_ms`.
std::vector<phase> timeline_phases(const controller_timeline& t, std::int64_t killed_ms);

}  // namespace gregor::bench

// figure: one named measurement with its unit, the row of every report table.
#pragma once

#include <string>

namespace gregor::bench {

struct figure {
    std::string key;  // JSON key, e.g. "records_per_s"
    double value = 0;
    std::string unit;  // for the table, e.g. "records/s"
};

}  // namespace gregor::bench

// Java-style .properties parsing, as Kafka's server.properties uses it.
//
// Supports `key=value`, `key: value` and `key value`, `#`/`!` comment lines, blank lines,
// backslash line continuation, and the escapes \t \n \r \\ \= \: \uXXXX. Keys keep the line
// they came from so configuration errors can point at it. Pure functions; any thread.
#pragma once

#include "base/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace gregor::broker {

struct property {
    std::string key;
    std::string value;
    int line = 0;  // 1-based line of the key in its source; 0 for --set overrides
};

// Parses the text of a properties file. Returns the entries in file order (a key may
// repeat; the last one wins when applied), or an error naming the bad line.
result<std::vector<property>> parse_properties(std::string_view text);

// Parses one `key=value` override as given to `--set`.
result<property> parse_override(std::string_view text);

}  // namespace gregor::broker

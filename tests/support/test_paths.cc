#include "support/test_paths.h"

#include <deque>
#include <mutex>
#include <string>

namespace gregor::test {

const char* source_path(const char* relative) {
    static std::mutex mu;
    static std::deque<std::string> paths;  // a deque never moves its elements
    std::lock_guard lock(mu);
    return paths.emplace_back(std::string(GREGOR_SOURCE_DIR_VALUE) + "/" + relative).c_str();
}

const char* gregor_binary_path() {
    return GREGOR_BINARY_VALUE;
}

}  // namespace gregor::test
